//! A Hugging Face checkpoint directory as a set of named files — what `save_pretrained`
//! writes and `from_pretrained` reads. The CLI writes it to disk, pretraining adds its
//! trainer files beside it, and the page hands the same files to the user; the files
//! exist here once, whatever carries them.

use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;
use crate::pipeline::TokenizerFiles;

use super::{StoreDtype, named_to_safetensors};
use crate::config::BertConfig;
use crate::model::init::NamedTensor;

pub const CONFIG: &str = "config.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const TOKENIZER_JSON: &str = "tokenizer.json";
pub const VOCAB_TXT: &str = "vocab.txt";
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";
pub const SPECIAL_TOKENS_MAP: &str = "special_tokens_map.json";

/// What to do when a checkpoint has no tokenizer this program reads: SentencePiece models
/// (XLM-R's `sentencepiece.bpe.model`, ALBERT's `spiece.model`, DeBERTa's `spm.model`) are
/// converted to `tokenizer.json` by transformers once.
pub const NO_TOKENIZER_HINT: &str = "this program reads tokenizer.json (or BERT's vocab.txt); \
     a checkpoint that ships only a SentencePiece model (sentencepiece.bpe.model, spiece.model, \
     spm.model) gets one with `python -c \"from transformers import AutoTokenizer as T; \
     T.from_pretrained('DIR').save_pretrained('DIR')\"`";

/// The tokenizer's files as transformers saves them; a checkpoint carries those it has.
pub const TOKENIZER_FILES: [&str; 4] = [
    TOKENIZER_JSON,
    VOCAB_TXT,
    TOKENIZER_CONFIG,
    SPECIAL_TOKENS_MAP,
];

/// A checkpoint's files by name, in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct CheckpointFiles {
    files: Vec<(String, Vec<u8>)>,
}

impl CheckpointFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file, replacing one of the same name.
    pub fn insert(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        let name = name.into();
        match self.files.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = bytes,
            None => self.files.push((name, bytes)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }

    /// A file that must be UTF-8 text (JSON, vocab.txt).
    pub fn text(&self, name: &str) -> Result<Option<&str>> {
        self.get(name)
            .map(|bytes| {
                std::str::from_utf8(bytes)
                    .map_err(|_| BertError::Input(format!("{name} is not UTF-8 text")))
            })
            .transpose()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(n, b)| (n.as_str(), b.as_slice()))
    }

    pub fn into_vec(self) -> Vec<(String, Vec<u8>)> {
        self.files
    }

    /// Only the tokenizer's files among these.
    pub fn tokenizer_only(&self) -> Self {
        Self {
            files: self
                .files
                .iter()
                .filter(|(n, _)| TOKENIZER_FILES.contains(&n.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// The masked-LM model these files hold (the tokenizer aside).
    pub fn masked_lm(&self, device: &burn::tensor::Device) -> Result<BertForMaskedLM> {
        super::load_from_bytes(self.config_json()?, self.weights()?, device)
    }

    /// `config.json`, required.
    pub fn config_json(&self) -> Result<&str> {
        self.text(CONFIG)?
            .ok_or_else(|| BertError::Config("the checkpoint has no config.json".into()))
    }

    /// `model.safetensors`, required.
    pub fn weights(&self) -> Result<&[u8]> {
        self.get(WEIGHTS)
            .ok_or_else(|| BertError::Safetensors("the checkpoint has no model.safetensors".into()))
    }

    /// The tokenizer to build: `tokenizer.json` when there is one (the fast tokenizer
    /// transformers prefers), else `vocab.txt` with its optional `tokenizer_config.json`.
    pub fn tokenizer(&self) -> Result<TokenizerFiles<'_>> {
        if let Some(json) = self.get(TOKENIZER_JSON) {
            return Ok(TokenizerFiles::Json(json));
        }
        match self.text(VOCAB_TXT)? {
            Some(vocab_txt) => Ok(TokenizerFiles::Vocab {
                vocab_txt,
                tokenizer_config: self.text(TOKENIZER_CONFIG)?,
            }),
            None => Err(BertError::Tokenizer(format!(
                "the checkpoint has neither tokenizer.json nor vocab.txt: {NO_TOKENIZER_HINT}"
            ))),
        }
    }

    /// The model's weights (read back from the device) and config, with `tokenizer`'s
    /// files alongside: a directory `BertForMaskedLM.from_pretrained` and
    /// `AutoTokenizer.from_pretrained` load as they are.
    pub async fn from_model(
        model: &BertForMaskedLM,
        dtype: StoreDtype,
        tokenizer: &CheckpointFiles,
    ) -> Result<Self> {
        Self::from_named(model.config(), model.named_tensors(), dtype, tokenizer).await
    }

    /// Any model given as its config and named parameters (a task model's
    /// `named_tensors`), with `tokenizer`'s files alongside.
    pub async fn from_named(
        config: &BertConfig,
        named: Vec<NamedTensor>,
        dtype: StoreDtype,
        tokenizer: &CheckpointFiles,
    ) -> Result<Self> {
        let mut files = Self::new();
        files.insert(CONFIG, config.to_json().into_bytes());
        files.insert(WEIGHTS, named_to_safetensors(named, dtype).await?);
        for (name, bytes) in tokenizer.tokenizer_only().files {
            files.insert(name, bytes);
        }
        Ok(files)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl CheckpointFiles {
    /// Reads a checkpoint directory: `config.json` and `model.safetensors` must be there,
    /// the tokenizer files are read when present.
    pub fn read_dir(dir: &std::path::Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(BertError::Input(format!(
                "model directory {} does not exist",
                dir.display()
            )));
        }
        let mut files = Self::new();
        for name in [CONFIG, WEIGHTS] {
            files.insert(name, super::fs::read(&dir.join(name))?);
        }
        for name in TOKENIZER_FILES {
            let path = dir.join(name);
            if path.exists() {
                files.insert(name, super::fs::read(&path)?);
            }
        }
        Ok(files)
    }

    /// Writes every file into `dir` (created if needed), each through a rename so an
    /// interrupted save never leaves a half-written file under its real name.
    pub fn write_dir(&self, dir: &std::path::Path) -> Result<()> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BertError::io(format!("cannot create {}", dir.display()), e))?;
        for (name, bytes) in self.iter() {
            super::fs::write_atomic(&dir.join(name), bytes)?;
        }
        Ok(())
    }
}
