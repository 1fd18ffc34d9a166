//! A task model with its tokenizer and device — the classification counterpart of
//! [`crate::Pipeline`]: a published task checkpoint as it is, or a new classifier
//! started from any BERT checkpoint (the embedded masked-LM model included).

use burn::tensor::Device;

use crate::checkpoint::{
    CheckpointFiles, HeadWeights, load_sequence_classifier, load_token_classifier,
};
use crate::config::{BertConfig, Task};
use crate::error::{BertError, Result};
use crate::model::{BertForSequenceClassification, BertForTokenClassification};
use crate::pipeline::tokenizer_for;
use crate::tokenizer::BertTokenizer;

/// One of the two task models.
#[derive(Debug)]
pub enum Classifier {
    Sequence(BertForSequenceClassification),
    Token(BertForTokenClassification),
}

impl Classifier {
    pub fn config(&self) -> &BertConfig {
        match self {
            Self::Sequence(m) => m.config(),
            Self::Token(m) => m.config(),
        }
    }

    pub fn task(&self) -> Task {
        match self {
            Self::Sequence(_) => Task::Sequence,
            Self::Token(_) => Task::Token,
        }
    }
}

pub struct ClassifierPipeline {
    pub model: Classifier,
    pub tokenizer: BertTokenizer,
    pub device: Device,
}

impl ClassifierPipeline {
    /// A task checkpoint as published: its config names the architecture and labels.
    pub fn from_files(files: &CheckpointFiles, device: Device) -> Result<Self> {
        let config = BertConfig::from_json(files.config_json()?)?;
        let tokenizer = tokenizer_for(&config, files.tokenizer()?)?;
        let weights = files.weights()?;
        let model = match config.task() {
            Task::Sequence => Classifier::Sequence(load_sequence_classifier(
                &config,
                weights,
                &device,
                HeadWeights::FromCheckpoint,
            )?),
            Task::Token => Classifier::Token(load_token_classifier(
                &config,
                weights,
                &device,
                HeadWeights::FromCheckpoint,
            )?),
            Task::MaskedLm => {
                return Err(BertError::Config(format!(
                    "this checkpoint has no classification head (architectures: {:?}); \
                     train one from it with `bert finetune-classifier`",
                    config.architectures
                )));
            }
        };
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// A new sequence classifier for `labels`, its encoder (and pooler, when there is
    /// one) from any BERT checkpoint's files, its head initialised as transformers does.
    pub fn new_sequence_classifier(
        files: &CheckpointFiles,
        labels: &[String],
        device: Device,
    ) -> Result<(BertForSequenceClassification, BertTokenizer)> {
        let base = BertConfig::from_json(files.config_json()?)?;
        let config = base.with_labels(Task::Sequence, labels);
        let tokenizer = tokenizer_for(&config, files.tokenizer()?)?;
        let model = load_sequence_classifier(&config, files.weights()?, &device, HeadWeights::New)?;
        Ok((model, tokenizer))
    }

    /// Loads a task checkpoint directory.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &std::path::Path, device: Device) -> Result<Self> {
        Self::from_files(&CheckpointFiles::read_dir(dir)?, device)
    }
}
