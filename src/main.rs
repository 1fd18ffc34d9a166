//! `bert`: fill-mask, dump, convert, benchmark, train and evaluate BERT checkpoints
//! from the command line.

mod cli;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use bert_burn::checkpoint::{HostTensor, StoreDtype, save_dir, write_safetensors};
use bert_burn::device::{self, Backend};
use bert_burn::inference::{self, fill_iteratively, fill_mask};
use bert_burn::{BertError, Pipeline, Result};
use clap::{Parser, Subcommand};
use serde_json::json;

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
    /// Predict the tokens behind every [MASK] in TEXT.
    FillMask {
        /// Checkpoint directory (config.json, model.safetensors, tokenizer.json or vocab.txt).
        #[arg(long)]
        model: PathBuf,
        #[arg(long, default_value_t = 5)]
        top_k: usize,
        /// cpu or wgpu.
        #[arg(long, default_value = "cpu")]
        backend: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also fill all masks jointly, most confident first.
        #[arg(long)]
        fill_all: bool,
        /// Second segment of a sentence pair.
        #[arg(long)]
        pair: Option<String>,
        text: String,
    },
    /// Write input ids, logits, every hidden state and attention map as f32 safetensors.
    Dump {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        pair: Option<String>,
        #[arg(long, default_value = "cpu")]
        backend: String,
        text: String,
    },
    /// Load a checkpoint and save it again in Hugging Face layout.
    Convert {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// f32, f16 or bf16.
        #[arg(long, default_value = "f32")]
        dtype: String,
    },
    /// Learn an uncased WordPiece vocabulary (tokenizer.json) from a corpus.
    TrainTokenizer(cli::train_tokenizer::TrainTokenizerArgs),
    /// Pretrain a BERT masked-language model on a corpus (or resume a run).
    Pretrain(cli::pretrain::PretrainArgs),
    /// Masked-token top-1/top-5 accuracy of a checkpoint on held-out text.
    Eval(cli::eval::EvalArgs),
    /// Time the forward pass (batch 1) of a checkpoint.
    Bench {
        #[arg(long)]
        model: PathBuf,
        #[arg(long, default_value_t = 128)]
        seq: usize,
        #[arg(long, default_value_t = 20)]
        iters: usize,
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        #[arg(long, default_value = "cpu")]
        backend: String,
        /// Time MLM training steps (AdamW, 15 % masking) instead of the forward pass.
        #[arg(long)]
        train: bool,
        /// Sequences per training step.
        #[arg(long, default_value_t = 8)]
        batch: usize,
    },
}

