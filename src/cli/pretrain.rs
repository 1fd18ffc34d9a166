//! `bert pretrain`: masked-language-model pretraining from scratch (or resumed) on a
//! text corpus, with a progress line, periodic checkpoints in Hugging Face layout, and a
//! clean save on Ctrl-C.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bert_burn::checkpoint::{StoreDtype, load_dir, to_safetensors};
use bert_burn::device::{self, Backend};
use bert_burn::eval::{EvalOptions, evaluate_mlm};
use bert_burn::train::corpus::{InterleavedLines, corpus_files};
use bert_burn::train::data::{BatchStream, Masking, Packer};
use bert_burn::train::wordpiece::{tokenizer_config_json, vocab_txt};
use bert_burn::train::{MlmTrainer, TrainConfig, param_ids, with_param_ids};
use bert_burn::{BertConfig, BertError, BertForMaskedLM, BertTokenizer, Result};
use burn::module::Module;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::progress::{Progress, bar, duration};
use super::{read_to_string, write_atomic};

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
    /// cpu, wgpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub backend: String,
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

/// The run's settings and where it stands; saved in every checkpoint as trainer_state.json.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct TrainerState {
    step: usize,
    total_steps: usize,
    batch: usize,
    seq: usize,
    lr: f64,
    warmup: usize,
    weight_decay: f32,
    seed: u64,
    /// Step at which the current data stream began (a resume that changes the batch
    /// or sequence shape starts a new stream, seeded with `seed + stream_start`).
    #[serde(default)]
    stream_start: usize,
    tokens_seen: u64,
    train_seconds: f64,
    corpus: Vec<String>,
    /// Parameter ids in visiting order: they key the optimizer state.
    param_ids: Vec<u64>,
    /// (step, smoothed loss) every --log-every steps.
    loss_history: Vec<(usize, f32)>,
    evals: Vec<serde_json::Value>,
}

const SHUFFLE_BUFFER: usize = 4096;

