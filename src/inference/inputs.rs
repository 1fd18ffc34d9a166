//! Encodings → padded, checked tensors on the device.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;

/// A padded batch on the device: ids, token types and the attention mask, `[batch, seq]`.
pub struct InputTensors {
    pub input_ids: Tensor<2, Int>,
    pub token_type_ids: Tensor<2, Int>,
    /// `None` when no sequence is padded (as transformers' `attention_mask=None`): the
    /// model then adds no mask to its attention scores (a kernel less per layer on a GPU).
    pub attention_mask: Option<Tensor<2>>,
}

impl InputTensors {
    /// `[batch, seq]`.
    pub fn dims(&self) -> [usize; 2] {
        self.input_ids.dims()
    }
}

/// Pads `sequences` (ids, type ids) to the longest with `pad_id`, checking them against
/// the model's limits so a mismatched tokenizer is an error, not garbage or a panic.
pub fn make_inputs(
    model: &BertForMaskedLM,
    sequences: &[(&[u32], &[u32])],
    pad_id: u32,
    device: &Device,
) -> Result<InputTensors> {
    let cfg = model.config();
    let seq = sequences
        .iter()
        .map(|(ids, _)| ids.len())
        .max()
        .unwrap_or(0);
    if sequences.is_empty() || seq == 0 {
        return Err(BertError::Input(
            "nothing to run: the batch is empty".into(),
        ));
    }
    if seq > cfg.max_position_embeddings {
        return Err(BertError::Input(format!(
            "sequence of {seq} tokens is longer than the model's max_position_embeddings {}",
            cfg.max_position_embeddings
        )));
    }
    let batch = sequences.len();
    let mut ids = vec![pad_id as i64; batch * seq];
    let mut types = vec![0i64; batch * seq];
    let mut mask = vec![0f32; batch * seq];
    for (b, (seq_ids, seq_types)) in sequences.iter().enumerate() {
        if seq_ids.len() != seq_types.len() {
            return Err(BertError::Input("ids and type ids differ in length".into()));
        }
        for (t, (&id, &ty)) in seq_ids.iter().zip(seq_types.iter()).enumerate() {
            if id as usize >= cfg.vocab_size {
                return Err(BertError::Input(format!(
                    "token id {id} is outside the model's vocabulary of {} (tokenizer and model do not match)",
                    cfg.vocab_size
                )));
            }
            if ty as usize >= cfg.type_vocab_size {
                return Err(BertError::Input(format!(
                    "token type {ty} is outside the model's type_vocab_size {} (does this model take sentence pairs?)",
                    cfg.type_vocab_size
                )));
            }
            ids[b * seq + t] = id as i64;
            types[b * seq + t] = ty as i64;
            mask[b * seq + t] = 1.0;
        }
    }
    Ok(InputTensors {
        input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
        token_type_ids: Tensor::from_data(TensorData::new(types, [batch, seq]), device),
        attention_mask: mask
            .contains(&0.0)
            .then(|| Tensor::from_data(TensorData::new(mask, [batch, seq]), device)),
    })
}
