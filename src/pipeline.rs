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

/// What a tokenizer's vocabulary must be to go with a model's embeddings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VocabularyUse {
    /// Every token id has an embedding row; spare rows are fine (published checkpoints
    /// often pad `vocab_size` to a multiple of 8 or 64).
    Inference,
    /// One row per token, no more: training would otherwise learn rows no input reaches
    /// and predict tokens the tokenizer cannot write.
    Training,
}

/// Checks that `tokenizer` and a model of `config` belong together, for `usage`.
pub fn check_vocabulary(
    tokenizer: &BertTokenizer,
    config: &BertConfig,
    usage: VocabularyUse,
) -> Result<()> {
    let (tokens, rows) = (tokenizer.vocab_size(), config.vocab_size);
    let fits = match usage {
        VocabularyUse::Inference => tokens <= rows,
        VocabularyUse::Training => tokens == rows,
    };
    if fits {
        return Ok(());
    }
    Err(BertError::Tokenizer(format!(
        "the tokenizer has {tokens} tokens but the model's vocab_size is {rows}: they do not belong together{}",
        if usage == VocabularyUse::Training && tokens < rows {
            " (training needs one embedding row per token)"
        } else {
            ""
        }
    )))
}

/// Builds the tokenizer from its files and checks it against the model's vocabulary.
pub fn tokenizer_for(config: &BertConfig, files: TokenizerFiles<'_>) -> Result<BertTokenizer> {
    let max_len = config.max_position_embeddings;
    let tokenizer = match files {
        TokenizerFiles::Json(bytes) => BertTokenizer::from_json(bytes, max_len)?,
        TokenizerFiles::Vocab {
            vocab_txt,
            tokenizer_config,
        } => BertTokenizer::from_vocab(vocab_txt, tokenizer_config, max_len)?,
    };
    check_vocabulary(&tokenizer, config, VocabularyUse::Inference)?;
    Ok(tokenizer)
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
        if config.task() != crate::config::Task::MaskedLm {
            return Err(BertError::Config(format!(
                "this is a {} checkpoint, not a masked-LM one: classify with it (`bert classify`) instead of filling masks",
                config.architectures.first().map_or("task", String::as_str)
            )));
        }
        let tokenizer = tokenizer_for(&config, tokenizer)?;
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
