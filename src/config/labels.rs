//! The task a checkpoint's head does and its labels, read as transformers reads them.

use serde::{Deserialize, Serialize};

use super::BertConfig;
use crate::error::{BertError, Result};

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
            Some(a) if a.ends_with("ForSequenceClassification") => Task::Sequence,
            Some(a) if a.ends_with("ForTokenClassification") => Task::Token,
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
        let head = match task {
            Task::Sequence => "ForSequenceClassification",
            Task::Token => "ForTokenClassification",
            Task::MaskedLm => "ForMaskedLM",
        };
        let family = super::Family::class_prefix(&self.model_type);
        Self {
            architectures: vec![format!("{family}{head}")],
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
        // Every family's token classifier is a `classifier` on each token; the sequence
        // heads differ (RoBERTa's `classifier.dense/out_proj`, DistilBERT's
        // `pre_classifier`…) and only BERT's is built.
        if self.task() == Task::Sequence && self.family() != super::Family::Bert {
            return Err(BertError::Config(format!(
                "sequence-classification heads are built for `bert` checkpoints only so far, not \
                 `{}` (its masked-LM and token-classification checkpoints load)",
                self.model_type
            )));
        }
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
    use super::Task;
    use crate::config::BertConfig;

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