pub fn run(args: PretrainArgs) -> Result<()> {
    let files = corpus_files(&args.corpus)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| BertError::io(format!("cannot create {}", args.out.display()), e))?;
    // Fail now, not after an hour, if the output cannot be written.
    write_atomic(&args.out.join(".write-test"), b"ok")?;
    let _ = std::fs::remove_file(args.out.join(".write-test"));

    let dev = device::open(Backend::parse(&args.backend)?)?.autodiff();
    let (mut model, tokenizer_json, mut state, optimizer) = match &args.resume {
        Some(dir) => resume(dir, &args, &dev)?,
        None => fresh(&args, &files, &dev)?,
    };
    let tokenizer = BertTokenizer::from_json(
        tokenizer_json.as_bytes(),
        model.config().max_position_embeddings,
    )?;
    if tokenizer.vocab_size() != model.config().vocab_size {
        return Err(BertError::Input(format!(
            "the tokenizer has {} tokens but the model's vocabulary is {}",
            tokenizer.vocab_size(),
            model.config().vocab_size
        )));
    }
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
    let progress = Progress::new(args.log_every);
    if state.step > state.stream_start {
        // The data order is a pure function of the seed: replaying it puts the stream
        // exactly where the interrupted run left it.
        let start = Instant::now();
        for i in state.stream_start..state.step {
            stream.next_batch()?;
            progress.update(
                i,
                &format!("replaying the data stream to step {}: {i}", state.step),
            );
        }
        progress.message(&format!(
            "data stream at step {} (replayed in {})",
            state.step,
            duration(start.elapsed())
        ));
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
        .map_err(|e| BertError::Input(format!("cannot install the Ctrl-C handler: {e}")))?;
    }

    let cfg = model.config().clone();
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
        let batch = stream.next_batch()?.ok_or_else(|| {
            BertError::Input(format!("the corpus {} has no text", args.corpus.display()))
        })?;
        let (next, report) = pollster::block_on(trainer.step(model, &batch, pad, &dev))?;
        model = next;
        if !report.loss.is_finite() {
            return Err(BertError::Input(format!(
                "the loss became {} at step {}; the last checkpoint in {} is intact (try a lower --lr)",
                report.loss,
                state.step,
                args.out.display()
            )));
        }
        state.step += 1;
        state.tokens_seen += batch.num_tokens() as u64;
        state.train_seconds = train_seconds_before + session.elapsed().as_secs_f64();
        let s = smoothed.map_or(report.loss, |s| 0.98 * s + 0.02 * report.loss);
        smoothed = Some(s);

        let done = state.step - session_start_step;
        let elapsed = session.elapsed();
        let rate = (done * state.batch * state.seq) as f64 / elapsed.as_secs_f64().max(1e-9);
        let eta = Duration::from_secs_f64(
            elapsed.as_secs_f64() / done as f64 * (state.total_steps - state.step) as f64,
        );
        let fraction = state.step as f64 / state.total_steps as f64;
        progress.update(
            state.step,
            &format!(
                "step {}/{} {} {:.1}% loss {:.4} (now {:.4}) lr {:.2e} {:.0} tok/s {:.1}M tokens elapsed {} ETA {}",
                state.step,
                state.total_steps,
                bar(fraction, 20),
                100.0 * fraction,
                s,
                report.loss,
                report.lr,
                rate,
                state.tokens_seen as f64 / 1e6,
                duration(elapsed),
                duration(eta)
            ),
        );
        if state.step % args.log_every.max(1) == 0 {
            state.loss_history.push((state.step, s));
        }
        if let Some(text) = &eval_text
            && state.step % args.eval_every.max(1) == 0
        {
            let mut report = evaluate(&model, &tokenizer, text, args.eval_tokens, state.seq, &dev)?;
            report["step"] = state.step.into();
            progress.message(&format!(
                "eval at step {}: top-1 {:.2}% top-5 {:.2}% loss {:.3} ({} masked tokens)",
                state.step,
                100.0 * report["top1"].as_f64().unwrap_or(0.0),
                100.0 * report["top5"].as_f64().unwrap_or(0.0),
                report["loss"].as_f64().unwrap_or(0.0),
                report["masked"]
            ));
            state.evals.push(report);
        }
        if stop.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        if state.step % args.save_every.max(1) == 0 && state.step < state.total_steps {
            let dir = save_checkpoint(
                &args.out,
                args.keep,
                &model,
                &trainer,
                &mut state,
                &tokenizer_json,
                &tokenizer,
            )?;
            progress.message(&format!(
                "step {}: checkpoint {}",
                state.step,
                dir.display()
            ));
        }
    }

    if interrupted {
        let dir = save_checkpoint(
            &args.out,
            args.keep,
            &model,
            &trainer,
            &mut state,
            &tokenizer_json,
            &tokenizer,
        )?;
        eprintln!(
            "\nstopped at step {}; saved {}. Continue with --resume {}",
            state.step,
            dir.display(),
            dir.display()
        );
        return Ok(());
    }
    write_checkpoint(
        &args.out,
        &model,
        &trainer,
        &mut state,
        &tokenizer_json,
        &tokenizer,
    )?;
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

fn evaluate(
    model: &BertForMaskedLM,
    tokenizer: &BertTokenizer,
    text: &str,
    max_tokens: usize,
    seq: usize,
    dev: &burn::tensor::Device,
) -> Result<serde_json::Value> {
    // Score without tracking gradients.
    let model = model.valid();
    let options = EvalOptions {
        seed: 0,
        max_tokens: Some(max_tokens),
        seq_len: seq,
        batch_size: 16,
    };
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let report = pollster::block_on(evaluate_mlm(
        &model,
        tokenizer,
        lines,
        &options,
        &dev.clone().inner(),
    ))?;
    serde_json::to_value(report).map_err(|e| BertError::Input(e.to_string()))
}

