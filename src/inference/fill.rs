//! Fill-mask: top-k at every mask, and the joint fill of several masks.

use super::*;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;
use crate::tokenizer::{BertTokenizer, Encoding};

/// Top-k predictions for every mask in `encoding`.
pub async fn fill_mask(
    model: &BertForMaskedLM,
    encoding: &Encoding,
    tokenizer: &BertTokenizer,
    top_k: usize,
    device: &Device,
) -> Result<Vec<MaskPredictions>> {
    let positions = mask_positions(&encoding.ids, tokenizer.mask_id());
    if positions.is_empty() {
        return Err(BertError::Input(format!(
            "the text has no {} token to predict (type {} where a word should be guessed)",
            tokenizer.mask_token(),
            tokenizer.mask_token()
        )));
    }
    predict_at(
        model,
        &encoding.ids,
        &encoding.type_ids,
        &positions,
        tokenizer,
        top_k,
        false,
        device,
    )
    .await
}

/// Top-k predictions at the given positions of one sequence (`words_only`: no special
/// token among them, see [`top_k_words`]).
#[allow(clippy::too_many_arguments)]
async fn predict_at(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    positions: &[usize],
    tokenizer: &BertTokenizer,
    top_k: usize,
    words_only: bool,
    device: &Device,
) -> Result<Vec<MaskPredictions>> {
    if top_k == 0 {
        return Err(BertError::Input("top-k must be at least 1".into()));
    }
    let rows = logits_at(model, ids, type_ids, positions, tokenizer.pad_id(), device).await?;
    positions
        .iter()
        .zip(rows)
        .map(|(&position, row)| {
            Ok(MaskPredictions {
                position,
                predictions: match words_only {
                    true => top_k_words(&row, top_k, tokenizer)?,
                    false => top_k_predictions(&row, top_k, tokenizer)?,
                },
                by_layer: Vec::new(),
            })
        })
        .collect()
}

/// One step of [`fill_iteratively`]: which mask was filled, with what.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FillStep {
    pub position: usize,
    pub token: String,
    /// What the token reads as in text (`Prediction::text`).
    #[serde(default)]
    pub text: String,
    pub id: u32,
    pub probability: f32,
}

/// One step of the joint fill: predicts every remaining mask of `ids`, and names the
/// one the model is most sure of with its most likely token (`words_only`: never a
/// special token). `None` when `ids` has no mask left.
pub async fn fill_most_confident(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    tokenizer: &BertTokenizer,
    words_only: bool,
    device: &Device,
) -> Result<Option<FillStep>> {
    let remaining = mask_positions(ids, tokenizer.mask_id());
    if remaining.is_empty() {
        return Ok(None);
    }
    let masks = predict_at(
        model, ids, type_ids, &remaining, tokenizer, 1, words_only, device,
    )
    .await?;
    let (position, best) = masks
        .into_iter()
        .filter_map(|m| m.predictions.into_iter().next().map(|p| (m.position, p)))
        .max_by(|a, b| a.1.probability.total_cmp(&b.1.probability))
        .ok_or_else(|| BertError::Input("the model returned no prediction".into()))?;
    Ok(Some(FillStep {
        position,
        token: best.token,
        text: best.text,
        id: best.id,
        probability: best.probability,
    }))
}

/// Joint fill of several masks: fill the mask the model is most sure of, run again
/// with it filled in, repeat until every mask is filled. Returns the steps and the ids.
pub async fn fill_iteratively(
    model: &BertForMaskedLM,
    encoding: &Encoding,
    tokenizer: &BertTokenizer,
    device: &Device,
) -> Result<(Vec<FillStep>, Vec<u32>)> {
    let mut ids = encoding.ids.clone();
    if mask_positions(&ids, tokenizer.mask_id()).is_empty() {
        return Err(BertError::Input(format!(
            "the text has no {} token to fill",
            tokenizer.mask_token()
        )));
    }
    let mut steps = Vec::new();
    while let Some(step) =
        fill_most_confident(model, &ids, &encoding.type_ids, tokenizer, false, device).await?
    {
        ids[step.position] = step.id;
        steps.push(step);
    }
    Ok((steps, ids))
}
