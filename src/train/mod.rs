//! Masked-language-model training: loss, AdamW step, schedule and clipping.
//!
//! Device-agnostic and wasm-safe: nothing in a step reads the device synchronously;
//! the loss comes back through one asynchronous read.

#[cfg(not(target_arch = "wasm32"))]
pub mod checkpoint;
pub mod classifier_run;
pub mod classify;
#[cfg(not(target_arch = "wasm32"))]
pub mod corpus;
pub mod data;
pub mod finetune;
pub mod finetune_run;
mod optimizer;
pub mod wordpiece;

pub use optimizer::{MlmTrainer, TrainConfig, lr_at, param_ids, with_param_ids};

use burn::tensor::{Device, Int, Tensor, TensorData, activation};

use crate::error::{BertError, Result};
use crate::inference::{LabelledRows, logits_at_rows, make_inputs};
use crate::model::BertForMaskedLM;

/// The training runs the page and the CLI accept: 1–100,000 steps of 1–256 examples at a
/// learning rate in (0, 0.1]; each limit named in the message of what breaks it.
pub fn check_run(steps: usize, batch: usize, lr: f64) -> Result<()> {
    let fail = |m: String| Err(BertError::Input(m));
    if !(1..=100_000).contains(&steps) {
        return fail(format!("steps must be between 1 and 100000 (got {steps})"));
    }
    if !(1..=256).contains(&batch) {
        return fail(format!("the batch must be between 1 and 256 (got {batch})"));
    }
    if !(lr > 0.0 && lr <= 0.1) {
        return fail(format!("the learning rate must be in (0, 0.1] (got {lr})"));
    }
    Ok(())
}

/// Label of a position that is not predicted (PyTorch's `ignore_index`).
pub const IGNORE: i64 = -100;

/// A training batch on the host: sequences of equal or unequal length, with the
/// original token at each masked position and [`IGNORE`] elsewhere.
#[derive(Clone, Debug, Default)]
pub struct MlmBatch {
    pub ids: Vec<Vec<u32>>,
    pub type_ids: Vec<Vec<u32>>,
    pub labels: Vec<Vec<i64>>,
}

impl MlmBatch {
    /// Number of positions that count in the loss.
    pub fn num_targets(&self) -> usize {
        self.labels
            .iter()
            .flatten()
            .filter(|&&l| l != IGNORE)
            .count()
    }

    pub fn num_tokens(&self) -> usize {
        self.ids.iter().map(Vec::len).sum()
    }
}

/// Mean cross-entropy over the masked positions only: the vocabulary projection runs
/// on those rows alone, which is most of the saving of MLM over full-sequence heads.
pub fn mlm_loss(
    model: &BertForMaskedLM,
    batch: &MlmBatch,
    pad_id: u32,
    device: &Device,
) -> Result<Tensor<1>> {
    let seqs: Vec<(&[u32], &[u32])> = batch
        .ids
        .iter()
        .zip(&batch.type_ids)
        .map(|(a, b)| (&a[..], &b[..]))
        .collect();
    let inputs = make_inputs(model, &seqs, pad_id, device)?;
    let [_, width] = inputs.dims();
    if batch
        .labels
        .iter()
        .zip(&batch.ids)
        .any(|(l, i)| l.len() != i.len())
    {
        return Err(BertError::Input("labels and ids differ in length".into()));
    }
    let rows = LabelledRows::collect(
        batch.labels.iter().map(Vec::as_slice),
        width,
        IGNORE,
        model.config().vocab_size,
    )?;
    if rows.is_empty() {
        return Err(BertError::Input(
            "the batch has no masked position to learn from".into(),
        ));
    }
    let LabelledRows {
        index,
        labels: targets,
    } = rows;
    let n = index.len();
    let logits = logits_at_rows(model, inputs, index, device);
    let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [n, 1]), device);
    let log_probs = activation::log_softmax(logits, 1);
    Ok(log_probs.gather(1, targets).mean().neg())
}
