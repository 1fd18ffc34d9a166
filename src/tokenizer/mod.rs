//! The tokenizer of a BERT-family checkpoint: any `tokenizer.json` (WordPiece, byte-level
//! BPE, SentencePiece Unigram), or BERT's WordPiece rebuilt from `vocab.txt`. The mask,
//! padding and special tokens are the tokenizer's own (`[MASK]`, `<mask>`…).

mod checks;
mod precompiled;

use checks::check_json;

use serde::{Deserialize, Serialize};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{AddedToken, EncodeInput, Tokenizer, TruncationParams};

use crate::error::{BertError, Result};

/// A tokenized input, with offsets in Unicode scalar values (as Python reports them).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Encoding {
    pub tokens: Vec<String>,
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// `[start, end)` character offsets into the segment the token came from.
    pub offsets: Vec<(usize, usize)>,
    /// Index of the word each token belongs to, per segment; `None` for special tokens.
    pub word_ids: Vec<Option<u32>>,
    /// Which segment (0 or 1) each token came from; `None` for special tokens.
    pub sequence_ids: Vec<Option<usize>>,
    /// `[CLS]`, `[SEP]`, … (added by the post-processor or typed, like `[MASK]`).
    pub special: Vec<bool>,
    /// Each token as a reader sees it: decoded (byte-level BPE's `Ġfox` is `fox`,
    /// SentencePiece's `▁fox` is `fox`), WordPiece's `##ed` as it is; `␣` for a bare space.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The input was longer than the model accepts and was cut.
    pub truncated: bool,
}

impl Encoding {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Wraps a `tokenizers::Tokenizer` set up for BERT.
#[derive(Clone)]
pub struct BertTokenizer {
    inner: Tokenizer,
    /// The same pipeline without truncation, for streaming whole paragraphs into training.
    plain: Tokenizer,
    mask_token: String,
    mask_id: u32,
    /// Every special token the tokenizer declares (`[CLS]`, `<s>`, `<mask>`…).
    specials: std::collections::HashSet<String>,
    /// See [`Self::vocab_size`].
    vocab_rows: usize,
    max_length: usize,
}

/// BERT's special tokens, in the order its vocabularies give them ids 0..5.
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Which of a tokenizer's special tokens is its mask: `[MASK]`, `<mask>`, or another
/// special token whose name says mask.
fn find_mask_token<'a>(specials: impl Iterator<Item = &'a str>) -> Option<String> {
    let specials: Vec<&str> = specials.collect();
    ["[MASK]", "<mask>"]
        .into_iter()
        .find(|t| specials.contains(t))
        .or_else(|| {
            specials
                .iter()
                .copied()
                .find(|t| t.to_lowercase().contains("mask"))
        })
        .map(str::to_string)
}

impl BertTokenizer {
    /// From the contents of `tokenizer.json`.
    pub fn from_json(bytes: &[u8], max_length: usize) -> Result<Self> {
        check_json(bytes)?;
        let inner = Tokenizer::from_bytes(bytes)
            .map_err(|e| BertError::Tokenizer(format!("tokenizer.json: {e}")))?;
        let mask = find_mask_token(special_tokens(&inner).iter().map(String::as_str))
            .unwrap_or_else(|| "[MASK]".into());
        Self::wrap(inner, &mask, max_length)
    }

    /// From `vocab.txt` (one token per line, id = line number) and, optionally, the
    /// contents of `tokenizer_config.json`, building the pipeline `BertTokenizerFast`
    /// builds: BERT normalizer, BERT pre-tokenizer, WordPiece, `[CLS] A [SEP] B [SEP]`.
    pub fn from_vocab(
        vocab_txt: &str,
        tokenizer_config: Option<&str>,
        max_length: usize,
    ) -> Result<Self> {
        let cfg: serde_json::Value = match tokenizer_config {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| BertError::Tokenizer(format!("tokenizer_config.json: {e}")))?,
            None => serde_json::Value::Null,
        };
        let flag = |key: &str| cfg.get(key).and_then(|v| v.as_bool());
        let name = |key: &str, default: &str| {
            cfg.get(key)
                .and_then(|v| {
                    v.as_str()
                        .or_else(|| v.get("content").and_then(|c| c.as_str()))
                })
                .unwrap_or(default)
                .to_string()
        };
        let lowercase = flag("do_lower_case").unwrap_or(true);
        let chinese = flag("tokenize_chinese_chars").unwrap_or(true);
        let strip_accents = flag("strip_accents");
        let [pad, unk, cls, sep, mask] = [
            name("pad_token", "[PAD]"),
            name("unk_token", "[UNK]"),
            name("cls_token", "[CLS]"),
            name("sep_token", "[SEP]"),
            name("mask_token", "[MASK]"),
        ];

