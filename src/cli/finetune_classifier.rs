//! `bert finetune-classifier`: a sequence classifier trained from any BERT checkpoint
//! (the embedded masked-LM model included) on `label<TAB>text` lines, with AdamW, a
//! progress bar and held-out accuracy; saved as a Hugging Face
//! `BertForSequenceClassification` directory.

use std::path::PathBuf;

use anyhow::{Context, ensure};
use bert_burn::checkpoint::{CheckpointFiles, StoreDtype};
use bert_burn::train::classify::{
    EncodedExample, LabelledExample, accuracy, encode_examples, label_set, parse_labelled,
    sequence_classification_loss,
};
use bert_burn::train::data::Rng;
use bert_burn::train::{MlmTrainer, TrainConfig};
use bert_burn::{ClassifierPipeline, device};
use burn::module::Module;

use super::progress::Progress;
use super::{BackendArg, read_to_string};

/// More examples than anyone pastes by hand; a larger set wants a real data pipeline.
const MAX_EXAMPLES: usize = 1_000_000;

#[derive(clap::Args)]
pub struct FinetuneClassifierArgs {
    /// Any BERT checkpoint directory: a masked-LM one starts a new classifier.
    #[arg(long)]
    pub model: PathBuf,
    /// Training examples, one per line: `label<TAB>text`.
    #[arg(long)]
    pub train: PathBuf,
    /// Held-out examples for accuracy. Default: every fifth training example is held out.
    #[arg(long)]
    pub eval: Option<PathBuf>,
    /// Where to write the classifier (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-4)]
    pub lr: f64,
    /// Linear warm-up steps (default: a tenth of the run).
    #[arg(long)]
    pub warmup: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
}

fn read_examples(path: &std::path::Path) -> anyhow::Result<Vec<LabelledExample>> {
    let examples = parse_labelled(&read_to_string(path)?, MAX_EXAMPLES)
        .with_context(|| format!("reading {}", path.display()))?;
    ensure!(!examples.is_empty(), "{} has no examples", path.display());
    Ok(examples)
}

pub fn run(args: FinetuneClassifierArgs) -> anyhow::Result<()> {
    ensure!(
        args.steps > 0 && args.batch > 0,
        "--steps and --batch must be positive"
    );
    let mut train = read_examples(&args.train)?;
    let held_out = match &args.eval {
        Some(path) => read_examples(path)?,
        None => {
            ensure!(
                train.len() >= 5,
                "{} has {} examples: give at least 5, or --eval",
                args.train.display(),
                train.len()
            );
            let (mut kept, mut held) = (Vec::new(), Vec::new());
            for (i, e) in train.into_iter().enumerate() {
                if i % 5 == 4 {
                    held.push(e)
                } else {
                    kept.push(e)
                }
            }
            train = kept;
            held
        }
    };
    let labels = label_set(&train)?;

    let dev = device::open(args.backend.into())?;
    dev.seed(args.seed);
    let autodiff = dev.clone().autodiff();
    let source = CheckpointFiles::read_dir(&args.model)?;
    let (mut model, tokenizer) =
        ClassifierPipeline::new_sequence_classifier(&source, &labels, autodiff.clone())?;
    let train = encode_examples(&train, &labels, &tokenizer)?;
    let held_out = encode_examples(&held_out, &labels, &tokenizer)
        .context("the held-out examples must use the training labels")?;
    let pad = tokenizer.pad_id();
    eprintln!(
        "fine-tuning a {}-label classifier ({}) on {} examples, {} held out: {} steps of {}",
        labels.len(),
        labels.join(", "),
        train.len(),
        held_out.len(),
        args.steps,
        args.batch
    );

    let mut trainer = MlmTrainer::new(TrainConfig {
        lr: args.lr,
        warmup_steps: args.warmup.unwrap_or(args.steps / 10),
        total_steps: args.steps,
        ..TrainConfig::default()
    })?;
    let mut rng = Rng::new(args.seed);
    let mut order: Vec<usize> = Vec::new();
    let progress = Progress::new(args.steps as u64, 0, "step", 10);
    for step in 1..=args.steps {
        let mut batch: Vec<&EncodedExample> = Vec::with_capacity(args.batch);
        while batch.len() < args.batch.min(train.len()) {
            if order.is_empty() {
                // A new pass over the examples, in a new order.
                order = (0..train.len()).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.range(0, i as u32 + 1) as usize);
                }
            }
            if let Some(i) = order.pop() {
                batch.push(&train[i]);
            }
        }
        let loss = sequence_classification_loss(&model, &batch, pad, &autodiff)?;
        let (next, report) = pollster::block_on(trainer.step_on_loss(model, loss))?;
        model = next;
        ensure!(
            report.loss.is_finite(),
            "the loss became {} at step {step} (try a lower --lr)",
            report.loss
        );
        progress.update(
            step as u64,
            format!("loss {:.4} lr {:.2e}", report.loss, report.lr),
        );
    }
    progress.finish();

    let trained = model.valid();
    let accuracy = pollster::block_on(accuracy(&trained, &held_out, pad, &dev))?;
    eprintln!(
        "held-out accuracy {:.1}% ({} examples)",
        100.0 * accuracy,
        held_out.len()
    );
    let files = pollster::block_on(CheckpointFiles::from_named(
        trained.config(),
        trained.named_tensors(),
        StoreDtype::F32,
        &source,
    ))?;
    files.write_dir(&args.out)?;
    println!(
        "{}",
        serde_json::json!({"labels": labels, "steps": args.steps, "accuracy": accuracy,
                           "held_out": held_out.len(), "out": args.out.display().to_string()})
    );
    Ok(())
}
