//! The `bert` commands, one file each with its `clap::Args`; `main.rs` only dispatches.

pub mod bench;
pub mod classify;
pub mod convert;
pub mod dump;
pub mod eval;
pub mod fill_mask;
pub mod finetune_classifier;
pub mod pretrain;
pub mod progress;
pub mod train_tokenizer;

use std::path::Path;

use anyhow::Context;
use bert_burn::Pipeline;
use bert_burn::checkpoint::StoreDtype;
use bert_burn::device::{self, Backend};

/// Where a command runs, as the command line spells it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum BackendArg {
    /// Burn's CPU backend.
    #[value(alias = "flex")]
    Cpu,
    /// wgpu: Vulkan, Metal or DX12.
    #[value(alias = "gpu", alias = "webgpu")]
    Wgpu,
    /// NVIDIA CUDA (builds with the `cuda` feature).
    Cuda,
}

impl From<BackendArg> for Backend {
    fn from(arg: BackendArg) -> Self {
        match arg {
            BackendArg::Cpu => Backend::Cpu,
            BackendArg::Wgpu => Backend::Wgpu,
            BackendArg::Cuda => Backend::Cuda,
        }
    }
}

impl std::fmt::Display for BackendArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendArg::Cpu => "cpu",
            BackendArg::Wgpu => "wgpu",
            BackendArg::Cuda => "cuda",
        })
    }
}

/// Precision of saved weights.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DtypeArg {
    #[value(alias = "float32")]
    F32,
    #[value(alias = "float16")]
    F16,
    #[value(alias = "bfloat16")]
    Bf16,
}

impl From<DtypeArg> for StoreDtype {
    fn from(arg: DtypeArg) -> Self {
        match arg {
            DtypeArg::F32 => StoreDtype::F32,
            DtypeArg::F16 => StoreDtype::F16,
            DtypeArg::Bf16 => StoreDtype::BF16,
        }
    }
}

/// A checkpoint directory with its tokenizer, on the chosen backend.
pub fn open(model: &Path, backend: BackendArg) -> anyhow::Result<Pipeline> {
    let device = device::open(backend.into())?;
    Ok(Pipeline::load_dir(model, device)?)
}

pub fn read_to_string(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}
