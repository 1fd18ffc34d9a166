//! Forward passes read back to the host: logits at chosen rows, or every output.

use super::*;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::checkpoint::read_f32;
use crate::error::Result;
use crate::model::{BertForMaskedLM, OutputOptions};

/// Logits `[positions.len()][vocab]` for the given positions of one sequence. The
/// vocabulary projection runs only on those rows, and they come back in one read.
pub async fn logits_at(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    positions: &[usize],
    pad_id: u32,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let inputs = make_inputs(model, &[(ids, type_ids)], pad_id, device)?;
    let rows: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
    let logits = logits_at_rows(model, inputs, rows, device);
    let vocab = model.config().vocab_size;
    let flat = read_f32(logits).await?;
    Ok(flat.chunks(vocab).map(|c| c.to_vec()).collect())
}

/// Logits `[rows.len(), vocab]` at flattened positions (`b * seq + t`) of a batch: the
/// encoder sees every token, the vocabulary projection runs on those rows only.
pub fn logits_at_rows(
    model: &BertForMaskedLM,
    inputs: InputTensors,
    rows: Vec<i64>,
    device: &Device,
) -> Tensor<2> {
    let out = model.bert.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        OutputOptions::NONE,
    );
    model.mlm_logits(hidden_rows(out.last_hidden_state, rows, device))
}

/// The hidden states `[batch, seq, hidden]` at flattened positions (`b * seq + t`) →
/// `[rows.len(), hidden]`. A batch of one selects along the sequence directly: at inference
/// the encoder hands back a transposed view, which flattening would first copy.
pub(super) fn hidden_rows(hidden: Tensor<3>, rows: Vec<i64>, device: &Device) -> Tensor<2> {
    let [batch, seq, width] = hidden.dims();
    let n = rows.len();
    let index = Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), device);
    if batch == 1 {
        hidden.select(1, index).reshape([n, width])
    } else {
        hidden.reshape([batch * seq, width]).select(0, index)
    }
}

/// Reads one forward pass back: logits `[seq][vocab]` flattened, hidden states and
/// attentions, each flattened, for one unpadded sequence.
pub struct HostForward {
    pub logits: Vec<f32>,
    pub hidden_states: Vec<Vec<f32>>,
    pub attentions: Vec<Vec<f32>>,
}

/// Runs a full forward pass with every output and reads it to the host.
pub async fn forward_host(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    pad_id: u32,
    device: &Device,
) -> Result<HostForward> {
    let inputs = make_inputs(model, &[(ids, type_ids)], pad_id, device)?;
    let out = model.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        OutputOptions::ALL,
    );
    let mut hidden_states = Vec::new();
    for h in out.hidden_states {
        hidden_states.push(read_f32(h).await?);
    }
    let mut attentions = Vec::new();
    for a in out.attentions {
        attentions.push(read_f32(a).await?);
    }
    Ok(HostForward {
        logits: read_f32(out.logits).await?,
        hidden_states,
        attentions,
    })
}
