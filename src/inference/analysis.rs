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
    if top_k == 0 {
        return Err(BertError::Input("top-k must be at least 1".into()));
    }
    let inputs = make_inputs(model, &[(ids, type_ids)], tokenizer.pad_id(), device)?;
    let seq = ids.len();
    let out = model.bert.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        OutputOptions {
            hidden_states: false,
            attentions: true,
        },
    );
    let layers = out.attentions.len();
    let heads = model.config().num_attention_heads;

    // The mask rows' logits and every attention map come back in one read: on WebGPU
    // each read is a round trip to the GPU, the largest fixed cost of a short input.
    // (Each layer's map is registered as it is: joining them on the device would cost
    // a copy kernel; the host joins them instead.)
    let positions = mask_positions(ids, tokenizer.mask_id());
    let mut read = Transaction::default();
    for map in out.attentions {
        read = read.register(map);
    }
    if !positions.is_empty() {
        let rows: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
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
    let mut masks = Vec::with_capacity(positions.len());
    if let Some(logits) = data.next() {
        for (&position, row) in positions
            .iter()
            .zip(logits?.chunks(model.config().vocab_size))
        {
            masks.push(MaskPredictions {
                position,
                predictions: top_k_predictions(row, top_k, tokenizer)?,
            });
        }
    }
    ensure_finite(&attentions, " in the attention maps")?;
    Ok(Analysis {
        masks,
        layers,
        heads,
        seq,
        attentions,
    })
}
