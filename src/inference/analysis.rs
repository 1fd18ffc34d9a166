//! What the browser shows for a sequence, from one forward pass and one read.

use super::forward::hidden_rows;
use super::*;
use burn::tensor::{Device, Transaction};
use serde::Serialize;

use crate::checkpoint::data_to_f32;
use crate::error::{BertError, Result};
use crate::model::{BertForMaskedLM, OutputOptions};
use crate::tokenizer::BertTokenizer;

/// What the browser shows for one sequence: the top-k at every mask and every
/// layer's attention probabilities.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    pub masks: Vec<MaskPredictions>,
    pub layers: usize,
    pub heads: usize,
    pub seq: usize,
    /// `[layer][head][query][key]`, flattened.
    pub attentions: Vec<f32>,
}

/// What [`analyze_with`] computes beside the attention maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AnalyzeOptions {
    /// Candidates per mask.
    pub top_k: usize,
    /// Also the MLM head on every layer's hidden state at each mask
    /// ([`MaskPredictions::by_layer`], `top_k` each), in the same pass and read.
    pub by_layer: bool,
    /// Only tokens that can stand in a text ([`top_k_words`]): no `[SEP]` as a filler.
    pub words_only: bool,
}

/// One forward pass for both the mask predictions (head run on the mask rows only)
/// and the attentions, all read back from the device together.
/// A sequence without a mask is fine: it gets attentions and no predictions.
pub async fn analyze(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    tokenizer: &BertTokenizer,
    top_k: usize,
    device: &Device,
) -> Result<Analysis> {
    let options = AnalyzeOptions {
        top_k,
        by_layer: false,
        words_only: false,
    };
    analyze_with(model, ids, type_ids, tokenizer, options, device).await
}

/// [`analyze`], with the layer-by-layer predictions when `options.by_layer`.
pub async fn analyze_with(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    tokenizer: &BertTokenizer,
    options: AnalyzeOptions,
    device: &Device,
) -> Result<Analysis> {
    let top_k = options.top_k;
    if top_k == 0 {
        return Err(BertError::Input("top-k must be at least 1".into()));
    }
    let inputs = make_inputs(model, &[(ids, type_ids)], tokenizer.pad_id(), device)?;
    let seq = ids.len();
    let positions = mask_positions(ids, tokenizer.mask_id());
    let by_layer = options.by_layer && !positions.is_empty();
    let out = model.bert.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        OutputOptions {
            hidden_states: by_layer,
            attentions: true,
        },
    );
    let layers = out.attentions.len();
    let heads = model.config().num_attention_heads;

    // The mask rows' logits and every attention map come back in one read: on WebGPU
    // each read is a round trip to the GPU, the largest fixed cost of a short input.
    // (Each layer's map is registered as it is: joining them on the device would cost
    // a copy kernel; the host joins them instead.)
    let mut read = Transaction::default();
    for map in out.attentions {
        read = read.register(map);
    }
    let rows: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
    // Every hidden state but the last (the final logits below are that one's).
    let earlier = out.hidden_states.len().saturating_sub(1);
    for hidden in out.hidden_states.into_iter().take(earlier) {
        let hidden = hidden_rows(hidden, rows.clone(), device);
        read = read.register(model.mlm_logits(hidden));
    }
    if !positions.is_empty() {
        let hidden = hidden_rows(out.last_hidden_state, rows, device);
        read = read.register(model.mlm_logits(hidden));
    }
    let mut data = read
        .execute_async()
        .await
        .map_err(|e| BertError::Device(format!("reading from the device failed: {e:?}")))?
        .into_iter()
        .map(data_to_f32);
    let mut attentions = Vec::with_capacity(layers * heads * seq * seq);
    for _ in 0..layers {
        let map = data.next().ok_or_else(|| {
            BertError::Device("the device returned too few attention maps".into())
        })??;
        attentions.extend_from_slice(&map);
    }
    let vocab = model.config().vocab_size;
    // `[layer][mask]` top-k, then turned into each mask's list by layer.
    let mut layer_rows: Vec<Vec<Vec<Prediction>>> = Vec::with_capacity(earlier + 1);
    for logits in data {
        let logits = logits?;
        ensure_finite(&logits, " (MLM logits)")?;
        layer_rows.push(
            logits
                .chunks(vocab)
                .map(|row| match options.words_only {
                    true => top_k_words(row, top_k, tokenizer),
                    false => top_k_predictions(row, top_k, tokenizer),
                })
                .collect::<Result<_>>()?,
        );
    }
    let last = layer_rows.pop().unwrap_or_default();
    let masks = positions
        .iter()
        .zip(last)
        .enumerate()
        .map(|(m, (&position, predictions))| MaskPredictions {
            position,
            by_layer: match by_layer {
                true => layer_rows
                    .iter()
                    .map(|layer| layer[m].clone())
                    .chain([predictions.clone()])
                    .collect(),
                false => Vec::new(),
            },
            predictions,
        })
        .collect();
    ensure_finite(&attentions, " in the attention maps")?;
    Ok(Analysis {
        masks,
        layers,
        heads,
        seq,
        attentions,
    })
}
