//! Training an uncased BERT WordPiece vocabulary with `tokenizers`' own trainer, giving
//! the pipeline `BertWordPieceTokenizer` builds: BERT normalizer (lower-case, strip
//! accents, CJK split), BERT pre-tokenizer, `##` continuation pieces, the five special
//! tokens first, and `[CLS] A [SEP] B [SEP]` post-processing.

use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{AddedToken, TokenizerBuilder};

use crate::error::{BertError, Result};

pub use crate::tokenizer::SPECIAL_TOKENS;

/// Options of the vocabulary trainer (defaults as in `BertWordPieceTokenizer.train`).
#[derive(Clone, Debug)]
pub struct WordPieceOptions {
    /// Size of the vocabulary, special tokens included.
    pub vocab_size: usize,
    /// A pair must be seen this often to be merged.
    pub min_frequency: u64,
    /// At most this many distinct characters are kept as the initial alphabet.
    pub limit_alphabet: usize,
}

impl Default for WordPieceOptions {
    fn default() -> Self {
        Self {
            vocab_size: 30522,
            min_frequency: 2,
            limit_alphabet: 1000,
        }
    }
}

/// Trains a vocabulary on `lines` and returns the complete `tokenizer.json`.
pub fn train_wordpiece<I, S>(lines: I, options: &WordPieceOptions) -> Result<String>
where
    I: Iterator<Item = S> + Send,
    S: AsRef<str> + Send,
{
    if options.vocab_size <= SPECIAL_TOKENS.len() {
        return Err(BertError::Input(format!(
            "vocabulary size {} leaves no room beside the {} special tokens",
            options.vocab_size,
            SPECIAL_TOKENS.len()
        )));
    }
    let specials: Vec<AddedToken> = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(*t, true))
        .collect();
    let mut trainer = WordPieceTrainer::builder()
        .vocab_size(options.vocab_size)
        .min_frequency(options.min_frequency)
        .limit_alphabet(options.limit_alphabet)
        .special_tokens(specials.clone())
        .continuing_subword_prefix("##".into())
        .show_progress(false)
        .build();
    let model = WordPiece::builder()
        .unk_token("[UNK]".into())
        .continuing_subword_prefix("##".into())
        .build()
        .map_err(|e| BertError::Tokenizer(format!("WordPiece model: {e}")))?;
    let mut tokenizer = TokenizerBuilder::<
        WordPiece,
        BertNormalizer,
        BertPreTokenizer,
        BertProcessing,
        WordPieceDecoder,
    >::new()
    .with_model(model)
    .with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
    .with_pre_tokenizer(Some(BertPreTokenizer))
    .with_decoder(Some(WordPieceDecoder::new("##".into(), true)))
    .build()
    .map_err(|e| BertError::Tokenizer(format!("tokenizer pipeline: {e}")))?;

    let mut seen_text = false;
    let lines = lines.inspect(|l| seen_text |= !l.as_ref().trim().is_empty());
    tokenizer
        .train(&mut trainer, lines)
        .map_err(|e| BertError::Tokenizer(format!("training the vocabulary: {e}")))?;
    if !seen_text {
        return Err(BertError::Input(
            "the corpus has no text to learn a vocabulary from".into(),
        ));
    }
    tokenizer.add_special_tokens(&specials);

    let id = |t: &str| {
        tokenizer
            .token_to_id(t)
            .ok_or_else(|| BertError::Tokenizer(format!("the trained vocabulary lacks {t}")))
    };
    let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
    tokenizer.with_post_processor(Some(BertProcessing::new(
        ("[SEP]".into(), sep),
        ("[CLS]".into(), cls),
    )));
    tokenizer
        .to_string(true)
        .map_err(|e| BertError::Tokenizer(format!("serializing tokenizer.json: {e}")))
}

/// `vocab.txt` (one token per line, in id order) for a trained tokenizer, for tools that
/// build BERT's tokenizer from it.
pub fn vocab_txt(tokenizer: &crate::BertTokenizer) -> String {
    let mut out = String::new();
    for id in 0..tokenizer.vocab_size() as u32 {
        out.push_str(&tokenizer.id_to_token(id).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// `tokenizer_config.json` for transformers: uncased BERT with our special tokens.
pub fn tokenizer_config_json(model_max_length: usize) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": true,
        "strip_accents": null,
        "tokenize_chinese_chars": true,
        "model_max_length": model_max_length,
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    }))
    .unwrap_or_default()
}

/// The tokenizer files a checkpoint of a model trained here carries: `tokenizer.json`,
/// with, for a `bert` model, `vocab.txt` and `tokenizer_config.json` for tools that build
/// BERT's tokenizer from those. Another family's tokenizer (byte-level BPE, SentencePiece)
/// is its `tokenizer.json` alone: transformers picks the family's tokenizer class from
/// `config.json`.
pub fn trained_tokenizer_files(
    tokenizer_json: &str,
    tokenizer: &crate::BertTokenizer,
    model_max_length: usize,
    family: crate::config::Family,
) -> crate::checkpoint::CheckpointFiles {
    use crate::checkpoint::files::{TOKENIZER_CONFIG, TOKENIZER_JSON, VOCAB_TXT};
    let mut files = crate::checkpoint::CheckpointFiles::new();
    files.insert(TOKENIZER_JSON, tokenizer_json.as_bytes().to_vec());
    if family != crate::config::Family::Bert {
        return files;
    }
    files.insert(VOCAB_TXT, vocab_txt(tokenizer).into_bytes());
    files.insert(
        TOKENIZER_CONFIG,
        tokenizer_config_json(model_max_length).into_bytes(),
    );
    files
}
