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
    inputs_for(model.config(), sequences, pad_id, device)
}

/// [`make_inputs`] for any model of `cfg` (the task models too).
pub fn inputs_for(
    cfg: &crate::config::BertConfig,
    sequences: &[(&[u32], &[u32])],
    pad_id: u32,
    device: &Device,
) -> Result<InputTensors> {
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
    cfg.check_sequence_length(seq, 1)?;
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
            if cfg.family().has_token_types() && ty as usize >= cfg.type_vocab_size {
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

/// The labelled rows of a padded batch (as [`make_inputs`] pads it, `width` tokens per
/// sequence): their flat row index `b * width + t`, and the label of each. A label of
/// `ignore` is skipped; any other must be a token id below `vocab_size`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelledRows {
    pub index: Vec<i64>,
    pub labels: Vec<i64>,
}

impl LabelledRows {
    pub fn collect<'a>(
        labels: impl IntoIterator<Item = &'a [i64]>,
        width: usize,
        ignore: i64,
        vocab_size: usize,
    ) -> Result<Self> {
        let mut rows = Self::default();
        for (b, sequence) in labels.into_iter().enumerate() {
            if sequence.len() > width {
                return Err(BertError::Input(format!(
                    "{} labels for a sequence of at most {width} tokens",
                    sequence.len()
                )));
            }
            for (t, &label) in sequence.iter().enumerate() {
                if label == ignore {
                    continue;
                }
                if label < 0 || label as usize >= vocab_size {
                    return Err(BertError::Input(format!(
                        "label {label} is outside the vocabulary"
                    )));
                }
                rows.index.push((b * width + t) as i64);
                rows.labels.push(label);
            }
        }
        Ok(rows)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}
