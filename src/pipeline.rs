//! A model with its tokenizer and device: what the CLI and the browser hold.

use burn::tensor::Device;

use crate::checkpoint::{self, CheckpointFiles};
use crate::config::BertConfig;
use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;
use crate::tokenizer::BertTokenizer;

pub struct Pipeline {
    pub model: BertForMaskedLM,
    pub tokenizer: BertTokenizer,
    pub device: Device,
}

/// The tokenizer files of a checkpoint: `tokenizer.json`, or `vocab.txt` with an
/// optional `tokenizer_config.json`.
pub enum TokenizerFiles<'a> {
    Json(&'a [u8]),
    Vocab {
        vocab_txt: &'a str,
        tokenizer_config: Option<&'a str>,
    },
}

impl Pipeline {
    /// Builds everything from the files' contents, checking that they belong together.
    pub fn from_bytes(
        config_json: &str,
        weights: &[u8],
        tokenizer: TokenizerFiles<'_>,
        device: Device,
    ) -> Result<Self> {
        let config = BertConfig::from_json(config_json)?;
        let max_len = config.max_position_embeddings;
        let tokenizer = match tokenizer {
            TokenizerFiles::Json(bytes) => BertTokenizer::from_json(bytes, max_len)?,
            TokenizerFiles::Vocab {
                vocab_txt,
                tokenizer_config,
            } => BertTokenizer::from_vocab(vocab_txt, tokenizer_config, max_len)?,
        };
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(BertError::Tokenizer(format!(
                "the tokenizer has {} tokens but the model's vocab_size is {}: they do not belong together",
                tokenizer.vocab_size(),
                config.vocab_size
            )));
        }
        let model = checkpoint::load_with_config(&config, weights, &device)?;
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// Builds everything from a checkpoint's files (a directory read, or the page's).
    pub fn from_files(files: &CheckpointFiles, device: Device) -> Result<Self> {
        Self::from_bytes(
            files.config_json()?,
            files.weights()?,
            files.tokenizer()?,
            device,
        )
    }

    /// Loads a checkpoint directory as the Hub publishes it.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &std::path::Path, device: Device) -> Result<Self> {
        Self::from_files(&CheckpointFiles::read_dir(dir)?, device)
    }
}
