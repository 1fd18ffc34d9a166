//! `bert fill-mask`: the top-k behind every `[MASK]`, and optionally all masks filled jointly.

use std::path::PathBuf;

use bert_burn::inference::{fill_iteratively, fill_mask};
use serde_json::json;

use super::{BackendArg, open};

#[derive(clap::Args)]
pub struct FillMaskArgs {
    /// Checkpoint directory (config.json, model.safetensors, tokenizer.json or vocab.txt).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, default_value_t = 5)]
    pub top_k: usize,
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also fill all masks jointly, most confident first.
    #[arg(long)]
    pub fill_all: bool,
    /// Second segment of a sentence pair.
    #[arg(long)]
    pub pair: Option<String>,
    pub text: String,
}

pub fn run(args: FillMaskArgs) -> anyhow::Result<()> {
    let p = open(&args.model, args.backend)?;
    let model = p.masked_lm()?;
    let enc = p.tokenizer.encode(&args.text, args.pair.as_deref())?;
    let masks = pollster::block_on(fill_mask(model, &enc, &p.tokenizer, args.top_k, &p.device))?;
    let joint = if args.fill_all {
        Some(pollster::block_on(fill_iteratively(
            model,
            &enc,
            &p.tokenizer,
            &p.device,
        ))?)
    } else {
        None
    };
    if args.json {
        let mut out = json!({
            "tokens": enc.tokens,
            "ids": enc.ids,
            "truncated": enc.truncated,
            "masks": masks,
        });
        if let Some((steps, ids)) = &joint {
            out["fill_all"] = json!({"steps": steps, "ids": ids, "text": p.tokenizer.decode(ids)?});
        }
        println!("{out}");
        return Ok(());
    }
    if enc.truncated {
        eprintln!(
            "note: the text was truncated to {} tokens",
            p.tokenizer.max_length()
        );
    }
    println!("tokens: {}", enc.tokens.join(" "));
    for m in &masks {
        println!("mask at position {}:", m.position);
        for pred in &m.predictions {
            // The word as it reads in text, then the vocabulary entry where it differs
            // (`fox`, then `Ġfox` for byte-level BPE).
            let entry = if pred.text == pred.token {
                String::new()
            } else {
                format!(", {}", pred.token)
            };
            println!(
                "  {:<16} {:>8.4}  (id {}{entry})",
                pred.text, pred.probability, pred.id
            );
        }
    }
    if let Some((steps, ids)) = &joint {
        for s in steps {
            println!(
                "fill position {} with {} ({:.4})",
                s.position, s.token, s.probability
            );
        }
        println!("filled: {}", p.tokenizer.decode(ids)?);
    }
    Ok(())
}
