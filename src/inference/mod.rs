//! Turning encodings into model inputs, and masked-token prediction on the host.
//!
//! Every device read here is one asynchronous read (`into_data_async`), the only kind
//! WebGPU allows in the browser; softmax and top-k then run on the host.

mod analysis;
mod classify;
mod fill;
mod forward;
mod inputs;
mod rollout;

pub use analysis::{Analysis, AnalyzeOptions, analyze, analyze_with};
pub use classify::{
    LabelScore, SequenceClassification, TokenClassification, TokenLabel, classify_sequence,
    classify_tokens,
};
pub use fill::{FillStep, fill_iteratively, fill_mask, fill_most_confident};
pub use forward::{HostForward, forward_host, logits_at, logits_at_rows};
pub use inputs::{InputTensors, LabelledRows, inputs_for, make_inputs};
pub use rollout::attention_rollout;

use serde::{Deserialize, Serialize};

use crate::error::{BertError, Result};
use crate::tokenizer::BertTokenizer;

/// One candidate for a masked position.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    /// The vocabulary entry (`##ed`, `Ġfox`, `▁fox`).
    pub token: String,
    /// What it reads as in a text, without the tokenizer's word markers (`ed`, `fox`): what
    /// replaces the mask when it is chosen.
    #[serde(default)]
    pub text: String,
    pub id: u32,
    pub probability: f32,
}

/// The top-k candidates for one masked position.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MaskPredictions {
    pub position: usize,
    pub predictions: Vec<Prediction>,
    /// When asked for: the MLM head on each layer's hidden state at this position, from the
    /// embeddings (0) to the last layer (whose list equals `predictions`) — how the guess
    /// forms through the layers ("logit lens").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_layer: Vec<Vec<Prediction>>,
}

/// Softmax over the whole row (in f64, for probabilities that sum to one) and the
/// `k` most probable ids, best first. Ties go to the lower id, as `torch.topk` tends to.
pub fn top_k_softmax(logits: &[f32], k: usize) -> Vec<(u32, f32)> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    let mut order: Vec<u32> = (0..logits.len() as u32).collect();
    let k = k.min(order.len());
    let by_logit = |a: &u32, b: &u32| {
        logits[*b as usize]
            .total_cmp(&logits[*a as usize])
            .then(a.cmp(b))
    };
    if k < order.len() && k > 0 {
        order.select_nth_unstable_by(k - 1, by_logit);
    }
    order.truncate(k);
    order.sort_by(by_logit);
    order
        .into_iter()
        .map(|id| (id, ((logits[id as usize] as f64 - max).exp() / sum) as f32))
        .collect()
}

/// The `k` most probable tokens of one logit row, with their text. A row with NaN or ±∞ is
/// an error (a damaged or diverged model), never `NaN %` on the page.
pub fn top_k_predictions(
    logits: &[f32],
    k: usize,
    tokenizer: &BertTokenizer,
) -> Result<Vec<Prediction>> {
    ensure_finite(logits, " at a masked position")?;
    Ok(top_k_softmax(logits, k)
        .into_iter()
        .map(|(id, probability)| Prediction {
            token: tokenizer.id_to_token(id).unwrap_or_default(),
            text: tokenizer.token_text(id),
            id,
            probability,
        })
        .collect())
}

/// Like [`top_k_predictions`], but only tokens that can stand in a text — never a special
/// token (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`). Probabilities stay those of the
/// whole vocabulary.
pub fn top_k_words(logits: &[f32], k: usize, tokenizer: &BertTokenizer) -> Result<Vec<Prediction>> {
    let is_word = |p: &Prediction| !tokenizer.is_special_token(&p.token);
    // The specials are a handful: a few more candidates than asked nearly always suffice.
    let mut words: Vec<Prediction> = top_k_predictions(logits, k + 8, tokenizer)?
        .into_iter()
        .filter(is_word)
        .collect();
    if words.len() < k {
        words = top_k_predictions(logits, logits.len(), tokenizer)?
            .into_iter()
            .filter(is_word)
            .collect();
    }
    words.truncate(k);
    Ok(words)
}

/// [`BertError::NonFiniteOutput`] if any value is NaN or ±∞; `context` says where.
pub fn ensure_finite(values: &[f32], context: &str) -> Result<()> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(BertError::NonFiniteOutput {
            context: context.into(),
        })
    }
}

/// Positions of the mask token in `ids`.
pub fn mask_positions(ids: &[u32], mask_id: u32) -> Vec<usize> {
    ids.iter()
        .enumerate()
        .filter(|(_, id)| **id == mask_id)
        .map(|(i, _)| i)
        .collect()
}
