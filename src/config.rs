//! `config.json` of a Hugging Face BERT checkpoint (transformers 4 and 5).
//!
//! Unknown keys are ignored; a missing key takes the default that `BertConfig` in
//! transformers gives it, so any published BERT config loads as transformers would.

use serde::{Deserialize, Serialize};

use crate::error::{BertError, Result};

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

fn default_vocab_size() -> usize {
    30522
}
fn default_hidden_size() -> usize {
    768
}
fn default_layers() -> usize {
    12
}
fn default_heads() -> usize {
    12
}
fn default_intermediate() -> usize {
    3072
}
fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_max_pos() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_init_range() -> f64 {
    0.02
}
fn default_ln_eps() -> f64 {
    1e-12
}
fn default_position_embedding_type() -> String {
    "absolute".into()
}
fn default_true() -> bool {
    true
}
fn default_pad() -> Option<usize> {
    Some(0)
}
fn default_model_type() -> String {
    "bert".into()
}
fn default_architectures() -> Vec<String> {
    vec!["BertForMaskedLM".into()]
}

/// The fields of transformers' `BertConfig` that change the computation, plus the
/// bookkeeping fields we write back so transformers recognises a saved model.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BertConfig {
    #[serde(default = "default_architectures")]
    pub architectures: Vec<String>,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    #[serde(default = "default_vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "default_hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "default_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "default_heads")]
    pub num_attention_heads: usize,
    #[serde(default = "default_intermediate")]
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
    #[serde(default = "default_ln_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_pad")]
    pub pad_token_id: Option<usize>,
    #[serde(default = "default_position_embedding_type")]
    pub position_embedding_type: String,
    #[serde(default = "default_true")]
    pub tie_word_embeddings: bool,
}

impl Default for BertConfig {
    fn default() -> Self {
        // Every field at its serde default, exactly as `BertConfig()` in transformers.
        Self {
            architectures: default_architectures(),
            model_type: default_model_type(),
            vocab_size: default_vocab_size(),
            hidden_size: default_hidden_size(),
            num_hidden_layers: default_layers(),
            num_attention_heads: default_heads(),
            intermediate_size: default_intermediate(),
            hidden_act: default_act(),
            hidden_dropout_prob: default_dropout(),
            attention_probs_dropout_prob: default_dropout(),
            max_position_embeddings: default_max_pos(),
            type_vocab_size: default_type_vocab(),
            initializer_range: default_init_range(),
            layer_norm_eps: default_ln_eps(),
            pad_token_id: default_pad(),
            position_embedding_type: default_position_embedding_type(),
            tie_word_embeddings: true,
        }
    }
}

/// The largest model this program agrees to build: 2³¹ parameters (8 GiB in f32; bert-large
/// has 0.34 G). A mistyped or damaged size field would otherwise ask for more memory than a
/// browser or most machines have, and a failed allocation aborts instead of reporting.
pub const MAX_PARAMETERS: f64 = 2_147_483_648.0;

impl BertConfig {
    /// Parses and validates `config.json`.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| BertError::Config(e.to_string()))?;
        if !value.is_object() {
            return Err(BertError::Config("expected a JSON object".into()));
        }
        // The path names the offending key: "hidden_size: invalid type: string ...".
        let config: BertConfig = serde_path_to_error::deserialize(value)
            .map_err(|e| BertError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_json(&self) -> String {
        // Plain numbers, strings and lists: serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Rejects configurations this implementation cannot compute exactly.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(BertError::Config(m));
        if self.model_type != "bert" {
            return err(format!(
                "model_type is `{}`: not a BERT masked-LM checkpoint (only `bert` ones are supported)",
                self.model_type
            ));
        }
        for (name, value) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
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

    /// Parameters of `BertForMaskedLM` with this configuration, in floating point: a config
    /// can claim any size (that is how absurd ones are caught), and integers could overflow.
    pub fn parameter_count(&self) -> f64 {
        let [v, h, l, i, p, t] = [
            self.vocab_size,
            self.hidden_size,
            self.num_hidden_layers,
            self.intermediate_size,
            self.max_position_embeddings,
            self.type_vocab_size,
        ]
        .map(|x| x as f64);
        let embeddings = (v + p + t) * h + 2.0 * h;
        let layer = 4.0 * (h * h + h) + 4.0 * h + 2.0 * h * i + i + h;
        let untied_decoder = if self.tie_word_embeddings { 0.0 } else { v * h };
        let head = h * h + 3.0 * h + v + untied_decoder;
        embeddings + l * layer + head
    }

    pub fn act(&self) -> HiddenAct {
        HiddenAct::parse(&self.hidden_act).unwrap_or(HiddenAct::Gelu)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}
