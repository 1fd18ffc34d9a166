//! One MLM fine-tuning run on a user's own text, a step at a time: what the page's
//! fine-tune panel drives (beside [`super::classifier_run`], its classifier twin). The
//! same step as `bert pretrain` (AdamW, warm-up/decay, clipping) on Burn's autodiff
//! device; each step ends with one asynchronous loss read, so the page's worker stays
//! responsive between steps.

use burn::module::Module;
use burn::tensor::Device;

use super::finetune::SentenceBatches;
use super::{MlmTrainer, TrainConfig};
use crate::checkpoint::{StoreDtype, load_with_config, to_safetensors};
use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;
use crate::pipeline::Pipeline;

/// How a fine-tuning run goes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FineTuneOptions {
    pub steps: usize,
    pub lr: f64,
    pub batch: usize,
    /// Longest example in tokens; longer lines are cut into pieces.
    pub max_len: usize,
    pub seed: u64,
}

impl Default for FineTuneOptions {
    /// For the embedded model (4 layers, hidden 256): a few sentences are learned in
    /// tens of steps at 3e-4 without wrecking what it knew.
    fn default() -> Self {
        Self {
            steps: 30,
            lr: 3e-4,
            batch: 8,
            max_len: 64,
            seed: 0,
        }
    }
}

impl FineTuneOptions {
    pub fn validate(&self) -> Result<()> {
        super::check_run(self.steps, self.batch, self.lr)
    }
}

pub struct FineTuneRun {
    model: Option<BertForMaskedLM>,
    trainer: MlmTrainer,
    data: SentenceBatches,
    device: Device,
    pad_id: u32,
    /// Word pieces the model has trained on so far.
    pub tokens_seen: usize,
}

impl FineTuneRun {
    /// A trainable copy of the pipeline's masked-LM model (its weights read back once)
    /// and the user's text as batches.
    pub async fn new(pipeline: &Pipeline, text: &str, options: &FineTuneOptions) -> Result<Self> {
        options.validate()?;
        let model = pipeline.masked_lm()?;
        let tokenizer = &pipeline.tokenizer;
        let max_len = options.max_len.min(pipeline.config().max_tokens());
        let data = SentenceBatches::new(text, tokenizer, max_len, options.batch, options.seed)?;
        let weights = to_safetensors(model, StoreDtype::F32).await?;
        let device = pipeline.device.clone().autodiff();
        let model = load_with_config(pipeline.config(), &weights, &device)?;
        let trainer = MlmTrainer::new(TrainConfig {
            lr: options.lr,
            warmup_steps: options.steps / 10,
            total_steps: options.steps,
            ..TrainConfig::default()
        })?;
        Ok(Self {
            model: Some(model),
            trainer,
            data,
            device,
            pad_id: tokenizer.pad_id(),
            tokens_seen: 0,
        })
    }

    /// Examples in the user's text.
    pub fn examples(&self) -> usize {
        self.data.len()
    }

    pub fn steps_done(&self) -> usize {
        self.trainer.step
    }

    /// One optimizer step; returns the batch's loss before the update.
    pub async fn step(&mut self) -> Result<f32> {
        let batch = self.data.next_batch();
        let model = self.model.take().ok_or_else(|| {
            BertError::Training("the fine-tuning run has ended after an error".into())
        })?;
        let (model, report) = self
            .trainer
            .step(model, &batch, self.pad_id, &self.device)
            .await?;
        self.model = Some(model);
        self.tokens_seen += batch.num_tokens();
        if !report.loss.is_finite() {
            return Err(BertError::Training(format!(
                "the loss became {} (try a lower learning rate)",
                report.loss
            )));
        }
        Ok(report.loss)
    }

    /// The trained weights, off the autodiff device, for inference.
    pub fn into_model(self) -> Option<BertForMaskedLM> {
        self.model.map(|m| m.valid())
    }
}
