use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Int, Tensor};

use super::embeddings::BertEmbeddings;
use super::head::BertOnlyMLMHead;
use super::layer::BertEncoder;
use super::layout::linear_rows;
use super::precision;
use crate::config::BertConfig;

/// What a forward pass should keep besides the final output.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputOptions {
    pub hidden_states: bool,
    pub attentions: bool,
}

impl OutputOptions {
    pub const ALL: Self = Self {
        hidden_states: true,
        attentions: true,
    };
    pub const NONE: Self = Self {
        hidden_states: false,
        attentions: false,
    };
}

/// Output of [`BertModel::forward`].
#[derive(Debug)]
pub struct BertModelOutput {
    /// `[batch, seq, hidden]` after the last layer.
    pub last_hidden_state: Tensor<3>,
    /// Embeddings output then each layer's output (`num_layers + 1` tensors), if asked for.
    pub hidden_states: Vec<Tensor<3>>,
    /// Each layer's attention probabilities `[batch, heads, seq, seq]`, if asked for.
    pub attentions: Vec<Tensor<4>>,
}

/// The encoder without a pooler (`BertModel(config, add_pooling_layer=False)`); the
/// sequence classifier holds its `BertPooler` beside it. The same computation serves
/// `RobertaModel`, `DistilBertModel`, `AlbertModel` and `ElectraModel`: what differs is in
/// the embeddings, the projection and the layer schedule (`config/family.rs`), and in the
/// names (`names/`).
#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: BertEmbeddings,
    /// ALBERT's `embedding_hidden_mapping_in`, ELECTRA's `embeddings_project`:
    /// `embedding_size` → `hidden_size`.
    pub projection: Option<Linear>,
    pub encoder: BertEncoder,
}

impl BertModel {
    /// `attention_mask` is 1 for real tokens and 0 for padding, `[batch, seq]`; `None` when
    /// every token is real.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        attention_mask: Option<Tensor<2>>,
        options: OutputOptions,
    ) -> BertModelOutput {
        let [batch, seq] = input_ids.dims();
        let mut embedded = self.embeddings.forward(input_ids, token_type_ids);
        if let Some(projection) = &self.projection {
            embedded = linear_rows(projection, embedded);
        }
        // transformers' eager path: (1 - mask) * finfo(dtype).min, added to the scores, in
        // the model's float type (f16 for inference on GPUs that have it).
        let dtype = embedded.dtype();
        let additive_mask = attention_mask.map(|mask| {
            (mask.cast(dtype).neg() + 1.0).reshape([batch, 1, 1, seq])
                * precision::most_negative(dtype)
        });

        // Training runs the layers in transformers' layout, tokens as rows. Inference runs
        // them with tokens as columns (`[batch, hidden, seq]`), where attention needs no
        // head split/merge copies and linear layers tile the width (`layout.rs`): on WebGPU
        // the forward pass has no copy kernel between its matmuls. Both give the same
        // numbers; outputs are handed back as `[batch, seq, hidden]` views either way.
        let columns = !embedded.is_tracked();
        let mut hidden = if columns {
            embedded.swap_dims(1, 2)
        } else {
            embedded
        };
        let as_rows = |h: &Tensor<3>| {
            if columns {
                h.clone().swap_dims(1, 2)
            } else {
                h.clone()
            }
        };
        let mut hidden_states = Vec::new();
        let mut attentions = Vec::new();
        for layer in self.encoder.steps() {
            if options.hidden_states {
                hidden_states.push(as_rows(&hidden));
            }
            let (next, probs) = if columns {
                layer.forward_columns(hidden, additive_mask.clone())
            } else {
                layer.forward(hidden, additive_mask.clone())
            };
            if options.attentions {
                attentions.push(probs);
            }
            hidden = next;
        }
        if options.hidden_states {
            hidden_states.push(as_rows(&hidden));
        }
        BertModelOutput {
            last_hidden_state: as_rows(&hidden),
            hidden_states,
            attentions,
        }
    }
}

/// Output of [`BertForMaskedLM::forward`].
#[derive(Debug)]
pub struct MaskedLmOutput {
    /// `[batch, seq, vocab]`.
    pub logits: Tensor<3>,
    pub hidden_states: Vec<Tensor<3>>,
    pub attentions: Vec<Tensor<4>>,
}

/// BERT with its masked-language-model head.
#[derive(Module, Debug)]
pub struct BertForMaskedLM {
    pub bert: BertModel,
    pub cls: BertOnlyMLMHead,
    #[module(skip)]
    pub config: BertConfig,
}

impl BertForMaskedLM {
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// Logits for every position.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        attention_mask: Option<Tensor<2>>,
        options: OutputOptions,
    ) -> MaskedLmOutput {
        let out = self
            .bert
            .forward(input_ids, token_type_ids, attention_mask, options);
        MaskedLmOutput {
            logits: self.mlm_logits(out.last_hidden_state),
            hidden_states: out.hidden_states,
            attentions: out.attentions,
        }
    }

    /// Runs the MLM head on any hidden rows `[.., hidden]` → `[.., vocab]`, so callers
    /// can project only the positions they need (masks), not the whole sequence.
    pub fn mlm_logits<const D: usize>(&self, hidden: Tensor<D>) -> Tensor<D> {
        let word_embeddings = self.bert.embeddings.word_embeddings.weight.val();
        self.cls.predictions.forward(hidden, word_embeddings)
    }
}
