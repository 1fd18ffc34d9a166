//! `bert eval`: masked-token top-1/top-5 accuracy of a checkpoint on a text file.

use std::path::PathBuf;
use std::time::Instant;

use bert_burn::eval::{EvalOptions, evaluate_mlm};
use bert_burn::train::corpus::{InterleavedLines, corpus_files};

use super::{BackendArg, open};

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Checkpoint directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Held-out text, one paragraph per line.
    #[arg(long)]
    pub text: PathBuf,
    /// Seed of the masking draw (same seed, same masked tokens).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Evaluate at most this many tokens (default: the whole file).
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Packed sequence length (default: the model's positions, at most 128).
    #[arg(long)]
    pub seq: Option<usize>,
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let p = open(&args.model, args.backend)?;
    let model = p.masked_lm()?;
    let files = corpus_files(&args.text)?;
    let options = EvalOptions {
        seed: args.seed,
        max_tokens: args.max_tokens,
        seq_len: args.seq.unwrap_or(model.config().max_tokens().min(128)),
        batch_size: args.batch,
    };
    let start = Instant::now();
    let lines = InterleavedLines::new(files, false);
    let report = pollster::block_on(evaluate_mlm(
        model,
        &p.tokenizer,
        lines,
        &options,
        &p.device,
    ))?;
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let mut out = serde_json::to_value(&report).unwrap_or_default();
        out["seconds"] = seconds.into();
        out["model"] = args.model.display().to_string().into();
        out["text"] = args.text.display().to_string().into();
        println!("{out}");
    } else {
        println!(
            "{} masked of {} tokens ({} sequences of {}), seed {}: top-1 {:.2}%  top-5 {:.2}%  loss {:.4}  perplexity {:.1}  ({seconds:.1} s)",
            report.masked,
            report.tokens,
            report.sequences,
            report.seq_len,
            report.seed,
            100.0 * report.top1,
            100.0 * report.top5,
            report.loss,
            report.perplexity
        );
    }
    Ok(())
}
