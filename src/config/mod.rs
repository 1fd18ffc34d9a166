//! `config.json` of a Hugging Face BERT checkpoint (transformers 4 and 5).
//!
//! Unknown keys are ignored; a missing key takes the default that `BertConfig` in
//! transformers gives it, so any published BERT config loads as transformers would.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{BertError, Result};

mod family;
mod labels;
mod shape;

pub use family::{Family, HeadActivation, SUPPORTED_MODEL_TYPES};
pub use labels::{MAX_LABELS, Task};

/// The activation named by `hidden_act`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HiddenAct {
    /// `gelu`: the exact form, `x * Φ(x)` with erf.
    Gelu,
    /// `gelu_new` / `gelu_pytorch_tanh` / `gelu_fast`: the tanh approximation.
    GeluTanh,
    Relu,
    /// `silu` / `swish`.
    Silu,
}

impl HiddenAct {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "gelu" | "gelu_python" => Ok(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Self::GeluTanh),
            "relu" => Ok(Self::Relu),
            "silu" | "swish" => Ok(Self::Silu),
            other => Err(BertError::Config(format!(
                "hidden_act `{other}` is not supported (use gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu or silu)"
            ))),
        }
    }
}

/// The fields of transformers' `BertConfig` that change the computation, plus the
/// bookkeeping fields we write back so transformers recognises a saved model.
/// A key missing from `config.json` takes its value from `Default`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BertConfig {
    pub architectures: Vec<String>,
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: String,
    pub hidden_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub initializer_range: f64,
    pub layer_norm_eps: f64,
    pub pad_token_id: Option<usize>,
    pub position_embedding_type: String,
    pub tie_word_embeddings: bool,
    /// Task heads: label names by id (`"0": "negative"`), as transformers writes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id2label: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label2id: Option<BTreeMap<String, usize>>,
    /// A count of labels without names (transformers accepts it as a keyword).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_labels: Option<usize>,
    /// Only `single_label_classification` is supported (softmax over the labels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem_type: Option<String>,
    /// Dropout before the classifier; `None`: `hidden_dropout_prob` (transformers' rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier_dropout: Option<f64>,
    /// ALBERT, ELECTRA: the width of the embeddings, projected to `hidden_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_size: Option<usize>,
    /// ALBERT: the layers stored, in groups; layer `i` runs group `i / (layers / groups)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_hidden_groups: Option<usize>,
    /// ALBERT: layers in each group, all run in turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_group_num: Option<usize>,
    /// DistilBERT: the position table was made sinusoidal (it is stored all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sinusoidal_pos_embds: Option<bool>,
    /// Every other key of `config.json` (token ids, dropout names…), written back as read.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for BertConfig {
    fn default() -> Self {
        // Exactly `BertConfig()` in transformers.
        Self {
            architectures: vec!["BertForMaskedLM".into()],
            model_type: "bert".into(),
            vocab_size: 30522,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            initializer_range: 0.02,
            layer_norm_eps: 1e-12,
            pad_token_id: Some(0),
            position_embedding_type: "absolute".into(),
            tie_word_embeddings: true,
            id2label: None,
            label2id: None,
            num_labels: None,
            problem_type: None,
            classifier_dropout: None,
            embedding_size: None,
            num_hidden_groups: None,
            inner_group_num: None,
            sinusoidal_pos_embds: None,
            extra: BTreeMap::new(),
        }
    }
}

/// The largest model this program agrees to build: 2³¹ parameters (8 GiB in f32; bert-large
/// has 0.34 G). A mistyped or damaged size field would otherwise ask for more memory than a
/// browser or most machines have, and a failed allocation aborts instead of reporting.
pub const MAX_PARAMETERS: f64 = 2_147_483_648.0;

/// The most layers one forward pass runs (ALBERT shares a few stored layers among many
/// steps; the largest published models run 48).
pub const MAX_LAYERS_RUN: usize = 1024;