/// A run at step 0: a new model, or one read from --init-from.
fn fresh(
    args: &PretrainArgs,
    files: &[PathBuf],
    dev: &burn::tensor::Device,
) -> Result<(BertForMaskedLM, String, TrainerState, Option<Vec<u8>>)> {
    if let Some(seed) = args.seed {
        dev.seed(seed);
    }
    let (model, tokenizer_json) = match &args.init_from {
        Some(dir) => from_checkpoint(dir, args, dev)?,
        None => new_model(args, dev)?,
    };
    let max_pos = model.config().max_position_embeddings;
    let seq = args.seq.unwrap_or(max_pos);
    if seq < 3 || seq > max_pos {
        return Err(BertError::Input(format!(
            "--seq {seq} must be between 3 and the model's {max_pos} positions"
        )));
    }
    let steps = args.steps.unwrap_or(10_000);
    if steps == 0 {
        return Err(BertError::Input("--steps must be at least 1".into()));
    }
    let state = TrainerState {
        step: 0,
        total_steps: steps,
        batch: args.batch.unwrap_or(32),
        seq,
        // Post-LN BERT of this size stalls at 1.5e-3 on a copy task that 3e-4..7e-4 learn (README).
        lr: args.lr.unwrap_or(5e-4),
        warmup: args.warmup.unwrap_or(steps / 50),
        weight_decay: args.weight_decay.unwrap_or(0.01),
        seed: args.seed.unwrap_or(0),
        stream_start: 0,
        tokens_seen: 0,
        train_seconds: 0.0,
        corpus: files.iter().map(|f| f.display().to_string()).collect(),
        param_ids: Vec::new(),
        loss_history: Vec::new(),
        evals: Vec::new(),
    };
    Ok((model, tokenizer_json, state, None))
}

/// A newly initialised model of the CLI's shape and its tokenizer (given, found in OUT,
/// or trained on the corpus).
fn new_model(args: &PretrainArgs, dev: &burn::tensor::Device) -> Result<(BertForMaskedLM, String)> {
    let in_out = args.out.join("tokenizer.json");
    let tokenizer_json = match &args.tokenizer {
        Some(path) => read_to_string(path)?,
        None if in_out.exists() => read_to_string(&in_out)?,
        None => {
            let json = super::train_tokenizer::train(&args.corpus, args.vocab_size, 2)?;
            write_atomic(&in_out, json.as_bytes())?;
            json
        }
    };
    let tokenizer = BertTokenizer::from_json(tokenizer_json.as_bytes(), args.max_pos)?;
    let config = BertConfig {
        vocab_size: tokenizer.vocab_size(),
        hidden_size: args.hidden,
        num_hidden_layers: args.layers,
        num_attention_heads: args.heads,
        intermediate_size: args.intermediate,
        max_position_embeddings: args.max_pos,
        hidden_act: "gelu".into(),
        // Our layers have no dropout: say so, so that transformers trains it the same way.
        hidden_dropout_prob: 0.0,
        attention_probs_dropout_prob: 0.0,
        pad_token_id: Some(tokenizer.pad_id() as usize),
        ..BertConfig::default()
    };
    config.validate()?;
    let mut model = BertForMaskedLM::init(&config, dev)?;
    if let Some(std) = args.local_attention_init {
        if !(std > 0.0 && std <= 1.0) {
            return Err(BertError::Input(format!(
                "--local-attention-init {std} must be in (0, 1]"
            )));
        }
        model = model.with_local_attention_init(std);
    }
    Ok((model, tokenizer_json))
}

/// The weights and tokenizer of an existing checkpoint, to train further from step 0.
fn from_checkpoint(
    dir: &Path,
    args: &PretrainArgs,
    dev: &burn::tensor::Device,
) -> Result<(BertForMaskedLM, String)> {
    if args.local_attention_init.is_some() {
        eprintln!(
            "note: --local-attention-init sets starting values: it is ignored with --init-from"
        );
    }
    let tokenizer_path = args
        .tokenizer
        .clone()
        .unwrap_or_else(|| dir.join("tokenizer.json"));
    if !tokenizer_path.exists() {
        return Err(BertError::Input(format!(
            "{} not found: --init-from needs the checkpoint's tokenizer.json (or pass --tokenizer)",
            tokenizer_path.display()
        )));
    }
    let tokenizer_json = read_to_string(&tokenizer_path)?;
    Ok((load_dir(dir, dev)?, tokenizer_json))
}

