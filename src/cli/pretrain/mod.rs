//! `bert pretrain`: masked-language-model pretraining from scratch (or resumed) on a
//! text corpus, with a progress bar, periodic checkpoints in Hugging Face layout, and a
//! clean save on Ctrl-C. Where a run starts is `start.rs`; what a checkpoint holds is
//! the library's `train::checkpoint`.

mod start;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bert_burn::eval::{EvalOptions, EvalReport, evaluate_mlm};
use bert_burn::pipeline::{VocabularyUse, check_vocabulary};
use bert_burn::train::checkpoint::{Evaluation, LossPoint, save_rotating, write_checkpoint};
use bert_burn::train::corpus::{InterleavedLines, corpus_files};
use bert_burn::train::data::{BatchStream, Masking, Packer};
use bert_burn::train::wordpiece::trained_tokenizer_files;
use bert_burn::train::{MlmTrainer, TrainConfig, with_param_ids};
use bert_burn::{BertForMaskedLM, BertTokenizer, device};
use burn::module::Module;

use super::progress::{Progress, duration};
use bert_burn::checkpoint::write_atomic;

use super::{BackendArg, read_to_string};

#[derive(clap::Args)]
pub struct PretrainArgs {
    /// A text file, or a directory of them (its train*.txt if any, else every *.txt); one paragraph per line.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Output directory: the final model, and checkpoint-<step>/ directories on the way.
    #[arg(long)]
    pub out: PathBuf,
    /// tokenizer.json to use. Default: OUT/tokenizer.json if it exists, else one is
    /// trained on the corpus with --vocab-size tokens.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    #[arg(long, default_value_t = 8192)]
    pub vocab_size: usize,
    #[arg(long, default_value_t = 4)]
    pub layers: usize,
    #[arg(long, default_value_t = 256)]
    pub hidden: usize,
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    #[arg(long, default_value_t = 1024)]
    pub intermediate: usize,
    #[arg(long, default_value_t = 128)]
    pub max_pos: usize,
    /// Optimizer steps of the whole run (the learning rate reaches zero at the last).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Sequences per step.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Tokens per sequence, [CLS] and [SEP] included.
    #[arg(long)]
    pub seq: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Linear warm-up steps.
    #[arg(long)]
    pub warmup: Option<usize>,
    #[arg(long)]
    pub weight_decay: Option<f32>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Start attention local instead of uniform: sinusoidal positions and key = query
    /// weights of this standard deviation (0.1 measured best); a new run only.
    #[arg(long)]
    pub local_attention_init: Option<f64>,
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    /// Continue from a checkpoint directory written by this command.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Start a new run (new optimizer, schedule and data stream) from the weights and
    /// tokenizer.json of a BERT checkpoint directory: continued pretraining, e.g. on new text
    /// (give another --seed than the checkpoint's run had, or the data comes in the same order).
    #[arg(long, conflicts_with = "resume")]
    pub init_from: Option<PathBuf>,
    /// Write a checkpoint every this many steps.
    #[arg(long, default_value_t = 500)]
    pub save_every: usize,
    /// Checkpoints kept on disk (older ones are removed).
    #[arg(long, default_value_t = 2)]
    pub keep: usize,
    /// Held-out text scored every --eval-every steps (masked top-1/top-5).
    #[arg(long)]
    pub eval_text: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    pub eval_every: usize,
    #[arg(long, default_value_t = 20_000)]
    pub eval_tokens: usize,
    /// Progress lines printed every this many steps when stderr is not a terminal.
    #[arg(long, default_value_t = 20)]
    pub log_every: usize,
}

const SHUFFLE_BUFFER: usize = 4096;

