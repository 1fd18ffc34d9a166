//! Where a pretraining run starts: a new model (tokenizer given, found or trained), the
//! weights of another checkpoint (`--init-from`), or a checkpoint of this run (`--resume`).

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure};
use bert_burn::checkpoint::load_dir;
use bert_burn::train::checkpoint::{TrainerState, read_checkpoint};
use bert_burn::{BertConfig, BertForMaskedLM, BertTokenizer};
use burn::tensor::Device;

use super::PretrainArgs;
use bert_burn::checkpoint::write_atomic;

use crate::cli::read_to_string;

/// The model, tokenizer and state a run continues from (and AdamW's moments on resume).
pub struct Start {
    pub model: BertForMaskedLM,
    pub tokenizer_json: String,
    pub state: TrainerState,
    pub optimizer: Option<Vec<u8>>,
}

/// A run at step 0: a new model, or one read from --init-from.
pub fn fresh(args: &PretrainArgs, files: &[PathBuf], dev: &Device) -> anyhow::Result<Start> {
    if let Some(seed) = args.seed {
        dev.seed(seed);
    }
    let (model, tokenizer_json) = match &args.init_from {
        Some(dir) => from_checkpoint(dir, args, dev)?,
        None => new_model(args, dev)?,
    };
    let seq = args.seq.unwrap_or(model.config().max_tokens());
    model.config().check_sequence_length(seq, 3)?;
    let steps = args.steps.unwrap_or(10_000);
    ensure!(steps > 0, "--steps must be at least 1");
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
    Ok(Start {
        model,
        tokenizer_json,
        state,
        optimizer: None,
    })
}

/// A newly initialised model of the CLI's shape and its tokenizer (given, found in OUT,
/// or trained on the corpus).
fn new_model(args: &PretrainArgs, dev: &Device) -> anyhow::Result<(BertForMaskedLM, String)> {
    let in_out = args.out.join("tokenizer.json");
    let tokenizer_json = match &args.tokenizer {
        Some(path) => read_to_string(path)?,
        None if in_out.exists() => read_to_string(&in_out)?,
        None => {
            let json = crate::cli::train_tokenizer::train(&args.corpus, args.vocab_size, 2)?;
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
        ensure!(
            std > 0.0 && std <= 1.0,
            "--local-attention-init {std} must be in (0, 1]"
        );
        model = model.with_local_attention_init(std);
    }
    Ok((model, tokenizer_json))
}

/// The weights and tokenizer of an existing checkpoint, to train further from step 0.
fn from_checkpoint(
    dir: &Path,
    args: &PretrainArgs,
    dev: &Device,
) -> anyhow::Result<(BertForMaskedLM, String)> {
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
        bail!(
            "{} not found: --init-from needs the checkpoint's tokenizer.json (or pass --tokenizer)",
            tokenizer_path.display()
        );
    }
    let tokenizer_json = read_to_string(&tokenizer_path)?;
    Ok((load_dir(dir, dev)?, tokenizer_json))
}

/// The model, tokenizer, state and optimizer of a checkpoint; --steps may extend the run.
pub fn resume(dir: &Path, args: &PretrainArgs, dev: &Device) -> anyhow::Result<Start> {
    let resumed = read_checkpoint(dir, dev)?;
    let mut state = resumed.state;
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
        resumed.model.config().check_sequence_length(seq, 3)?;
        ensure!(batch > 0, "--batch must be positive");
        eprintln!(
            "note: batch {batch} x {seq} tokens from step {} (was {} x {}): a new data stream begins",
            state.step, state.batch, state.seq
        );
        state.seq = seq;
        state.batch = batch;
        state.stream_start = state.step;
    }
    if let Some(steps) = args.steps {
        ensure!(
            steps >= state.step,
            "--steps {steps} is below the checkpoint's step {}",
            state.step
        );
        state.total_steps = steps;
    }
    if let Some(lr) = args.lr {
        state.lr = lr;
    }
    Ok(Start {
        model: resumed.model,
        tokenizer_json: resumed.tokenizer_json,
        state,
        optimizer: Some(resumed.optimizer),
    })
}
