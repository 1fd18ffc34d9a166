//! `config.json` of a Hugging Face BERT checkpoint (transformers 4 and 5).
//!
//! Unknown keys are ignored; a missing key takes the default that `BertConfig` in
//! transformers gives it, so any published BERT config loads as transformers would.

use std::collections::BTreeMap;

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

    /// Checks a sequence of `len` tokens ([CLS] and [SEP] included) against the model's
    /// positions; `min` is the shortest the caller can use.
    pub fn check_sequence_length(&self, len: usize, min: usize) -> Result<()> {
        let max = self.max_position_embeddings;
        if len < min || len > max {
            return Err(BertError::Input(format!(
                "a sequence of {len} tokens does not fit: it must be between {min} and the model's max_position_embeddings {max}"
            )));
        }
        Ok(())
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

/// The most labels a classifier may have (far beyond any published task head).
pub const MAX_LABELS: usize = 100_000;

/// What a checkpoint's head does, from its `architectures`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// `BertForMaskedLM` (and a bare `BertModel`): fill-mask.
    MaskedLm,
    /// `BertForSequenceClassification`: one label per text (or pair).
    Sequence,
    /// `BertForTokenClassification`: one label per token.
    Token,
}

impl BertConfig {
    /// The task of the checkpoint's head, from the first architecture transformers names.
    pub fn task(&self) -> Task {
        match self.architectures.first().map(String::as_str) {
            Some("BertForSequenceClassification") => Task::Sequence,
            Some("BertForTokenClassification") => Task::Token,
            _ => Task::MaskedLm,
        }
    }

    /// The label names in id order: `id2label` (its keys must be 0..n), else `num_labels`
    /// names `LABEL_i`, else transformers' default of two.
    pub fn labels(&self) -> Result<Vec<String>> {
        self.check_label_count()?;
        let Some(map) = &self.id2label else {
            let n = self.num_labels.unwrap_or(2);
            return Ok((0..n).map(|i| format!("LABEL_{i}")).collect());
        };
        let mut labels = vec![None; map.len()];
        for (key, name) in map {
            let id = key
                .parse::<usize>()
                .ok()
                .filter(|&id| id < labels.len())
                .ok_or_else(|| {
                    BertError::Config(format!(
                        "id2label has the key `{key}`: keys must be the ids 0..{}",
                        map.len()
                    ))
                })?;
            labels[id] = Some(name.clone());
        }
        Ok(labels.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// This config with `labels` as its label set, for a new classifier of `task`
    /// (`id2label`, `label2id`, `architectures` and `problem_type` as transformers saves them).
    pub fn with_labels(&self, task: Task, labels: &[String]) -> Self {
        let architecture = match task {
            Task::Sequence => "BertForSequenceClassification",
            Task::Token => "BertForTokenClassification",
            Task::MaskedLm => "BertForMaskedLM",
        };
        Self {
            architectures: vec![architecture.into()],
            id2label: Some(
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (i.to_string(), l.clone()))
                    .collect(),
            ),
            label2id: Some(
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.clone(), i))
                    .collect(),
            ),
            num_labels: None,
            problem_type: (task == Task::Sequence).then(|| "single_label_classification".into()),
            ..self.clone()
        }
    }

    /// How many labels the config names, checked before any list of them is built (a
    /// damaged `num_labels` must not become a billion strings).
    fn check_label_count(&self) -> Result<usize> {
        let n = match &self.id2label {
            Some(map) => map.len(),
            None => self.num_labels.unwrap_or(2),
        };
        if n == 0 || n > MAX_LABELS {
            return Err(BertError::Config(format!(
                "a classifier needs between 1 and {MAX_LABELS} labels, the config has {n}"
            )));
        }
        Ok(n)
    }

    /// Checks what a classification head needs: at least one label, single-label only.
    pub fn validate_labels(&self) -> Result<usize> {
        let labels = self.labels()?;
        match self.problem_type.as_deref() {
            None | Some("single_label_classification") => Ok(labels.len()),
            Some(other) => Err(BertError::Config(format!(
                "problem_type `{other}` is not supported: only single_label_classification (one label per text or token)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BertConfig, Task};

    fn config(extra: &str) -> BertConfig {
        BertConfig::from_json(&format!(
            "{{\"architectures\": [\"BertForSequenceClassification\"]{extra}}}"
        ))
        .unwrap()
    }

    #[test]
    fn labels_come_from_id2label_then_num_labels_then_two() {
        let c = config(r#", "id2label": {"1": "pos", "0": "neg"}"#);
        assert_eq!(c.task(), Task::Sequence);
        assert_eq!(c.labels().unwrap(), ["neg", "pos"]);
        assert_eq!(
            config(r#", "num_labels": 3"#).labels().unwrap(),
            ["LABEL_0", "LABEL_1", "LABEL_2"]
        );
        assert_eq!(config("").labels().unwrap(), ["LABEL_0", "LABEL_1"]);
        assert_eq!(BertConfig::default().task(), Task::MaskedLm);
    }

    #[test]
    fn bad_label_sets_are_errors_not_allocations() {
        let err = config(r#", "id2label": {"0": "a", "7": "b"}"#)
            .labels()
            .unwrap_err();
        assert!(err.to_string().contains("keys must be the ids"), "{err}");
        let err = config(r#", "num_labels": 0"#)
            .validate_labels()
            .unwrap_err();
        assert!(err.to_string().contains("between 1 and"), "{err}");
        let err = config(r#", "num_labels": 1000000000"#)
            .validate_labels()
            .unwrap_err();
        assert!(err.to_string().contains("between 1 and"), "{err}");
        let err = config(r#", "problem_type": "regression""#)
            .validate_labels()
            .unwrap_err();
        assert!(
            err.to_string().contains("single_label_classification"),
            "{err}"
        );
    }

    #[test]
    fn a_new_classifier_config_is_what_transformers_saves() {
        let labels = ["neg", "pos"].map(String::from);
        let c = BertConfig::default().with_labels(Task::Sequence, &labels);
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(json["architectures"][0], "BertForSequenceClassification");
        assert_eq!(json["id2label"]["1"], "pos");
        assert_eq!(json["label2id"]["neg"], 0);
        assert_eq!(json["problem_type"], "single_label_classification");
        // A masked-LM config writes none of the task keys.
        let plain: serde_json::Value =
            serde_json::from_str(&BertConfig::default().to_json()).unwrap();
        assert!(plain.get("id2label").is_none() && plain.get("problem_type").is_none());
    }
}