fn open(model: &Path, backend: &str) -> Result<Pipeline> {
    let device = device::open(Backend::parse(backend)?)?;
    Pipeline::load_dir(model, device)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::TrainTokenizer(args) => cli::train_tokenizer::run(args)?,
        Command::Pretrain(args) => cli::pretrain::run(args)?,
        Command::Eval(args) => cli::eval::run(args)?,
        Command::FillMask {
            model,
            top_k,
            backend,
            json,
            fill_all,
            pair,
            text,
        } => {
            let p = open(&model, &backend)?;
            let enc = p.tokenizer.encode(&text, pair.as_deref())?;
            let masks =
                pollster::block_on(fill_mask(&p.model, &enc, &p.tokenizer, top_k, &p.device))?;
            let joint = if fill_all {
                Some(pollster::block_on(fill_iteratively(
                    &p.model,
                    &enc,
                    &p.tokenizer,
                    &p.device,
                ))?)
            } else {
                None
            };
            if json {
                let mut out = json!({
                    "tokens": enc.tokens,
                    "ids": enc.ids,
                    "truncated": enc.truncated,
                    "masks": masks,
                });
                if let Some((steps, ids)) = &joint {
                    out["fill_all"] =
                        json!({"steps": steps, "ids": ids, "text": p.tokenizer.decode(ids)?});
                }
                println!("{out}");
            } else {
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
                        println!(
                            "  {:<16} {:>8.4}  (id {})",
                            pred.token, pred.probability, pred.id
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
            }
        }
        Command::Dump {
            model,
            out,
            pair,
            backend,
            text,
        } => {
            let p = open(&model, &backend)?;
            let enc = p.tokenizer.encode(&text, pair.as_deref())?;
            let host = pollster::block_on(inference::forward_host(
                &p.model,
                &enc.ids,
                &enc.type_ids,
                p.tokenizer.pad_id(),
                &p.device,
            ))?;
            let cfg = p.model.config();
            let (t, h, v) = (enc.len(), cfg.hidden_size, cfg.vocab_size);
            let f32s = |xs: &[u32]| xs.iter().map(|&x| x as f32).collect::<Vec<_>>();
            let mut tensors = vec![
                (
                    "input_ids".to_string(),
                    HostTensor::new(vec![1, t], &f32s(&enc.ids), StoreDtype::F32),
                ),
                (
                    "token_type_ids".to_string(),
                    HostTensor::new(vec![1, t], &f32s(&enc.type_ids), StoreDtype::F32),
                ),
                (
                    "logits".to_string(),
                    HostTensor::new(vec![1, t, v], &host.logits, StoreDtype::F32),
                ),
            ];
            for (i, hs) in host.hidden_states.iter().enumerate() {
                tensors.push((
                    format!("hidden_states.{i}"),
                    HostTensor::new(vec![1, t, h], hs, StoreDtype::F32),
                ));
            }
            let heads = cfg.num_attention_heads;
            for (i, a) in host.attentions.iter().enumerate() {
                tensors.push((
                    format!("attentions.{i}"),
                    HostTensor::new(vec![1, heads, t, t], a, StoreDtype::F32),
                ));
            }
            let bytes = write_safetensors(&tensors)?;
            std::fs::write(&out, bytes)
                .map_err(|e| BertError::io(format!("cannot write {}", out.display()), e))?;
            eprintln!(
                "wrote {} tensors for {t} tokens to {}",
                tensors.len(),
                out.display()
            );
        }
        Command::Convert { model, out, dtype } => {
            let dtype = StoreDtype::parse(&dtype)?;
            let p = open(&model, "cpu")?;
            save_dir(&p.model, &out, dtype)?;
            // Carry the tokenizer files along so the output is a complete checkpoint.
            for name in [
                "tokenizer.json",
                "vocab.txt",
                "tokenizer_config.json",
                "special_tokens_map.json",
            ] {
                let src = model.join(name);
                if src.exists() {
                    std::fs::copy(&src, out.join(name))
                        .map_err(|e| BertError::io(format!("cannot copy {}", src.display()), e))?;
                }
            }
            eprintln!(
                "saved {} in {}",
                out.display(),
                format!("{dtype:?}").to_lowercase()
            );
        }
        Command::Bench {
            model,
            seq,
            iters,
            warmup,
            backend,
            train,
            batch,
        } => {
            if train {
                return bench_train(&model, &backend, seq, batch, iters, warmup);
            }
            let p = open(&model, &backend)?;
            let cfg = p.model.config().clone();
            if seq > cfg.max_position_embeddings || seq == 0 {
                return Err(BertError::Input(format!(
                    "--seq {seq} must be between 1 and max_position_embeddings {}",
                    cfg.max_position_embeddings
                )));
            }
            // Deterministic ids in the vocabulary, away from the special tokens.
            let ids: Vec<u32> = (0..seq)
                .map(|i| (1000 + 37 * i as u32) % cfg.vocab_size as u32)
                .collect();
            let types = vec![0u32; seq];
            let run_once = || -> Result<f64> {
                let start = Instant::now();
                let inputs = inference::make_inputs(&p.model, &[(&ids, &types)], 0, &p.device)?;
                let out = p.model.forward(
                    inputs.input_ids,
                    inputs.token_type_ids,
                    inputs.attention_mask,
                    bert_burn::model::OutputOptions::NONE,
                );
                // Reading the logits back waits for the device to finish.
                pollster::block_on(bert_burn::checkpoint::read_f32(out.logits))?;
                Ok(start.elapsed().as_secs_f64() * 1e3)
            };
            for _ in 0..warmup {
                run_once()?;
            }
            let mut times = (0..iters.max(1))
                .map(|_| run_once())
                .collect::<Result<Vec<_>>>()?;
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            let mean = times.iter().sum::<f64>() / times.len() as f64;
            println!(
                "{}",
                json!({"backend": backend, "seq": seq, "iters": times.len(), "median_ms": median, "mean_ms": mean, "min_ms": times[0],
                       "layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size})
            );
        }
    }
    Ok(())
}

/// Training throughput: tokens per second of full MLM steps on random packed data.
fn bench_train(
    model: &Path,
    backend: &str,
    seq: usize,
    batch: usize,
    iters: usize,
    warmup: usize,
) -> Result<()> {
    use bert_burn::train::data::{Masking, Rng, make_batch};
    use bert_burn::train::{MlmTrainer, TrainConfig};
    let device = device::open(Backend::parse(backend)?)?.autodiff();
    let p = Pipeline::load_dir(model, device.clone())?;
    let cfg = p.model.config().clone();
    if seq < 3 || seq > cfg.max_position_embeddings || batch == 0 {
        return Err(BertError::Input(format!(
            "--seq must be in 3..={} and --batch positive",
            cfg.max_position_embeddings
        )));
    }
    let masking = Masking::for_tokenizer(&p.tokenizer);
    let mut rng = Rng::new(0);
    let sequences: Vec<Vec<u32>> = (0..batch)
        .map(|_| {
            (0..seq)
                .map(|_| rng.range(masking.first_regular_id, cfg.vocab_size as u32))
                .collect()
        })
        .collect();
    let mut trainer = MlmTrainer::new(TrainConfig {
        total_steps: warmup + iters + 1,
        ..TrainConfig::default()
    })?;
    let mut model = p.model;
    let mut times = Vec::new();
    for i in 0..warmup + iters.max(1) {
        let data = make_batch(&sequences, &masking, &mut rng);
        let start = Instant::now();
        let (next, _) =
            pollster::block_on(trainer.step(model, &data, p.tokenizer.pad_id(), &device))?;
        model = next;
        if i >= warmup {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{}",
        json!({"backend": backend, "train": true, "batch": batch, "seq": seq, "median_step_ms": median,
               "tokens_per_s": (batch * seq) as f64 / (median / 1e3), "layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size})
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
