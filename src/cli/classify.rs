//! `bert classify`: every label's probability for a text (sequence classifier) or each
//! token's label (token classifier), from a task checkpoint.

use std::path::PathBuf;

use bert_burn::inference::{classify_sequence, classify_tokens};
use bert_burn::{Head, Pipeline, device};
use serde_json::json;

use super::BackendArg;

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// A BertForSequenceClassification or BertForTokenClassification checkpoint directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Second segment of a sentence pair.
    #[arg(long)]
    pub pair: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    pub text: String,
}

pub fn run(args: ClassifyArgs) -> anyhow::Result<()> {
    let p = Pipeline::load_dir(&args.model, device::open(args.backend.into())?)?;
    let enc = p.tokenizer.encode(&args.text, args.pair.as_deref())?;
    let pad = p.tokenizer.pad_id();
    match &p.head {
        // Says that a masked-LM checkpoint has no classification head, and what to do.
        Head::MaskedLm(_) => p.check_classifier()?,
        Head::Sequence(model) => {
            let out = pollster::block_on(classify_sequence(model, &enc, pad, false, &p.device))?;
            if args.json {
                println!(
                    "{}",
                    json!({"task": "sequence", "logits": out.logits, "predictions": out.predictions})
                );
            } else {
                for s in &out.predictions {
                    println!("{:<24} {:>8.4}  (id {})", s.label, s.probability, s.id);
                }
            }
        }
        Head::Token(model) => {
            let out = pollster::block_on(classify_tokens(model, &enc, pad, false, &p.device))?;
            if args.json {
                println!(
                    "{}",
                    json!({"task": "token", "tokens": out.tokens, "logits": out.logits,
                           "predictions": out.predictions})
                );
            } else {
                for t in &out.predictions {
                    println!("{:<16} {:<12} {:>8.4}", t.token, t.label, t.probability);
                }
            }
        }
    }
    if enc.truncated {
        eprintln!(
            "note: the text was truncated to {} tokens",
            p.tokenizer.max_length()
        );
    }
    Ok(())
}