/// The model, tokenizer, state and optimizer of a checkpoint; --steps may extend the run.
fn resume(
    dir: &Path,
    args: &PretrainArgs,
    dev: &burn::tensor::Device,
) -> Result<(BertForMaskedLM, String, TrainerState, Option<Vec<u8>>)> {
    let state_path = dir.join("trainer_state.json");
    let mut state: TrainerState =
        serde_json::from_str(&read_to_string(&state_path)?).map_err(|e| {
            BertError::Input(format!(
                "{} is not a trainer state: {e}",
                state_path.display()
            ))
        })?;
    let model = load_dir(dir, dev)?;
    let tokenizer_json = read_to_string(&dir.join("tokenizer.json"))?;
    let optim_path = dir.join("optimizer.bpk");
    let optimizer = std::fs::read(&optim_path)
        .map_err(|e| BertError::io(format!("cannot read {}", optim_path.display()), e))?;
    if args.local_attention_init.is_some() {
        eprintln!("note: --local-attention-init sets starting values: it is ignored when resuming");
    }
    if args.seed.is_some() {
        eprintln!(
            "note: --seed is ignored when resuming (the checkpoint's seed is kept so the data replays exactly)"
        );
    }
    // A new batch shape (e.g. short sequences first, full length last, as BERT was
    // trained) continues the run on a new data stream.
    let seq = args.seq.unwrap_or(state.seq);
    let batch = args.batch.unwrap_or(state.batch);
    if seq != state.seq || batch != state.batch {
        let limit = model.config().max_position_embeddings;
        if seq < 3 || seq > limit || batch == 0 {
            return Err(BertError::Input(format!(
                "--seq must be in 3..={limit} and --batch positive"
            )));
        }
        eprintln!(
            "note: batch {batch} x {seq} tokens from step {} (was {} x {}): a new data stream begins",
            state.step, state.batch, state.seq
        );
        state.seq = seq;
        state.batch = batch;
        state.stream_start = state.step;
    }
    if let Some(steps) = args.steps {
        if steps < state.step {
            return Err(BertError::Input(format!(
                "--steps {steps} is below the checkpoint's step {}",
                state.step
            )));
        }
        state.total_steps = steps;
    }
    if let Some(lr) = args.lr {
        state.lr = lr;
    }
    Ok((model, tokenizer_json, state, Some(optimizer)))
}

/// Writes OUT/checkpoint-<step>/ and removes checkpoints beyond --keep.
fn save_checkpoint(
    out: &Path,
    keep: usize,
    model: &BertForMaskedLM,
    trainer: &MlmTrainer,
    state: &mut TrainerState,
    tokenizer_json: &str,
    tokenizer: &BertTokenizer,
) -> Result<PathBuf> {
    let dir = out.join(format!("checkpoint-{}", state.step));
    write_checkpoint(&dir, model, trainer, state, tokenizer_json, tokenizer)?;
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

/// A complete Hugging Face checkpoint (config, f32 weights, tokenizer files) plus what
/// resuming needs (trainer_state.json, optimizer.bpk). The state file goes last.
fn write_checkpoint(
    dir: &Path,
    model: &BertForMaskedLM,
    trainer: &MlmTrainer,
    state: &mut TrainerState,
    tokenizer_json: &str,
    tokenizer: &BertTokenizer,
) -> Result<()> {
    // The optimizer state is keyed by these ids; record them with it.
    state.param_ids = param_ids(model);
    std::fs::create_dir_all(dir)
        .map_err(|e| BertError::io(format!("cannot create {}", dir.display()), e))?;
    let weights = pollster::block_on(to_safetensors(model, StoreDtype::F32))?;
    write_atomic(&dir.join("model.safetensors"), &weights)?;
    write_atomic(
        &dir.join("config.json"),
        model.config().to_json().as_bytes(),
    )?;
    write_atomic(&dir.join("tokenizer.json"), tokenizer_json.as_bytes())?;
    write_atomic(&dir.join("vocab.txt"), vocab_txt(tokenizer).as_bytes())?;
    write_atomic(
        &dir.join("tokenizer_config.json"),
        tokenizer_config_json(model.config().max_position_embeddings).as_bytes(),
    )?;
    write_atomic(&dir.join("optimizer.bpk"), &trainer.state_bytes()?)?;
    let state_json =
        serde_json::to_string_pretty(&json!(state)).map_err(|e| BertError::Input(e.to_string()))?;
    write_atomic(&dir.join("trainer_state.json"), state_json.as_bytes())
}
