//! Pretraining checkpoints on disk: a Hugging Face model directory plus what an exact
//! resume needs — `trainer_state.json` (the run's settings and where it stands) and
//! `optimizer.bpk` (AdamW's moments) — and the rotation of `checkpoint-<step>/` folders.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::{CheckpointFiles, StoreDtype, write_atomic};
use crate::error::{BertError, Result};
use crate::eval::EvalReport;
use crate::model::BertForMaskedLM;

use super::{MlmTrainer, param_ids};

pub const TRAINER_STATE: &str = "trainer_state.json";
pub const OPTIMIZER_STATE: &str = "optimizer.bpk";

/// A held-out evaluation and the step it was taken at.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Evaluation {
    pub step: usize,
    #[serde(flatten)]
    pub report: EvalReport,
}

/// A smoothed training loss and the step it was read at.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct LossPoint {
    pub step: usize,
    pub loss: f32,
}

/// The run's settings and where it stands; saved in every checkpoint as trainer_state.json.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainerState {
    pub step: usize,
    pub total_steps: usize,
    pub batch: usize,
    pub seq: usize,
    pub lr: f64,
    pub warmup: usize,
    pub weight_decay: f32,
    pub seed: u64,
    /// Step at which the current data stream began (a resume that changes the batch
    /// or sequence shape starts a new stream, seeded with `seed + stream_start`).
    #[serde(default)]
    pub stream_start: usize,
    pub tokens_seen: u64,
    pub train_seconds: f64,
    pub corpus: Vec<String>,
    /// Parameter ids in visiting order: they key the optimizer state.
    pub param_ids: Vec<u64>,
    /// The smoothed loss every `--log-every` steps.
    pub loss_history: Vec<LossPoint>,
    pub evals: Vec<Evaluation>,
}

impl TrainerState {
    /// Reads `dir/trainer_state.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(TRAINER_STATE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| BertError::io(format!("cannot read {}", path.display()), e))?;
        serde_json::from_str(&text).map_err(|e| {
            BertError::Input(format!("{} is not a trainer state: {e}", path.display()))
        })
    }
}

/// What a checkpoint directory gives back to continue its run.
pub struct Resumed {
    pub model: BertForMaskedLM,
    pub tokenizer_json: String,
    pub state: TrainerState,
    pub optimizer: Vec<u8>,
}

/// Reads a checkpoint written by [`write_checkpoint`].
pub fn read_checkpoint(dir: &Path, device: &burn::tensor::Device) -> Result<Resumed> {
    let state = TrainerState::read(dir)?;
    let files = CheckpointFiles::read_dir(dir)?;
    let model = files.masked_lm(device)?;
    let tokenizer_json = files
        .text(crate::checkpoint::files::TOKENIZER_JSON)?
        .ok_or_else(|| BertError::Tokenizer(format!("{} has no tokenizer.json", dir.display())))?
        .to_string();
    let path = dir.join(OPTIMIZER_STATE);
    let optimizer = std::fs::read(&path)
        .map_err(|e| BertError::io(format!("cannot read {}", path.display()), e))?;
    Ok(Resumed {
        model,
        tokenizer_json,
        state,
        optimizer,
    })
}

/// A complete Hugging Face checkpoint (config, f32 weights, `tokenizer`'s files) plus
/// what resuming needs. The state file goes last: a directory with one is complete.
pub fn write_checkpoint(
    dir: &Path,
    model: &BertForMaskedLM,
    trainer: &MlmTrainer,
    state: &mut TrainerState,
    tokenizer: &CheckpointFiles,
) -> Result<()> {
    // The optimizer state is keyed by these ids; record them with it.
    state.param_ids = param_ids(model);
    let files = pollster::block_on(CheckpointFiles::from_model(
        model,
        StoreDtype::F32,
        tokenizer,
    ))?;
    files.write_dir(dir)?;
    write_atomic(&dir.join(OPTIMIZER_STATE), &trainer.state_bytes()?)?;
    let state_json = serde_json::to_string_pretty(state)
        .map_err(|e| BertError::Input(format!("cannot serialise the trainer state: {e}")))?;
    write_atomic(&dir.join(TRAINER_STATE), state_json.as_bytes())
}

/// Writes `out/checkpoint-<step>/` and removes the oldest beyond `keep` (at least one).
pub fn save_rotating(
    out: &Path,
    keep: usize,
    model: &BertForMaskedLM,
    trainer: &MlmTrainer,
    state: &mut TrainerState,
    tokenizer: &CheckpointFiles,
) -> Result<PathBuf> {
    let dir = out.join(format!("checkpoint-{}", state.step));
    write_checkpoint(&dir, model, trainer, state, tokenizer)?;
    let mut old: Vec<(usize, PathBuf)> = std::fs::read_dir(out)
        .map_err(|e| BertError::io(format!("cannot list {}", out.display()), e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_prefix("checkpoint-")?
                .parse::<usize>()
                .ok()
                .map(|s| (s, e.path()))
        })
        .collect();
    old.sort();
    while old.len() > keep.max(1) {
        let (_, path) = old.remove(0);
        let _ = std::fs::remove_dir_all(path);
    }
    Ok(dir)
}
