//! `bert convert`: load a checkpoint and save it again in Hugging Face layout (in f32,
//! f16 or bf16), its tokenizer files carried along.

use std::path::PathBuf;

use bert_burn::checkpoint::{CheckpointFiles, StoreDtype};

use bert_burn::{Pipeline, device};

use super::DtypeArg;

#[derive(clap::Args)]
pub struct ConvertArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let source = CheckpointFiles::read_dir(&args.model)?;
    let p = Pipeline::from_files(&source, device::cpu())?;
    let model = p.masked_lm()?;
    let dtype = StoreDtype::from(args.dtype);
    let files = pollster::block_on(CheckpointFiles::from_model(model, dtype, &source))?;
    files.write_dir(&args.out)?;
    eprintln!(
        "saved {} in {}",
        args.out.display(),
        format!("{dtype:?}").to_lowercase()
    );
    Ok(())
}
