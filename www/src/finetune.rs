//! Fine-tuning the loaded model on the user's text, in the tab: the same MLM step as
//! `bert pretrain` (AdamW, warm-up/decay, clipping) on Burn's autodiff device over
//! WebGPU (or the CPU fallback). Each step ends with one asynchronous loss read, so the
//! page stays responsive between steps.

use bert_burn::checkpoint::{StoreDtype, load_with_config, to_safetensors};
use bert_burn::model::BertForMaskedLM;
use bert_burn::train::finetune::SentenceBatches;
use bert_burn::train::{MlmTrainer, TrainConfig};
use burn::module::Module;
use burn::tensor::Device;

use crate::session::Session;

/// What the fine-tune panel asks for.
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
    pub fn validate(&self) -> Result<(), String> {
        bert_burn::train::check_run(self.steps, self.batch, self.lr).map_err(|e| e.to_string())
    }
}

pub struct FineTuner {
    model: Option<BertForMaskedLM>,
    trainer: MlmTrainer,
    data: SentenceBatches,
    device: Device,
    pad_id: u32,
    /// Word pieces the model has trained on so far.
    pub tokens_seen: usize,
}

impl FineTuner {
    /// A trainable copy of the session's model (its weights read back once) and the
    /// user's text as batches.
    pub async fn new(
        session: &Session,
        text: &str,
        options: &FineTuneOptions,
    ) -> Result<Self, String> {
        options.validate()?;
        let model = session.masked_lm()?;
        let tokenizer = &session.tokenizer;
        let max_len = options
            .max_len
            .min(session.config().max_position_embeddings);
        let data = SentenceBatches::new(text, tokenizer, max_len, options.batch, options.seed)
            .map_err(|e| e.to_string())?;
        let weights = to_safetensors(model, StoreDtype::F32)
            .await
            .map_err(|e| e.to_string())?;
        let device = session.device.clone().autodiff();
        let model =
            load_with_config(session.config(), &weights, &device).map_err(|e| e.to_string())?;
        let trainer = MlmTrainer::new(TrainConfig {
            lr: options.lr,
            warmup_steps: options.steps / 10,
            total_steps: options.steps,
            ..TrainConfig::default()
        })
        .map_err(|e| e.to_string())?;
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
    pub async fn step(&mut self) -> Result<f32, String> {
        let batch = self.data.next_batch();
        let model = self
            .model
            .take()
            .ok_or("the fine-tuning run has ended after an error")?;
        let (model, report) = self
            .trainer
            .step(model, &batch, self.pad_id, &self.device)
            .await
            .map_err(|e| e.to_string())?;
        self.model = Some(model);
        self.tokens_seen += batch.num_tokens();
        if !report.loss.is_finite() {
            return Err(format!(
                "the loss became {} (try a lower learning rate)",
                report.loss
            ));
        }
        Ok(report.loss)
    }

    /// The trained weights, off the autodiff device, for inference.
    pub fn into_model(self) -> Option<BertForMaskedLM> {
        self.model.map(|m| m.valid())
    }
}
