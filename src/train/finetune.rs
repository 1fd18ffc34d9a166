//! Fine-tuning data from a user's own text (the browser's fine-tune panel): each
//! non-empty line is an example, cut into `[CLS] … [SEP]` pieces of at most `max_len`
//! tokens, drawn in a shuffled order each epoch and masked afresh every time.

use super::data::{Masking, Rng, sequence_markers};
use super::{IGNORE, MlmBatch};
use crate::error::{BertError, Result};
use crate::tokenizer::BertTokenizer;

pub struct SentenceBatches {
    sequences: Vec<Vec<u32>>,
    masking: Masking,
    rng: Rng,
    batch_size: usize,
    /// Indices not yet drawn this epoch.
    order: Vec<usize>,
}

impl SentenceBatches {
    pub fn new(
        text: &str,
        tokenizer: &BertTokenizer,
        max_len: usize,
        batch_size: usize,
        seed: u64,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(BertError::Input("the batch size must be at least 1".into()));
        }
        let (cls, sep) = sequence_markers(tokenizer, max_len)?;
        let mut sequences = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            for piece in tokenizer.encode_plain(line)?.chunks(max_len - 2) {
                let mut seq = Vec::with_capacity(piece.len() + 2);
                seq.push(cls);
                seq.extend_from_slice(piece);
                seq.push(sep);
                sequences.push(seq);
            }
        }
        if sequences.is_empty() {
            return Err(BertError::Input(
                "there is no text to fine-tune on: write a few sentences, one per line".into(),
            ));
        }
        Ok(Self {
            sequences,
            masking: Masking::for_tokenizer(tokenizer),
            rng: Rng::new(seed),
            batch_size,
            order: Vec::new(),
        })
    }

    /// Number of examples (lines, or pieces of long lines).
    pub fn len(&self) -> usize {
        self.sequences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sequences.is_empty()
    }

    /// The next batch: `batch_size` examples (fewer if the text has fewer), each with
    /// BERT's 15 % masking and at least one masked token, so no step is wasted.
    pub fn next_batch(&mut self) -> MlmBatch {
        let mut batch = MlmBatch::default();
        for _ in 0..self.batch_size.min(self.sequences.len()) {
            if self.order.is_empty() {
                self.order = (0..self.sequences.len()).collect();
            }
            let k = self.rng.range(0, self.order.len() as u32) as usize;
            let seq = &self.sequences[self.order.swap_remove(k)];
            let (mut ids, mut labels) = self.masking.apply(seq, &mut self.rng);
            if labels.iter().all(|&l| l == IGNORE) {
                let candidates: Vec<usize> = (0..seq.len())
                    .filter(|&i| !self.masking.special_ids.contains(&seq[i]))
                    .collect();
                if let Some(&i) =
                    candidates.get(self.rng.range(0, candidates.len().max(1) as u32) as usize)
                {
                    labels[i] = i64::from(seq[i]);
                    ids[i] = self.masking.mask_id;
                }
            }
            batch.type_ids.push(vec![0; ids.len()]);
            batch.ids.push(ids);
            batch.labels.push(labels);
        }
        batch
    }
}
