//! Fine-tuning a sequence classifier: labelled examples from text, the cross-entropy
//! loss of `BertForSequenceClassification`, and held-out accuracy.

use burn::tensor::{Device, Int, Tensor, TensorData, activation};

use crate::checkpoint::read_f32;
use crate::error::{BertError, Result};
use crate::inference::inputs_for;
use crate::model::{BertForSequenceClassification, OutputOptions};
use crate::tokenizer::BertTokenizer;

/// One labelled text, as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelledExample {
    pub label: String,
    pub text: String,
}

/// Parses one example per line, `label<TAB>text` or `label: text`; blank lines are
/// skipped. A line without a label, or more than `max_examples`, is an error that names
/// the line.
pub fn parse_labelled(text: &str, max_examples: usize) -> Result<Vec<LabelledExample>> {
    let mut examples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let split = line.split_once('\t').or_else(|| line.split_once(':'));
        let Some((label, text)) = split
            .map(|(l, t)| (l.trim(), t.trim()))
            .filter(|(l, t)| !l.is_empty() && !t.is_empty())
        else {
            return Err(BertError::Input(format!(
                "line {}: `{}` has no label: write `label<TAB>text` or `label: text`",
                n + 1,
                line.chars().take(60).collect::<String>()
            )));
        };
        if examples.len() == max_examples {
            return Err(BertError::Input(format!(
                "more than {max_examples} examples: use fewer (a few dozen per label is plenty to start)"
            )));
        }
        examples.push(LabelledExample {
            label: label.to_string(),
            text: text.to_string(),
        });
    }
    Ok(examples)
}

/// The distinct labels in order of first appearance; a classifier needs two or more.
pub fn label_set(examples: &[LabelledExample]) -> Result<Vec<String>> {
    let mut labels: Vec<String> = Vec::new();
    for e in examples {
        if !labels.contains(&e.label) {
            labels.push(e.label.clone());
        }
    }
    if labels.len() < 2 {
        return Err(BertError::Input(format!(
            "the examples have {} label(s){}: a classifier needs at least two",
            labels.len(),
            labels
                .first()
                .map(|l| format!(" (only `{l}`)"))
                .unwrap_or_default()
        )));
    }
    Ok(labels)
}

/// Examples encoded for the model: ids, type ids and the label's index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedExample {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub label: usize,
}

/// Tokenizes `examples` (truncated to `max_len` tokens) with labels indexed in `labels`.
pub fn encode_examples(
    examples: &[LabelledExample],
    labels: &[String],
    tokenizer: &BertTokenizer,
) -> Result<Vec<EncodedExample>> {
    examples
        .iter()
        .map(|e| {
            let label = labels.iter().position(|l| *l == e.label).ok_or_else(|| {
                BertError::Input(format!(
                    "label `{}` is not one of the model's labels {labels:?}",
                    e.label
                ))
            })?;
            let enc = tokenizer.encode(&e.text, None)?;
            Ok(EncodedExample {
                ids: enc.ids,
                type_ids: enc.type_ids,
                label,
            })
        })
        .collect()
}

fn logits(
    model: &BertForSequenceClassification,
    batch: &[&EncodedExample],
    pad_id: u32,
    device: &Device,
) -> Result<Tensor<2>> {
    let seqs: Vec<(&[u32], &[u32])> = batch
        .iter()
        .map(|e| (&e.ids[..], &e.type_ids[..]))
        .collect();
    let inputs = inputs_for(model.config(), &seqs, pad_id, device)?;
    Ok(model
        .forward(
            inputs.input_ids,
            inputs.token_type_ids,
            inputs.attention_mask,
            OutputOptions::NONE,
        )
        .logits)
}

/// Mean cross-entropy of the batch's labels (transformers' single-label loss).
pub fn sequence_classification_loss(
    model: &BertForSequenceClassification,
    batch: &[&EncodedExample],
    pad_id: u32,
    device: &Device,
) -> Result<Tensor<1>> {
    if batch.is_empty() {
        return Err(BertError::Input("the batch is empty".into()));
    }
    let logits = logits(model, batch, pad_id, device)?;
    let [n, labels] = logits.dims();
    if let Some(bad) = batch.iter().find(|e| e.label >= labels) {
        return Err(BertError::Input(format!(
            "label index {} but the classifier has {labels} labels",
            bad.label
        )));
    }
    let targets: Vec<i64> = batch.iter().map(|e| e.label as i64).collect();
    let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [n, 1]), device);
    let log_probs = activation::log_softmax(logits, 1);
    Ok(log_probs.gather(1, targets).mean().neg())
}

/// The share of `examples` whose most likely label is theirs (`model` without autodiff).
pub async fn accuracy(
    model: &BertForSequenceClassification,
    examples: &[EncodedExample],
    pad_id: u32,
    device: &Device,
) -> Result<f64> {
    if examples.is_empty() {
        return Err(BertError::Input("no held-out examples".into()));
    }
    let mut right = 0;
    for chunk in examples.chunks(16) {
        let batch: Vec<&EncodedExample> = chunk.iter().collect();
        let rows = read_f32(logits(model, &batch, pad_id, device)?).await?;
        let width = rows.len() / chunk.len().max(1);
        for (row, e) in rows.chunks(width.max(1)).zip(chunk) {
            let best = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            right += usize::from(best == Some(e.label));
        }
    }
    Ok(right as f64 / examples.len() as f64)
}
