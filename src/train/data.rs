//! The MLM data pipeline: stream paragraphs, tokenize, pack into fixed-length
//! `[CLS] … [SEP]` sequences, and mask them dynamically with BERT's 15 % / 80-10-10 rule.
//! Everything is streamed (no corpus-sized buffers) and seeded (reproducible).

use super::{IGNORE, MlmBatch};
use crate::error::{BertError, Result};
use crate::tokenizer::BertTokenizer;

/// A small, portable, seedable generator (SplitMix64): the same stream on every
/// platform, wasm included, with no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo)) as u32
    }
}

/// BERT's masking rule.
#[derive(Clone, Debug)]
pub struct Masking {
    /// Share of (non-special) tokens selected for prediction: 0.15.
    pub probability: f64,
    pub mask_id: u32,
    pub vocab_size: u32,
    /// Ids never selected: `[CLS]`, `[SEP]`, `[PAD]`…
    pub special_ids: Vec<u32>,
    /// Random replacements are drawn from `[first_regular_id, vocab_size)`.
    pub first_regular_id: u32,
}

impl Masking {
    /// Masking for `tokenizer`'s vocabulary.
    pub fn for_tokenizer(tokenizer: &BertTokenizer) -> Self {
        let special_ids = tokenizer.special_ids();
        // Past the special tokens at the start of the vocabulary (BERT's `[PAD]`…`[MASK]`,
        // RoBERTa's `<s>`…`<unk>`); a `<mask>` appended at the end stays out of the way.
        let vocab_size = tokenizer.vocab_size() as u32;
        let first_regular_id = special_ids
            .iter()
            .filter(|&&id| id < vocab_size / 2)
            .max()
            .map_or(0, |m| m + 1);
        Self {
            probability: 0.15,
            mask_id: tokenizer.mask_id(),
            vocab_size,
            special_ids,
            first_regular_id,
        }
    }

    /// Returns the model input and the labels: each selected token becomes `[MASK]`
    /// (80 %), a random token (10 %) or stays (10 %); its label is the original id.
    pub fn apply(&self, ids: &[u32], rng: &mut Rng) -> (Vec<u32>, Vec<i64>) {
        let mut input = ids.to_vec();
        let mut labels = vec![IGNORE; ids.len()];
        for (i, &id) in ids.iter().enumerate() {
            if self.special_ids.contains(&id) || rng.next_f64() >= self.probability {
                continue;
            }
            labels[i] = i64::from(id);
            let roll = rng.next_f64();
            if roll < 0.8 {
                input[i] = self.mask_id;
            } else if roll < 0.9 {
                input[i] = rng.range(self.first_regular_id, self.vocab_size);
            }
        }
        (input, labels)
    }

    /// The evaluation variant: the same selection, but every selected token becomes
    /// `[MASK]` (no random or kept tokens), so the score measures prediction from context.
    pub fn apply_all_masked(&self, ids: &[u32], rng: &mut Rng) -> (Vec<u32>, Vec<i64>) {
        let mut input = ids.to_vec();
        let mut labels = vec![IGNORE; ids.len()];
        for (i, &id) in ids.iter().enumerate() {
            if !self.special_ids.contains(&id) && rng.next_f64() < self.probability {
                labels[i] = i64::from(id);
                input[i] = self.mask_id;
            }
        }
        (input, labels)
    }
}

/// The `[CLS]` and `[SEP]` ids that frame a training sequence of `seq_len` tokens,
/// after checking that such a sequence has room for a word piece.
pub(super) fn sequence_markers(tokenizer: &BertTokenizer, seq_len: usize) -> Result<(u32, u32)> {
    if seq_len < 3 {
        return Err(BertError::Input(format!(
            "sequence length {seq_len} is too short (at least 3)"
        )));
    }
    tokenizer.cls_sep()
}

/// Packs a stream of paragraphs into sequences of exactly `seq_len` tokens,
/// `[CLS]` + `seq_len - 2` word pieces + `[SEP]`, carrying the remainder of a paragraph
/// into the next sequence so no text is wasted. Lines come as `Result`s so a read error
/// ends the stream as an error rather than silently.
pub struct Packer<I> {
    lines: I,
    tokenizer: BertTokenizer,
    seq_len: usize,
    cls: u32,
    sep: u32,
    buffer: Vec<u32>,
    emit_remainder: bool,
}