        let vocab: ahash::AHashMap<String, u32> = vocab_txt
            .lines()
            .enumerate()
            .map(|(i, tok)| (tok.trim_end_matches('\r').to_string(), i as u32))
            .collect();
        if vocab.is_empty() {
            return Err(BertError::Tokenizer("vocab.txt is empty".into()));
        }
        let id = |tok: &str| {
            vocab
                .get(tok)
                .copied()
                .ok_or_else(|| BertError::Tokenizer(format!("vocab.txt has no `{tok}` token")))
        };
        let (cls_id, sep_id) = (id(&cls)?, id(&sep)?);
        id(&unk)?;

        let model = WordPiece::builder()
            .vocab(vocab)
            .unk_token(unk.clone())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(100)
            .build()
            .map_err(|e| BertError::Tokenizer(format!("vocab.txt: {e}")))?;
        let mut inner = Tokenizer::new(model);
        inner
            .with_normalizer(Some(BertNormalizer::new(
                true,
                chinese,
                strip_accents,
                lowercase,
            )))
            .with_pre_tokenizer(Some(BertPreTokenizer))
            .with_post_processor(Some(BertProcessing::new((sep, sep_id), (cls, cls_id))))
            .with_decoder(Some(WordPieceDecoder::new("##".into(), true)));
        let specials: Vec<AddedToken> = [
            pad,
            unk,
            name("cls_token", "[CLS]"),
            name("sep_token", "[SEP]"),
            mask.clone(),
        ]
        .into_iter()
        .filter(|t| inner.token_to_id(t).is_some())
        .map(|t| AddedToken::from(t, true))
        .collect();
        inner.add_special_tokens(&specials);
        Self::wrap(inner, &mask, max_length)
    }

    fn wrap(mut inner: Tokenizer, mask_token: &str, max_length: usize) -> Result<Self> {
        let mask_id = inner.token_to_id(mask_token).ok_or_else(|| {
            BertError::Tokenizer(format!("the vocabulary has no mask token `{mask_token}`"))
        })?;
        // Padding is ours to do per batch; truncation follows the model's position limit.
        inner.with_padding(None);
        let mut plain = inner.clone();
        plain
            .with_truncation(None)
            .map_err(|e| BertError::Tokenizer(e.to_string()))?;
        inner
            .with_truncation(Some(TruncationParams {
                max_length,
                ..Default::default()
            }))
            .map_err(|e| BertError::Tokenizer(e.to_string()))?;
        let specials = special_tokens(&inner);
        let vocab_rows = inner
            .get_vocab(true)
            .values()
            .max()
            .map_or(0, |&id| id as usize + 1);
        Ok(Self {
            inner,
            plain,
            mask_token: mask_token.into(),
            mask_id,
            specials,
            vocab_rows,
            max_length,
        })
    }

    pub fn mask_token(&self) -> &str {
        &self.mask_token
    }

    pub fn mask_id(&self) -> u32 {
        self.mask_id
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The ids the tokenizer can produce: its largest id + 1 (a converted SentencePiece
    /// vocabulary may list a token twice, so the count of distinct tokens can be less).
    pub fn vocab_size(&self) -> usize {
        self.vocab_rows
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The padding id: `[PAD]` or `<pad>` (0 when the vocabulary has neither).
    pub fn pad_id(&self) -> u32 {
        ["[PAD]", "<pad>"]
            .iter()
            .find_map(|t| self.inner.token_to_id(t))
            .unwrap_or(0)
    }

    /// The ids the post-processor puts around a single text (`[CLS]`/`[SEP]`,
    /// `<s>`/`</s>`), for building training sequences as the tokenizer would.
    pub fn cls_sep(&self) -> Result<(u32, u32)> {
        let enc = self
            .plain
            .encode("a", true)
            .map_err(|e| BertError::Tokenizer(format!("could not tokenize: {e}")))?;
        let special = enc.get_special_tokens_mask();
        match (enc.get_ids(), special) {
            (ids, mask) if ids.len() >= 2 && mask[0] == 1 && mask[ids.len() - 1] == 1 => {
                Ok((ids[0], ids[ids.len() - 1]))
            }
            _ => Err(BertError::Tokenizer(
                "the tokenizer adds no special tokens around a text (its post_processor \
                 should add [CLS] … [SEP] or <s> … </s>)"
                    .into(),
            )),
        }
    }

    /// What token `id` reads as inside a text: its [`Self::label`] without WordPiece's
    /// `##` (what replaces a mask when the token is chosen).
    pub fn token_text(&self, id: u32) -> String {
        match self.label(id).as_str() {
            "␣" => " ".to_string(),
            label => label.strip_prefix("##").unwrap_or(label).to_string(),
        }
    }

    /// Token `id` as a chip shows it: decoded alone, without the space that marks a word
    /// start (see [`Encoding::labels`]).
    pub fn label(&self, id: u32) -> String {
        let token = self.inner.id_to_token(id).unwrap_or_default();
        if self.is_special_token(&token) {
            return token;
        }
        let decoded = self.inner.decode(&[id], false).unwrap_or(token);
        match decoded.trim_start() {
            "" => "␣".to_string(),
            text => text.to_string(),
        }
    }

    /// The ids of every special token, sorted.
    pub fn special_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .specials
            .iter()
            .filter_map(|t| self.inner.token_to_id(t))
            .collect();
        ids.sort_unstable();
        ids
    }

    pub fn is_special_token(&self, token: &str) -> bool {
        self.specials.contains(token) || token == self.mask_token
    }

    /// Tokenizes one text, or a pair when `text_b` is given. Special tokens are added.
    pub fn encode(&self, text: &str, text_b: Option<&str>) -> Result<Encoding> {
        if text.trim().is_empty() {
            return Err(BertError::Input("the text is empty".into()));
        }
        let input: EncodeInput = match text_b {
            Some(b) => (text, b).into(),
            None => text.into(),
        };
        let enc = self
            .inner
            .encode_char_offsets(input, true)
            .map_err(|e| BertError::Tokenizer(format!("could not tokenize: {e}")))?;
        let segments: [Vec<char>; 2] = [
            text.chars().collect(),
            text_b.unwrap_or_default().chars().collect(),
        ];
        let sequence_ids = enc.get_sequence_ids();
        let offsets = enc
            .get_offsets()
            .iter()
            .zip(&sequence_ids)
            .map(|(&range, segment)| match segment {
                Some(s) => without_spaces(&segments[(*s).min(1)], range),
                None => range,
            })
            .collect();
        Ok(Encoding {
            tokens: enc.get_tokens().to_vec(),
            ids: enc.get_ids().to_vec(),
            type_ids: enc.get_type_ids().to_vec(),
            offsets,
            word_ids: enc.get_word_ids().to_vec(),
            sequence_ids,
            special: enc
                .get_special_tokens_mask()
                .iter()
                .zip(enc.get_tokens())
                .map(|(&m, tok)| m == 1 || self.is_special_token(tok))
                .collect(),
            labels: enc.get_ids().iter().map(|&id| self.label(id)).collect(),
            truncated: !enc.get_overflowing().is_empty(),
        })
    }

    /// Word-piece ids of `text` with no special tokens and no truncation.
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .plain
            .encode(text, false)
            .map_err(|e| BertError::Tokenizer(format!("could not tokenize: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| BertError::Tokenizer(format!("could not decode: {e}")))
    }
}

/// The special tokens a tokenizer declares (its added tokens marked special), plus BERT's
/// five where the vocabulary has them.
fn special_tokens(inner: &Tokenizer) -> std::collections::HashSet<String> {
    let mut specials: std::collections::HashSet<String> = inner
        .get_added_tokens_decoder()
        .values()
        .filter(|t| t.special)
        .map(|t| t.content.clone())
        .collect();
    specials.extend(
        SPECIAL_TOKENS
            .iter()
            .filter(|t| inner.token_to_id(t).is_some())
            .map(|t| t.to_string()),
    );
    specials
}

/// A token's `[start, end)` without the whitespace at its edges: an added token with
/// `lstrip` (RoBERTa's and XLM-R's `<mask>`) covers the space before it, and some
/// SentencePiece tokens the space their `▁` stands for. Edits in the page replace a token's
/// characters, so those spaces must stay outside.
fn without_spaces(text: &[char], (start, end): (usize, usize)) -> (usize, usize) {
    let end = end.min(text.len());
    let start = start.min(end);
    let inner = &text[start..end];
    let lead = inner.iter().take_while(|c| c.is_whitespace()).count();
    if lead == inner.len() {
        return (start, end);
    }
    let trail = inner.iter().rev().take_while(|c| c.is_whitespace()).count();
    (start + lead, end - trail)
}