pub fn run(args: PretrainArgs) -> anyhow::Result<()> {
    let files = corpus_files(&args.corpus)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    // Fail now, not after an hour, if the output cannot be written.
    write_atomic(&args.out.join(".write-test"), b"ok")?;
    let _ = std::fs::remove_file(args.out.join(".write-test"));

    let dev = device::open(args.backend.into())?.autodiff();
    let start::Start {
        mut model,
        tokenizer_json,
        mut state,
        optimizer,
    } = match &args.resume {
        Some(dir) => start::resume(dir, &args, &dev)?,
        None => start::fresh(&args, &files, &dev)?,
    };
    let max_len = model.config().max_tokens();
    let tokenizer = BertTokenizer::from_json(tokenizer_json.as_bytes(), max_len)?;
    check_vocabulary(&tokenizer, model.config(), VocabularyUse::Training)?;
    let tokenizer_files = trained_tokenizer_files(
        &tokenizer_json,
        &tokenizer,
        max_len,
        model.config().family(),
    );
    let eval_text = match &args.eval_text {
        Some(p) => Some(read_to_string(p)?),
        None => None,
    };

    let config = TrainConfig {
        lr: state.lr,
        warmup_steps: state.warmup,
        total_steps: state.total_steps,
        // RoBERTa's beta2: steadier than 0.999 for post-LayerNorm BERT at a high rate.
        beta2: 0.98,
        weight_decay: state.weight_decay,
        ..TrainConfig::default()
    };
    let mut trainer = MlmTrainer::new(config)?;
    if let Some(bytes) = optimizer {
        model = with_param_ids(model, &state.param_ids)?;
        trainer = trainer.load_state(bytes, state.step)?;
    }

    let masking = Masking::for_tokenizer(&tokenizer);
    let packer = Packer::new(
        InterleavedLines::new(files.clone(), true),
        tokenizer.clone(),
        state.seq,
    )?;
    let stream_seed = state.seed.wrapping_add(state.stream_start as u64);
    let mut stream = BatchStream::new(packer, masking, state.batch, SHUFFLE_BUFFER, stream_seed)?;
    if state.step > state.stream_start {
        // The data order is a pure function of the seed: replaying it puts the stream
        // exactly where the interrupted run left it.
        let start = Instant::now();
        let replay = Progress::new(
            (state.step - state.stream_start) as u64,
            0,
            "replaying batch",
            args.log_every,
        );
        for i in state.stream_start..state.step {
            stream.next_batch()?;
            replay.update((i - state.stream_start) as u64, String::new());
        }
        replay.finish();
        eprintln!(
            "data stream at step {} (replayed in {})",
            state.step,
            duration(start.elapsed())
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond Ctrl-C: exiting without saving");
                std::process::exit(130);
            }
            eprintln!("\nCtrl-C: finishing this step and saving a checkpoint (Ctrl-C again to quit at once)");
        })
        .context("cannot install the Ctrl-C handler")?;
    }

    let cfg = model.config().clone();
    let progress = Progress::new(
        state.total_steps as u64,
        state.step as u64,
        "step",
        args.log_every,
    );
    progress.message(&format!(
        "pretraining {}L/{}H/{} heads/{} FFN, vocab {}, {} params on {}: steps {}..{} of batch {} x {} tokens, lr {} (warm-up {}), corpus {} file(s)",
        cfg.num_hidden_layers,
        cfg.hidden_size,
        cfg.num_attention_heads,
        cfg.intermediate_size,
        cfg.vocab_size,
        count_params(&model),
        args.backend,
        state.step,
        state.total_steps,
        state.batch,
        state.seq,
        state.lr,
        state.warmup,
        files.len()
    ));

    let pad = tokenizer.pad_id();
    let session = Instant::now();
    let session_start_step = state.step;
    let train_seconds_before = state.train_seconds;
    let mut smoothed: Option<f32> = None;
    let mut interrupted = false;
    while state.step < state.total_steps {
        let Some(batch) = stream.next_batch()? else {
            bail!("the corpus {} has no text", args.corpus.display());
        };
        let (next, report) = pollster::block_on(trainer.step(model, &batch, pad, &dev))?;
        model = next;
        if !report.loss.is_finite() {
            bail!(
                "the loss became {} at step {}; the last checkpoint in {} is intact (try a lower --lr)",
                report.loss,
                state.step,
                args.out.display()
            );
        }
        state.step += 1;
        state.tokens_seen += batch.num_tokens() as u64;
        state.train_seconds = train_seconds_before + session.elapsed().as_secs_f64();
        let s = smoothed.map_or(report.loss, |s| 0.98 * s + 0.02 * report.loss);
        smoothed = Some(s);

        let done = state.step - session_start_step;
        let rate =
            (done * state.batch * state.seq) as f64 / session.elapsed().as_secs_f64().max(1e-9);
        progress.update(
            state.step as u64,
            format!(
                "loss {s:.4} (now {:.4}) lr {:.2e} {rate:.0} tok/s {:.1}M tokens",
                report.loss,
                report.lr,
                state.tokens_seen as f64 / 1e6,
            ),
        );
        if state.step % args.log_every.max(1) == 0 {
            state.loss_history.push(LossPoint {
                step: state.step,
                loss: s,
            });
        }
        if let Some(text) = &eval_text
            && state.step % args.eval_every.max(1) == 0
        {
            let report = evaluate(&model, &tokenizer, text, args.eval_tokens, state.seq, &dev)?;
            progress.message(&format!(
                "eval at step {}: top-1 {:.2}% top-5 {:.2}% loss {:.3} ({} masked tokens)",
                state.step,
                100.0 * report.top1,
                100.0 * report.top5,
                report.loss,
                report.masked
            ));
            state.evals.push(Evaluation {
                step: state.step,
                report,
            });
        }
        if stop.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        if state.step % args.save_every.max(1) == 0 && state.step < state.total_steps {
            let dir = save_rotating(
                &args.out,
                args.keep,
                &model,
                &trainer,
                &mut state,
                &tokenizer_files,
            )?;
            progress.message(&format!(
                "step {}: checkpoint {}",
                state.step,
                dir.display()
            ));
        }
    }

    progress.finish();
    if interrupted {
        let dir = save_rotating(
            &args.out,
            args.keep,
            &model,
            &trainer,
            &mut state,
            &tokenizer_files,
        )?;
        eprintln!(
            "\nstopped at step {}; saved {}. Continue with --resume {}",
            state.step,
            dir.display(),
            dir.display()
        );
        return Ok(());
    }
    write_checkpoint(&args.out, &model, &trainer, &mut state, &tokenizer_files)?;
    eprintln!(
        "\ndone: {} steps, {:.1}M tokens in {}; model saved in {}",
        state.step,
        state.tokens_seen as f64 / 1e6,
        duration(Duration::from_secs_f64(state.train_seconds)),
        args.out.display()
    );
    Ok(())
}

fn count_params(model: &BertForMaskedLM) -> String {
    let n: usize = model
        .named_tensors()
        .iter()
        .map(|(_, s, _)| s.iter().product::<usize>())
        .sum();
    format!("{:.2}M", n as f64 / 1e6)
}

/// Masked-token accuracy on the held-out text, without tracking gradients.
fn evaluate(
    model: &BertForMaskedLM,
    tokenizer: &BertTokenizer,
    text: &str,
    max_tokens: usize,
    seq: usize,
    dev: &burn::tensor::Device,
) -> anyhow::Result<EvalReport> {
    let model = model.valid();
    let options = EvalOptions {
        seed: 0,
        max_tokens: Some(max_tokens),
        seq_len: seq,
        batch_size: 16,
    };
    let lines = text.lines().map(|l| Ok(l.to_string()));
    Ok(pollster::block_on(evaluate_mlm(
        &model,
        tokenizer,
        lines,
        &options,
        &dev.clone().inner(),
    ))?)
}
