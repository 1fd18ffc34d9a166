//! `bert finetune-classifier`: a sequence classifier trained from any BERT checkpoint
//! (the embedded masked-LM model included) on `label<TAB>text` lines, with AdamW, a
//! progress bar and held-out accuracy; saved as a Hugging Face
//! `BertForSequenceClassification` directory.

use std::path::PathBuf;

use anyhow::{Context, ensure};
use bert_burn::checkpoint::{CheckpointFiles, StoreDtype};
use bert_burn::train::classifier_run::{ClassifierOptions, ClassifierRun, hold_out};
use bert_burn::train::classify::{LabelledExample, encode_examples, label_set, parse_labelled};
use bert_burn::{Pipeline, device};

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
    let options = ClassifierOptions {
        steps: args.steps,
        batch: args.batch,
        lr: args.lr,
        warmup: args.warmup,
        seed: args.seed,
    };
    options.validate()?;
    let examples = read_examples(&args.train)?;
    let (train, held_out) = match &args.eval {
        Some(path) => (examples, read_examples(path)?),
        None => hold_out(examples, 5)
            .with_context(|| format!("{} (or give --eval)", args.train.display()))?,
    };
    let labels = label_set(&train)?;

    let dev = device::open(args.backend.into())?;
    dev.seed(args.seed);
    let autodiff = dev.clone().autodiff();
    let source = CheckpointFiles::read_dir(&args.model)?;
    let (model, tokenizer) = Pipeline::new_sequence_classifier(&source, &labels, &autodiff)?;
    let train = encode_examples(&train, &labels, &tokenizer)?;
    let held_out = encode_examples(&held_out, &labels, &tokenizer)
        .context("the held-out examples must use the training labels")?;
    eprintln!(
        "fine-tuning a {}-label classifier ({}) on {} examples, {} held out: {} steps of {}",
        labels.len(),
        labels.join(", "),
        train.len(),
        held_out.len(),
        args.steps,
        args.batch
    );

    let mut run = ClassifierRun::new(model, train, &options, tokenizer.pad_id(), autodiff)?;
    let progress = Progress::new(args.steps as u64, 0, "step", 10);
    for _ in 0..args.steps {
        let step = pollster::block_on(run.step())?;
        progress.update(
            step.step as u64,
            format!("loss {:.4} lr {:.2e}", step.loss, step.lr),
        );
    }
    progress.finish();
    let accuracy = pollster::block_on(run.accuracy(&held_out))?;
    let trained = run.into_model().context("the run ended without a model")?;
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
