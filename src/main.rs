//! `bert`: fill-mask, classify, dump, convert, benchmark, train and evaluate BERT checkpoints
//! from the command line. Each command lives in `cli/`; this file only dispatches.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bert", version, about = "BERT masked-language model in Burn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// One value per run, parsed once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Predict the tokens behind every mask in TEXT (the tokenizer's own: [MASK], <mask>…)
    FillMask(cli::fill_mask::FillMaskArgs),
    /// Write input ids, logits, every hidden state and attention map as f32 safetensors.
    Dump(cli::dump::DumpArgs),
    /// Load a checkpoint and save it again in Hugging Face layout.
    Convert(cli::convert::ConvertArgs),
    /// Learn an uncased WordPiece vocabulary (tokenizer.json) from a corpus.
    TrainTokenizer(cli::train_tokenizer::TrainTokenizerArgs),
    /// Pretrain a BERT masked-language model on a corpus (or resume a run).
    Pretrain(cli::pretrain::PretrainArgs),
    /// Masked-token top-1/top-5 accuracy of a checkpoint on held-out text.
    Eval(cli::eval::EvalArgs),
    /// Time the forward pass (batch 1) of a checkpoint.
    Bench(cli::bench::BenchArgs),
    /// Label a text (sequence classifier) or its tokens (token classifier).
    Classify(cli::classify::ClassifyArgs),
    /// Train a sequence classifier from any BERT checkpoint on `label<TAB>text` lines.
    FinetuneClassifier(cli::finetune_classifier::FinetuneClassifierArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::FillMask(args) => cli::fill_mask::run(args),
        Command::Dump(args) => cli::dump::run(args),
        Command::Convert(args) => cli::convert::run(args),
        Command::TrainTokenizer(args) => cli::train_tokenizer::run(args),
        Command::Pretrain(args) => cli::pretrain::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Classify(args) => cli::classify::run(args),
        Command::FinetuneClassifier(args) => cli::finetune_classifier::run(args),
    }
}

/// The error and the causes its own message does not already include.
fn describe(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    message
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}
