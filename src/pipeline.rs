//! A model with its tokenizer and device: what the CLI and the browser hold.

use burn::tensor::Device;

use crate::checkpoint;
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

    /// Loads a checkpoint directory as the Hub publishes it.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &std::path::Path, device: Device) -> Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map_err(|e| BertError::io(format!("cannot read {}", path.display()), e))
        };
        let text = |name: &str| {
            String::from_utf8(read(name)?)
                .map_err(|_| BertError::Input(format!("{name} is not UTF-8 text")))
        };
        if !dir.is_dir() {
            return Err(BertError::Input(format!(
                "model directory {} does not exist",
                dir.display()
            )));
        }
        let config = text("config.json")?;
        let weights = read("model.safetensors")?;
        if dir.join("tokenizer.json").exists() {
            let json = read("tokenizer.json")?;
            Self::from_bytes(&config, &weights, TokenizerFiles::Json(&json), device)
        } else if dir.join("vocab.txt").exists() {
            let vocab = text("vocab.txt")?;
            let cfg = if dir.join("tokenizer_config.json").exists() {
                Some(text("tokenizer_config.json")?)
            } else {
                None
            };
            let files = TokenizerFiles::Vocab {
                vocab_txt: &vocab,
                tokenizer_config: cfg.as_deref(),
            };
            Self::from_bytes(&config, &weights, files, device)
        } else {
            Err(BertError::Tokenizer(format!(
                "{} has neither tokenizer.json nor vocab.txt",
                dir.display()
            )))
        }
    }
}
