//! The task heads of `modeling_bert.py`: `BertForSequenceClassification` (pooler →
//! dropout → `classifier`) and `BertForTokenClassification` (dropout → `classifier` on
//! every token). Dropout is identity here (inference, and training as this project's MLM
//! training does: without dropout).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Int, Tensor};

use super::bert::{BertModel, OutputOptions};
use super::init::{NamedTensor, NamedTensors, WeightSource, linear};
use super::names::TensorNames;
use super::pooler::BertPooler;
use crate::config::BertConfig;
use crate::error::Result;

/// Logits and what the encoder was asked to keep.
#[derive(Debug)]
pub struct ClassifierOutput<const D: usize> {
    /// `[batch, labels]` (sequence) or `[batch, seq, labels]` (token).
    pub logits: Tensor<D>,
    pub hidden_states: Vec<Tensor<3>>,
    pub attentions: Vec<Tensor<4>>,
}

/// One label per text (or pair), from the pooled `[CLS]`. transformers keeps the pooler
/// inside its `BertModel` (`bert.pooler`, the name it is saved under); here it sits beside
/// the encoder, so this head cannot exist without one.
#[derive(Module, Debug)]
pub struct BertForSequenceClassification {
    pub bert: BertModel,
    pub pooler: BertPooler,
    pub classifier: Linear,
    #[module(skip)]
    pub config: BertConfig,
}

/// One label per token.
#[derive(Module, Debug)]
pub struct BertForTokenClassification {
    pub bert: BertModel,
    pub classifier: Linear,
    #[module(skip)]
    pub config: BertConfig,
}

/// Their parameters under Hugging Face names, as `save_pretrained` writes them.
fn named(
    config: &BertConfig,
    bert: &BertModel,
    pooler: Option<&BertPooler>,
    classifier: &Linear,
) -> Vec<NamedTensor> {
    let mut named = NamedTensors::default();
    named.encoder(bert, &TensorNames::of(config));
    if let Some(pooler) = pooler {
        named.linear("bert.pooler.dense", &pooler.dense);
    }
    named.linear("classifier", classifier);
    named.0
}

impl BertForSequenceClassification {
    /// Builds the model (encoder, pooler, classifier) from `src` by Hugging Face names.
    pub fn from_source<S: WeightSource>(config: &BertConfig, src: &mut S) -> Result<Self> {
        let labels = config.validate_labels()?;
        let h = config.hidden_size;
        let bert = BertModel::from_source(config, src)?;
        Ok(Self {
            bert,
            pooler: BertPooler {
                dense: linear(src, "bert.pooler.dense", h, h)?,
            },
            classifier: linear(src, "classifier", h, labels)?,
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// `[batch, labels]` logits.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        attention_mask: Option<Tensor<2>>,
        options: OutputOptions,
    ) -> ClassifierOutput<2> {
        let out = self
            .bert
            .forward(input_ids, token_type_ids, attention_mask, options);
        ClassifierOutput {
            logits: self
                .classifier
                .forward(self.pooler.forward(out.last_hidden_state)),
            hidden_states: out.hidden_states,
            attentions: out.attentions,
        }
    }

    /// Every parameter under its Hugging Face name (as `save_pretrained` writes them).
    pub fn named_tensors(&self) -> Vec<NamedTensor> {
        named(
            &self.config,
            &self.bert,
            Some(&self.pooler),
            &self.classifier,
        )
    }
}

impl BertForTokenClassification {
    /// Builds the model (encoder without pooler, classifier) from `src`.
    pub fn from_source<S: WeightSource>(config: &BertConfig, src: &mut S) -> Result<Self> {
        let labels = config.validate_labels()?;
        let bert = BertModel::from_source(config, src)?;
        Ok(Self {
            bert,
            classifier: linear(src, "classifier", config.hidden_size, labels)?,
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// `[batch, seq, labels]` logits.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        attention_mask: Option<Tensor<2>>,
        options: OutputOptions,
    ) -> ClassifierOutput<3> {
        let out = self
            .bert
            .forward(input_ids, token_type_ids, attention_mask, options);
        ClassifierOutput {
            logits: self.classifier.forward(out.last_hidden_state),
            hidden_states: out.hidden_states,
            attentions: out.attentions,
        }
    }

    pub fn named_tensors(&self) -> Vec<NamedTensor> {
        named(&self.config, &self.bert, None, &self.classifier)
    }
}