impl<I: Iterator<Item = Result<String>>> Packer<I> {
    pub fn new(lines: I, tokenizer: BertTokenizer, seq_len: usize) -> Result<Self> {
        let (cls, sep) = sequence_markers(&tokenizer, seq_len)?;
        Ok(Self {
            lines,
            tokenizer,
            seq_len,
            cls,
            sep,
            buffer: Vec::new(),
            emit_remainder: false,
        })
    }

    /// Also emit the last, shorter sequence when the text runs out (for evaluation,
    /// where every token should count; training keeps lengths uniform instead).
    pub fn with_remainder(mut self) -> Self {
        self.emit_remainder = true;
        self
    }
}

impl<I: Iterator<Item = Result<String>>> Iterator for Packer<I> {
    type Item = Result<Vec<u32>>;

    fn next(&mut self) -> Option<Self::Item> {
        let body = self.seq_len - 2;
        while self.buffer.len() < body {
            let line = match self.lines.next() {
                Some(Ok(line)) => line,
                Some(Err(e)) => return Some(Err(e)),
                None if self.emit_remainder && !self.buffer.is_empty() => {
                    let mut seq = Vec::with_capacity(self.buffer.len() + 2);
                    seq.push(self.cls);
                    seq.append(&mut self.buffer);
                    seq.push(self.sep);
                    return Some(Ok(seq));
                }
                None => return None,
            };
            if line.trim().is_empty() {
                continue;
            }
            match self.tokenizer.encode_plain(&line) {
                Ok(ids) => self.buffer.extend(ids),
                Err(e) => return Some(Err(e)),
            }
        }
        let mut seq = Vec::with_capacity(self.seq_len);
        seq.push(self.cls);
        seq.extend(self.buffer.drain(..body));
        seq.push(self.sep);
        Some(Ok(seq))
    }
}

/// Masks packed sequences into a training batch.
pub fn make_batch(sequences: &[Vec<u32>], masking: &Masking, rng: &mut Rng) -> MlmBatch {
    let mut batch = MlmBatch::default();
    for seq in sequences {
        let (ids, labels) = masking.apply(seq, rng);
        batch.type_ids.push(vec![0; ids.len()]);
        batch.ids.push(ids);
        batch.labels.push(labels);
    }
    batch
}

/// Endless shuffled, masked training batches from a stream of paragraphs: packed
/// sequences pass through a shuffle buffer (so a batch mixes many places of the
/// corpus) and are masked afresh. Everything is drawn from one seeded generator, so a
/// run is reproducible and can be replayed to any step.
pub struct BatchStream<I> {
    packer: Packer<I>,
    buffer: Vec<Vec<u32>>,
    capacity: usize,
    masking: Masking,
    rng: Rng,
    batch_size: usize,
    exhausted: bool,
}

impl<I: Iterator<Item = Result<String>>> BatchStream<I> {
    /// `shuffle_buffer` sequences are held in memory (at least one batch).
    pub fn new(
        packer: Packer<I>,
        masking: Masking,
        batch_size: usize,
        shuffle_buffer: usize,
        seed: u64,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(BertError::Input("the batch size must be at least 1".into()));
        }
        Ok(Self {
            packer,
            buffer: Vec::new(),
            capacity: shuffle_buffer.max(batch_size),
            masking,
            rng: Rng::new(seed),
            batch_size,
            exhausted: false,
        })
    }

    fn fill(&mut self) -> Result<()> {
        while !self.exhausted && self.buffer.len() < self.capacity {
            match self.packer.next() {
                Some(seq) => self.buffer.push(seq?),
                None => self.exhausted = true,
            }
        }
        Ok(())
    }

    /// The next batch, or `None` once the text has run out (a cycling line stream never does).
    pub fn next_batch(&mut self) -> Result<Option<MlmBatch>> {
        self.fill()?;
        if self.buffer.is_empty() {
            return Ok(None);
        }
        let mut picked = Vec::with_capacity(self.batch_size);
        while picked.len() < self.batch_size && !self.buffer.is_empty() {
            let i = self.rng.range(0, self.buffer.len() as u32) as usize;
            picked.push(self.buffer.swap_remove(i));
            self.fill()?;
        }
        Ok(Some(make_batch(&picked, &self.masking, &mut self.rng)))
    }
}
