//! Classification with the task heads: every label's probability for a text (or pair),
//! or for every token, after one asynchronous read (attention maps in the same read).

use burn::tensor::{Device, Transaction};
use serde::{Deserialize, Serialize};

use super::{ensure_finite, inputs_for, top_k_softmax};
use crate::checkpoint::data_to_f32;
use crate::config::BertConfig;
use crate::error::{BertError, Result};
use crate::model::{BertForSequenceClassification, BertForTokenClassification, OutputOptions};
use crate::tokenizer::Encoding;

/// One label and its probability.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LabelScore {
    pub label: String,
    pub id: usize,
    pub probability: f32,
}

/// A text's logits, every label by probability (most likely first), and the attention
/// maps `[layer][head][query][key]` flattened (empty unless asked for).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SequenceClassification {
    pub logits: Vec<f32>,
    pub predictions: Vec<LabelScore>,
    pub attentions: Vec<f32>,
}

/// A token's most likely label.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenLabel {
    pub token: String,
    pub label: String,
    pub id: usize,
    pub probability: f32,
}

/// Every token's logits and most likely label, and the attention maps (if asked for).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenClassification {
    pub tokens: Vec<String>,
    pub logits: Vec<Vec<f32>>,
    pub predictions: Vec<TokenLabel>,
    pub attentions: Vec<f32>,
}

/// Labels by probability, from one row of logits.
fn scores(logits: &[f32], labels: &[String]) -> Vec<LabelScore> {
    top_k_softmax(logits, logits.len())
        .into_iter()
        .map(|(id, probability)| LabelScore {
            label: labels.get(id as usize).cloned().unwrap_or_default(),
            id: id as usize,
            probability,
        })
        .collect()
}

fn options(attentions: bool) -> OutputOptions {
    OutputOptions {
        hidden_states: false,
        attentions,
    }
}

/// Reads the logits and, if any, the attention maps in one transaction.
async fn read(
    logits: burn::tensor::Tensor<2>,
    maps: Vec<burn::tensor::Tensor<4>>,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let mut read = Transaction::default().register(logits);
    for map in maps {
        read = read.register(map);
    }
    let mut data = read
        .execute_async()
        .await
        .map_err(|e| BertError::Device(format!("reading the output failed: {e:?}")))?
        .into_iter();
    let logits = data_to_f32(
        data.next()
            .ok_or_else(|| BertError::Device("the device returned no logits".into()))?,
    )?;
    let mut attentions = Vec::new();
    for map in data {
        attentions.extend(data_to_f32(map)?);
    }
    ensure_finite(&logits, " (classifier logits)")?;
    ensure_finite(&attentions, " (attention maps)")?;
    Ok((logits, attentions))
}

/// The model's labels and one encoded text as input tensors.
fn prepare(
    config: &BertConfig,
    encoding: &Encoding,
    pad_id: u32,
    device: &Device,
) -> Result<(Vec<String>, super::InputTensors)> {
    if encoding.ids.is_empty() {
        return Err(BertError::Input("the text is empty".into()));
    }
    let sequence = [(&encoding.ids[..], &encoding.type_ids[..])];
    let inputs = inputs_for(config, &sequence, pad_id, device)?;
    Ok((config.labels()?, inputs))
}

/// Every label's probability for one encoded text (or pair).
pub async fn classify_sequence(
    model: &BertForSequenceClassification,
    encoding: &Encoding,
    pad_id: u32,
    attentions: bool,
    device: &Device,
) -> Result<SequenceClassification> {
    let (labels, inputs) = prepare(model.config(), encoding, pad_id, device)?;
    let out = model.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        options(attentions),
    );
    let (logits, attentions) = read(out.logits, out.attentions).await?;
    Ok(SequenceClassification {
        predictions: scores(&logits, &labels),
        logits,
        attentions,
    })
}

/// Every token's label for one encoded text (or pair).
pub async fn classify_tokens(
    model: &BertForTokenClassification,
    encoding: &Encoding,
    pad_id: u32,
    attentions: bool,
    device: &Device,
) -> Result<TokenClassification> {
    let (labels, inputs) = prepare(model.config(), encoding, pad_id, device)?;
    let out = model.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        options(attentions),
    );
    let [_, seq, n] = out.logits.dims();
    let (logits, attentions) = read(out.logits.reshape([seq, n]), out.attentions).await?;
    let rows: Vec<Vec<f32>> = logits.chunks(n.max(1)).map(<[f32]>::to_vec).collect();
    let predictions = rows
        .iter()
        .zip(&encoding.tokens)
        .map(|(row, token)| {
            let best = scores(row, &labels)
                .into_iter()
                .next()
                .unwrap_or(LabelScore {
                    label: String::new(),
                    id: 0,
                    probability: 0.0,
                });
            TokenLabel {
                token: token.clone(),
                label: best.label,
                id: best.id,
                probability: best.probability,
            }
        })
        .collect();
    Ok(TokenClassification {
        tokens: encoding.tokens.clone(),
        logits: rows,
        predictions,
        attentions,
    })
}
