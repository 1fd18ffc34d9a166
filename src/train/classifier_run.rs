//! One fine-tuning run of a sequence classifier, a step at a time: what `bert
//! finetune-classifier` and the page's Classify panel both drive. Each step draws a
//! batch from a reshuffled pass over the examples, takes one AdamW step on the
//! cross-entropy and reads the loss back once (asynchronously: the page's worker
//! stays responsive between steps).

use burn::module::Module;
use burn::tensor::Device;

use super::classify::{
    EncodedExample, LabelledExample, accuracy, label_set, sequence_classification_loss,
};
use super::data::Rng;
use super::{MlmTrainer, TrainConfig};
use crate::error::{BertError, Result};
use crate::model::BertForSequenceClassification;

/// How a classifier is trained.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassifierOptions {
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    /// Linear warm-up steps; `None`: a tenth of the run.
    pub warmup: Option<usize>,
    pub seed: u64,
}

impl Default for ClassifierOptions {
    /// What the embedded model (4 layers, hidden 256) needs to learn a few dozen
    /// sentences' sentiment: measured in BENCHMARKS.md.
    fn default() -> Self {
        Self {
            steps: 60,
            batch: 8,
            lr: 1e-4,
            warmup: None,
            seed: 0,
        }
    }
}

impl ClassifierOptions {
    pub fn validate(&self) -> Result<()> {
        super::check_run(self.steps, self.batch, self.lr)
    }
}

/// Splits off every `every`-th example (the 5th, 10th… for 5) as held out, so the
/// held-out set has the same mix of labels as the whole; an example whose label would
/// then be missing from training stays in training. Refuses a split that leaves the
/// training set with fewer than two labels or nothing held out.
pub fn hold_out(
    examples: Vec<LabelledExample>,
    every: usize,
) -> Result<(Vec<LabelledExample>, Vec<LabelledExample>)> {
    let every = every.max(2);
    if examples.len() < every {
        return Err(BertError::Input(format!(
            "{} example(s): give at least {every}, so that one in {every} can be held out to measure accuracy",
            examples.len()
        )));
    }
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for (i, e) in examples.into_iter().enumerate() {
        if i % every == every - 1 {
            held.push(e);
        } else {
            train.push(e);
        }
    }
    let (kept, moved): (Vec<_>, Vec<_>) = held
        .into_iter()
        .partition(|h| train.iter().any(|t| t.label == h.label));
    train.extend(moved);
    label_set(&train)?;
    if kept.is_empty() {
        return Err(BertError::Input(
            "no example could be held out to measure accuracy: give at least two examples of each label".into(),
        ));
    }
    Ok((train, kept))
}

/// A classifier being trained (on an autodiff device) and its data.
pub struct ClassifierRun {
    model: Option<BertForSequenceClassification>,
    trainer: MlmTrainer,
    examples: Vec<EncodedExample>,
    /// What is left of the current pass over the examples.
    order: Vec<usize>,
    rng: Rng,
    batch: usize,
    pad_id: u32,
    device: Device,
    /// Word pieces trained on so far.
    pub tokens_seen: usize,
}

/// One step: the batch's loss before the update and the learning rate used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassifierStep {
    pub step: usize,
    pub loss: f32,
    pub lr: f64,
}

impl ClassifierRun {
    /// `model` on `device` (an autodiff device), `examples` to train on.
    pub fn new(
        model: BertForSequenceClassification,
        examples: Vec<EncodedExample>,
        options: &ClassifierOptions,
        pad_id: u32,
        device: Device,
    ) -> Result<Self> {
        options.validate()?;
        if examples.is_empty() {
            return Err(BertError::Input("no examples to train on".into()));
        }
        let trainer = MlmTrainer::new(TrainConfig {
            lr: options.lr,
            warmup_steps: options.warmup.unwrap_or(options.steps / 10),
            total_steps: options.steps,
            ..TrainConfig::default()
        })?;
        Ok(Self {
            model: Some(model),
            trainer,
            examples,
            order: Vec::new(),
            rng: Rng::new(options.seed),
            batch: options.batch,
            pad_id,
            device,
            tokens_seen: 0,
        })
    }

    pub fn steps_done(&self) -> usize {
        self.trainer.step
    }

    /// The next batch's examples: the rest of this pass, then a new pass in a new order.
    fn next_batch(&mut self) -> Vec<usize> {
        let size = self.batch.min(self.examples.len());
        let mut batch = Vec::with_capacity(size);
        while batch.len() < size {
            if self.order.is_empty() {
                self.order = (0..self.examples.len()).collect();
                for i in (1..self.order.len()).rev() {
                    self.order.swap(i, self.rng.range(0, i as u32 + 1) as usize);
                }
            }
            batch.extend(self.order.pop());
        }
        batch
    }

    /// One AdamW step on the next batch. A non-finite loss ends the run with an error.
    pub async fn step(&mut self) -> Result<ClassifierStep> {
        let indices = self.next_batch();
        let batch: Vec<&EncodedExample> = indices.iter().map(|&i| &self.examples[i]).collect();
        let model = self
            .model
            .take()
            .ok_or_else(|| BertError::Input("the run has ended after an error".into()))?;
        let loss = sequence_classification_loss(&model, &batch, self.pad_id, &self.device)?;
        self.tokens_seen += batch.iter().map(|e| e.ids.len()).sum::<usize>();
        let (model, report) = self.trainer.step_on_loss(model, loss).await?;
        if !report.loss.is_finite() {
            return Err(BertError::Input(format!(
                "the loss became {} at step {} (try a lower learning rate)",
                report.loss, self.trainer.step
            )));
        }
        self.model = Some(model);
        Ok(ClassifierStep {
            step: self.trainer.step,
            loss: report.loss,
            lr: report.lr,
        })
    }

    /// The share of `held_out` the model gets right now (evaluated without dropout).
    pub async fn accuracy(&self, held_out: &[EncodedExample]) -> Result<f64> {
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| BertError::Input("the run has ended after an error".into()))?
            .valid();
        let device = self.device.clone().without_autodiff();
        accuracy(&model, held_out, self.pad_id, &device).await
    }

    /// The trained weights, off the autodiff device, for inference and saving.
    pub fn into_model(self) -> Option<BertForSequenceClassification> {
        self.model.map(|m| m.valid())
    }
}