impl BertConfig {
    /// Parses and validates `config.json`.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| BertError::Config(e.to_string()))?;
        let serde_json::Value::Object(object) = value else {
            return Err(BertError::Config("expected a JSON object".into()));
        };
        let (_, mut object) = Family::normalise(object)?;
        // Which weights the file holds is the file's business, not the config's.
        for key in ["dtype", "torch_dtype", "transformers_version"] {
            object.remove(key);
        }
        // The path names the offending key: "hidden_size: invalid type: string ...".
        let config: BertConfig =
            serde_path_to_error::deserialize(serde_json::Value::Object(object))
                .map_err(|e| BertError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks a sequence of `len` tokens ([CLS] and [SEP] included) against the model's
    /// positions; `min` is the shortest the caller can use.
    pub fn check_sequence_length(&self, len: usize, min: usize) -> Result<()> {
        let max = self.max_tokens();
        if len < min || len > max {
            return Err(BertError::Input(format!(
                "a sequence of {len} tokens does not fit: it must be between {min} and the {max} positions the model has"
            )));
        }
        Ok(())
    }

    /// `config.json` as transformers writes it for this family (DistilBERT's own key names).
    pub fn to_json(&self) -> String {
        // Plain numbers, strings and lists: serialisation cannot fail.
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let serde_json::Value::Object(object) = &mut value {
            self.family().denormalise(object);
        }
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// Rejects configurations this implementation cannot compute exactly.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(BertError::Config(m));
        let family = Family::from_model_type(&self.model_type)?;
        let type_vocab = if family.has_token_types() {
            self.type_vocab_size
        } else {
            1
        };
        for (name, value) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", type_vocab),
            ("embedding_size", self.embedding_size.unwrap_or(1)),
            ("num_hidden_groups", self.num_hidden_groups.unwrap_or(1)),
            ("inner_group_num", self.inner_group_num.unwrap_or(1)),
        ] {
            if value == 0 {
                return err(format!("{name} must be positive"));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.position_embedding_type != "absolute" {
            return err(format!(
                "position_embedding_type `{}` is not supported (only `absolute`)",
                self.position_embedding_type
            ));
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return err("layer_norm_eps must be a positive number".into());
        }
        if !(self.initializer_range >= 0.0 && self.initializer_range.is_finite()) {
            return err("initializer_range must be a number ≥ 0".into());
        }
        for (name, p) in [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "attention_probs_dropout_prob",
                self.attention_probs_dropout_prob,
            ),
        ] {
            if !(0.0..1.0).contains(&p) {
                return err(format!("{name} must be in [0, 1), not {p}"));
            }
        }
        HiddenAct::parse(&self.hidden_act)?;
        if family == Family::Albert {
            let groups = self.num_hidden_groups.unwrap_or(1);
            if groups > self.num_hidden_layers || !self.num_hidden_layers.is_multiple_of(groups) {
                return err(format!(
                    "num_hidden_groups {groups} must divide num_hidden_layers {} \
                     (transformers' ALBERT runs group i / (layers / groups) at layer i)",
                    self.num_hidden_layers
                ));
            }
        }
        // ALBERT runs its few stored layers many times: the parameter count does not bound
        // the work, so the number of layers run is bounded on its own.
        if self.layers_run() > MAX_LAYERS_RUN {
            return err(format!(
                "a forward pass would run {} layers (num_hidden_layers {} × inner_group_num {}), \
                 more than the {MAX_LAYERS_RUN} this program runs: is one of these fields mistyped?",
                self.layers_run(),
                self.num_hidden_layers,
                self.inner_group_num.unwrap_or(1)
            ));
        }
        if self.max_tokens() < 2 {
            return err(format!(
                "max_position_embeddings {} leaves no room for a sequence after padding_idx {:?}",
                self.max_position_embeddings, self.pad_token_id
            ));
        }
        if family.positions_after_padding() && self.pad_token_id.is_none() {
            return err(format!(
                "a `{}` config needs pad_token_id: its positions count from it",
                self.model_type
            ));
        }
        let parameters = self.parameter_count();
        if parameters > MAX_PARAMETERS {
            return err(format!(
                "it describes a model of {parameters:.3e} parameters (vocab_size {}, hidden_size {}, \
                 num_hidden_layers {}, intermediate_size {}, max_position_embeddings {}, \
                 type_vocab_size {}), more than the 2³¹ this program builds: \
                 is one of these fields mistyped?",
                self.vocab_size,
                self.hidden_size,
                self.num_hidden_layers,
                self.intermediate_size,
                self.max_position_embeddings,
                self.type_vocab_size
            ));
        }
        Ok(())
    }

    pub fn act(&self) -> HiddenAct {
        HiddenAct::parse(&self.hidden_act).unwrap_or(HiddenAct::Gelu)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

#[cfg(test)]
mod tests {
    use super::BertConfig;

    #[test]
    fn bert_base_has_its_published_parameter_count() {
        // transformers' BertForMaskedLM of the default config, tied: 109,514,298.
        assert_eq!(BertConfig::default().parameter_count(), 109_514_298.0);
    }

    #[test]
    fn task_models_count_their_heads_as_transformers_does() {
        // Measured with torch: BertForSequenceClassification (2 labels, with the pooler) and
        // BertForTokenClassification (9 labels, no pooler) of the default config.
        let sequence = BertConfig {
            architectures: vec!["BertForSequenceClassification".into()],
            ..BertConfig::default()
        };
        assert_eq!(sequence.parameter_count(), 109_483_778.0);
        let token = BertConfig {
            architectures: vec!["BertForTokenClassification".into()],
            num_labels: Some(9),
            ..BertConfig::default()
        };
        assert_eq!(token.parameter_count(), 108_898_569.0);
    }
}
