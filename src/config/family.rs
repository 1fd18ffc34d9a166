//! The members of the BERT family this program builds, as `config.json` names them, and what
//! sets each apart at the level of its configuration: its `model_type`s, the keys its config
//! spells differently (DistilBERT's `dim`, `n_layers`…), the defaults transformers gives a
//! missing key, and the few computational choices that are not in the config (where position
//! ids start, which activation the MLM head uses, whether there are token types).
//!
//! The tensor names of each family live beside its modules in `src/model/`.

use serde_json::{Map, Value, json};

use crate::error::{BertError, Result};

/// A family of encoder checkpoints that share one computation (`src/model/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// `bert` (`modeling_bert.py`).
    Bert,
    /// `roberta`, `xlm-roberta`, `camembert`: BERT with positions counted after the padding
    /// id and its own LM head (`modeling_roberta.py`, which the other two copy).
    Roberta,
    /// `distilbert`: no token types, its own module names (`modeling_distilbert.py`).
    DistilBert,
    /// `albert`: factorised embeddings and layers shared in groups (`modeling_albert.py`).
    Albert,
    /// `electra`: embeddings projected to the hidden size, the generator's MLM head
    /// (`modeling_electra.py`).
    Electra,
}

/// Every `model_type` this program loads, for messages.
pub const SUPPORTED_MODEL_TYPES: &str =
    "bert, roberta, xlm-roberta, camembert, distilbert, albert, electra";

/// The activation transformers' MLM head applies, when it is not `hidden_act`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadActivation {
    /// `config.hidden_act` (BERT, ALBERT, DistilBERT's `activation`).
    Configured,
    /// The exact GELU whatever the config says (RoBERTa's `lm_head`, ELECTRA's generator).
    Gelu,
}

impl Family {
    pub fn from_model_type(model_type: &str) -> Result<Self> {
        Ok(match model_type {
            "bert" => Self::Bert,
            "roberta" | "xlm-roberta" | "camembert" => Self::Roberta,
            "distilbert" => Self::DistilBert,
            "albert" => Self::Albert,
            "electra" => Self::Electra,
            "" => {
                return Err(BertError::Config(format!(
                    "config.json has no model_type: this program loads {SUPPORTED_MODEL_TYPES}"
                )));
            }
            other => {
                return Err(BertError::Config(format!(
                    "model_type is `{other}`: not a family this program loads \
                     (supported: {SUPPORTED_MODEL_TYPES})"
                )));
            }
        })
    }

    /// The prefix of the class names transformers gives this family's models
    /// (`RobertaForMaskedLM`); XLM-R and CamemBERT keep their own from `model_type`.
    pub fn class_prefix(model_type: &str) -> &'static str {
        match model_type {
            "roberta" => "Roberta",
            "xlm-roberta" => "XLMRoberta",
            "camembert" => "Camembert",
            "distilbert" => "DistilBert",
            "albert" => "Albert",
            "electra" => "Electra",
            _ => "Bert",
        }
    }

    /// Config keys this family spells its own way, as (its key, BERT's key).
    pub fn renamed_keys(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::DistilBert => &[
                ("dim", "hidden_size"),
                ("n_layers", "num_hidden_layers"),
                ("n_heads", "num_attention_heads"),
                ("hidden_dim", "intermediate_size"),
                ("activation", "hidden_act"),
                ("dropout", "hidden_dropout_prob"),
                ("attention_dropout", "attention_probs_dropout_prob"),
            ],
            _ => &[],
        }
    }

    /// BERT's keys this family's config does not have (not written back).
    pub fn absent_keys(self) -> &'static [&'static str] {
        match self {
            Self::DistilBert => &[
                "type_vocab_size",
                "layer_norm_eps",
                "position_embedding_type",
            ],
            _ => &[],
        }
    }

    /// What transformers' config class of `model_type` gives a key that is missing, where
    /// it differs from `BertConfig()`.
    pub fn defaults(model_type: &str) -> Value {
        match model_type {
            "roberta" => json!({"vocab_size": 50265, "pad_token_id": 1}),
            "xlm-roberta" | "camembert" => json!({"pad_token_id": 1}),
            "distilbert" => json!({"num_hidden_layers": 6, "sinusoidal_pos_embds": false}),
            "albert" => json!({
                "vocab_size": 30000, "embedding_size": 128, "hidden_size": 4096,
                "num_attention_heads": 64, "intermediate_size": 16384, "hidden_act": "gelu_new",
                "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
                "num_hidden_groups": 1, "inner_group_num": 1
            }),
            "electra" => json!({
                "embedding_size": 128, "hidden_size": 256, "num_attention_heads": 4,
                "intermediate_size": 1024
            }),
            _ => json!({}),
        }
    }

    /// The config as this program reads it: the family's keys under BERT's names, over the
    /// family's defaults. Returns the family too.
    pub fn normalise(mut object: Map<String, Value>) -> Result<(Self, Map<String, Value>)> {
        let model_type = object
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or("bert")
            .to_string();
        let family = Self::from_model_type(&model_type)?;
        for (theirs, ours) in family.renamed_keys() {
            if let Some(value) = object.remove(*theirs) {
                object.insert((*ours).to_string(), value);
            }
        }
        if let Value::Object(defaults) = Self::defaults(&model_type) {
            for (key, value) in defaults {
                object.entry(key).or_insert(value);
            }
        }
        Ok((family, object))
    }

    /// The reverse of [`Self::normalise`] for writing `config.json` back.
    pub fn denormalise(self, object: &mut Map<String, Value>) {
        for key in self.absent_keys() {
            object.remove(*key);
        }
        for (theirs, ours) in self.renamed_keys() {
            if let Some(value) = object.remove(*ours) {
                object.insert((*theirs).to_string(), value);
            }
        }
    }

    /// Position ids count from `padding_idx + 1` over the non-padding tokens (RoBERTa's
    /// `create_position_ids_from_input_ids`), not from 0.
    pub fn positions_after_padding(self) -> bool {
        self == Self::Roberta
    }

    pub fn has_token_types(self) -> bool {
        self != Self::DistilBert
    }

    pub fn head_activation(self) -> HeadActivation {
        match self {
            Self::Roberta | Self::Electra => HeadActivation::Gelu,
            _ => HeadActivation::Configured,
        }
    }

    /// Whether transformers builds the embeddings at `embedding_size` and projects them.
    pub fn factorised_embeddings(self) -> bool {
        matches!(self, Self::Albert | Self::Electra)
    }
}
