//! A model with its tokenizer and device: what the CLI, the tests and the browser's worker
//! hold. The model is the encoder with one of transformers' heads on top ([`Head`]): a
//! masked-LM checkpoint, a published task checkpoint, or a classifier trained here.

use burn::module::Module;
use burn::tensor::Device;

use crate::checkpoint::{
    self, CheckpointFiles, HeadWeights, load_sequence_classifier, load_token_classifier,
};
use crate::config::{BertConfig, Task};
use crate::error::{BertError, Result};
use crate::model::init::NamedTensor;
use crate::model::{BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification};
use crate::tokenizer::BertTokenizer;

/// What sits on top of the encoder, as the checkpoint's `architectures` names it.
#[derive(Debug)]
pub enum Head {
    MaskedLm(BertForMaskedLM),
    Sequence(BertForSequenceClassification),
    Token(BertForTokenClassification),
}

impl Head {
    pub fn config(&self) -> &BertConfig {
        match self {
            Self::MaskedLm(m) => m.config(),
            Self::Sequence(m) => m.config(),
            Self::Token(m) => m.config(),
        }
    }

    pub fn task(&self) -> Task {
        match self {
            Self::MaskedLm(_) => Task::MaskedLm,
            Self::Sequence(_) => Task::Sequence,
            Self::Token(_) => Task::Token,
        }
    }

    /// Every weight under its Hugging Face name.
    pub fn named_tensors(&self) -> Vec<NamedTensor> {
        match self {
            Self::MaskedLm(m) => m.named_tensors(),
            Self::Sequence(m) => m.named_tensors(),
            Self::Token(m) => m.named_tensors(),
        }
    }

    /// Parameters of the model as built (a tied decoder counted once, as transformers does).
    pub fn parameters(&self) -> u64 {
        let n = match self {
            Self::MaskedLm(m) => m.num_params(),
            Self::Sequence(m) => m.num_params(),
            Self::Token(m) => m.num_params(),
        };
        n as u64
    }
}

pub struct Pipeline {
    pub head: Head,
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
    let max_len = config.max_tokens();
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
    /// Builds everything from the files' contents, checking that they belong together:
    /// the model its config names (`BertForMaskedLM`, `…SequenceClassification`,
    /// `…TokenClassification`), its head's weights from the checkpoint.
    pub fn from_bytes(
        config_json: &str,
        weights: &[u8],
        tokenizer: TokenizerFiles<'_>,
        device: Device,
    ) -> Result<Self> {
        Self::with_config(
            &BertConfig::from_json(config_json)?,
            weights,
            tokenizer,
            device,
        )
    }

    /// [`Self::from_bytes`] with `config.json` already read (and checked by the caller).
    pub fn with_config(
        config: &BertConfig,
        weights: &[u8],
        tokenizer: TokenizerFiles<'_>,
        device: Device,
    ) -> Result<Self> {
        let tokenizer = tokenizer_for(config, tokenizer)?;
        let from_file = HeadWeights::FromCheckpoint;
        let head = match config.task() {
            Task::MaskedLm => {
                Head::MaskedLm(checkpoint::load_with_config(config, weights, &device)?)
            }
            Task::Sequence => Head::Sequence(load_sequence_classifier(
                config, weights, &device, from_file,
            )?),
            Task::Token => Head::Token(load_token_classifier(config, weights, &device, from_file)?),
        };
        Ok(Self {
            head,
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

    /// A new sequence classifier for `labels` and its tokenizer, to be trained: its
    /// encoder (and pooler, when there is one) from any BERT checkpoint's files, its head
    /// initialised as transformers does.
    pub fn new_sequence_classifier(
        files: &CheckpointFiles,
        labels: &[String],
        device: &Device,
    ) -> Result<(BertForSequenceClassification, BertTokenizer)> {
        let base = BertConfig::from_json(files.config_json()?)?;
        let config = base.with_labels(Task::Sequence, labels);
        let tokenizer = tokenizer_for(&config, files.tokenizer()?)?;
        let model = load_sequence_classifier(&config, files.weights()?, device, HeadWeights::New)?;
        Ok((model, tokenizer))
    }

    /// The same tokenizer and device with another head (after training).
    pub fn with_head(&self, head: Head) -> Self {
        Self {
            head,
            tokenizer: self.tokenizer.clone(),
            device: self.device.clone(),
        }
    }

    pub fn config(&self) -> &BertConfig {
        self.head.config()
    }

    pub fn task(&self) -> Task {
        self.head.task()
    }

    /// The head's model as published or trained: `Sequence` or `Token`, or why this
    /// checkpoint has no classification head.
    pub fn check_classifier(&self) -> Result<()> {
        match self.head {
            Head::MaskedLm(_) => Err(BertError::Config(format!(
                "this checkpoint has no classification head (architectures: {:?}); \
                 train one from it with `bert finetune-classifier` (or the page's Classify panel)",
                self.config().architectures
            ))),
            _ => Ok(()),
        }
    }

    /// The masked-LM model, or why this checkpoint cannot fill masks.
    pub fn masked_lm(&self) -> Result<&BertForMaskedLM> {
        match &self.head {
            Head::MaskedLm(m) => Ok(m),
            _ => Err(self.not_masked_lm()),
        }
    }

    /// [`Self::masked_lm`], taken out of the pipeline.
    pub fn into_masked_lm(self) -> Result<BertForMaskedLM> {
        match self.head {
            Head::MaskedLm(m) => Ok(m),
            _ => Err(self.not_masked_lm()),
        }
    }

    fn not_masked_lm(&self) -> BertError {
        BertError::Config(format!(
            "this is a {} checkpoint, not a masked-LM one: it has no masked-LM head to fill masks or fine-tune; classify with it instead",
            self.config()
                .architectures
                .first()
                .map_or("task", String::as_str)
        ))
    }
}
