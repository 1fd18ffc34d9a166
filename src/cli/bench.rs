//! `bert bench`: the forward pass (batch 1) or full MLM training steps of a checkpoint,
//! timed on the chosen backend.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::ensure;
use bert_burn::inference;
use bert_burn::model::OutputOptions;
use bert_burn::train::data::{Masking, Rng, make_batch};
use bert_burn::train::{MlmTrainer, TrainConfig};
use bert_burn::{Pipeline, device};
use serde_json::json;

use super::{BackendArg, open};

#[derive(clap::Args)]
pub struct BenchArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, default_value_t = 128)]
    pub seq: usize,
    #[arg(long, default_value_t = 20)]
    pub iters: usize,
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    /// Time MLM training steps (AdamW, 15 % masking) instead of the forward pass.
    #[arg(long)]
    pub train: bool,
    /// Sequences per training step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
}

/// Milliseconds of `iters` timed runs after `warmup` untimed ones; each run takes the
/// state the previous one returned (a training step's model), the first `state`.
fn time_runs<S>(
    warmup: usize,
    iters: usize,
    mut state: S,
    mut run: impl FnMut(S) -> anyhow::Result<S>,
) -> anyhow::Result<Timings> {
    for _ in 0..warmup {
        state = run(state)?;
    }
    let mut ms = Vec::with_capacity(iters.max(1));
    for _ in 0..iters.max(1) {
        let start = Instant::now();
        state = run(state)?;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(Timings { ms })
}

/// Sorted timings of one benchmark.
struct Timings {
    ms: Vec<f64>,
}

impl Timings {
    fn median(&self) -> f64 {
        self.ms[self.ms.len() / 2]
    }
    fn mean(&self) -> f64 {
        self.ms.iter().sum::<f64>() / self.ms.len() as f64
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.train {
        return bench_train(&args);
    }
    let p = open(&args.model, args.backend)?;
    let model = p.masked_lm()?;
    let cfg = model.config().clone();
    cfg.check_sequence_length(args.seq, 1)?;
    // Deterministic ids in the vocabulary, away from the special tokens.
    let ids: Vec<u32> = (0..args.seq)
        .map(|i| (1000 + 37 * i as u32) % cfg.vocab_size as u32)
        .collect();
    let types = vec![0u32; args.seq];
    let times = time_runs(args.warmup, args.iters, (), |()| {
        let inputs = inference::make_inputs(model, &[(&ids, &types)], 0, &p.device)?;
        let out = model.forward(
            inputs.input_ids,
            inputs.token_type_ids,
            inputs.attention_mask,
            OutputOptions::NONE,
        );
        // Reading the logits back waits for the device to finish.
        pollster::block_on(bert_burn::checkpoint::read_f32(out.logits))?;
        Ok(())
    })?;
    println!(
        "{}",
        json!({"backend": args.backend.to_string(), "seq": args.seq, "iters": times.ms.len(),
               "median_ms": times.median(), "mean_ms": times.mean(), "min_ms": times.ms[0],
               "layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size})
    );
    Ok(())
}

/// Training throughput: tokens per second of full MLM steps on random packed data.
fn bench_train(args: &BenchArgs) -> anyhow::Result<()> {
    let device = device::open(args.backend.into())?.autodiff();
    let p = Pipeline::load_dir(&args.model, device.clone())?;
    let cfg = p.config().clone();
    cfg.check_sequence_length(args.seq, 3)?;
    ensure!(args.batch > 0, "--batch must be positive");
    let masking = Masking::for_tokenizer(&p.tokenizer);
    let mut rng = Rng::new(0);
    let sequences: Vec<Vec<u32>> = (0..args.batch)
        .map(|_| {
            (0..args.seq)
                .map(|_| rng.range(masking.first_regular_id, cfg.vocab_size as u32))
                .collect()
        })
        .collect();
    let mut trainer = MlmTrainer::new(TrainConfig {
        total_steps: args.warmup + args.iters + 1,
        ..TrainConfig::default()
    })?;
    let pad = p.tokenizer.pad_id();
    let times = time_runs(args.warmup, args.iters, p.into_masked_lm()?, |model| {
        let data = make_batch(&sequences, &masking, &mut rng);
        let (next, _) = pollster::block_on(trainer.step(model, &data, pad, &device))?;
        Ok(next)
    })?;
    let median = times.median();
    println!(
        "{}",
        json!({"backend": args.backend.to_string(), "train": true, "batch": args.batch, "seq": args.seq,
               "median_step_ms": median, "tokens_per_s": (args.batch * args.seq) as f64 / (median / 1e3),
               "layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size})
    );
    Ok(())
}
