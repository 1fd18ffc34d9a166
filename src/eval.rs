//! Masked-token accuracy: the score the embedded model is judged by. Text is packed
//! like training data, BERT's 15 % of tokens are selected with a fixed seed and every
//! selected token becomes `[MASK]`; we count how often the original is the top-1 and
//! in the top-5 prediction, and the mean cross-entropy.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::checkpoint::read_f32;
use crate::error::{BertError, Result};
use crate::inference::{LabelledRows, logits_at_rows, make_inputs};
use crate::model::BertForMaskedLM;
use crate::tokenizer::BertTokenizer;
use crate::train::IGNORE;
use crate::train::data::{Masking, Packer, Rng};

/// How to evaluate.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Seed of the masking draw: the same seed masks the same tokens.
    pub seed: u64,
    /// Stop after this many tokens (all of the text when `None`).
    pub max_tokens: Option<usize>,
    /// Packed sequence length, `[CLS]` and `[SEP]` included.
    pub seq_len: usize,
    /// Sequences per forward pass.
    pub batch_size: usize,
}

/// Accuracy of masked-token prediction.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EvalReport {
    pub sequences: usize,
    pub tokens: usize,
    pub masked: usize,
    pub top1: f64,
    pub top5: f64,
    /// Mean cross-entropy (nats) of the original token at the masked positions.
    pub loss: f64,
    pub perplexity: f64,
    pub seed: u64,
    pub seq_len: usize,
}

#[derive(Default)]
struct Tally {
    masked: usize,
    top1: usize,
    top5: usize,
    nll: f64,
}

impl Tally {
    fn add(&mut self, logits: &[f32], target: usize) {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_sum = logits
            .iter()
            .map(|&l| ((l - max) as f64).exp())
            .sum::<f64>()
            .ln()
            + max as f64;
        let t = logits[target];
        // Rank = how many logits beat the target (ties count against it, as argmax would not pick it).
        let rank = logits.iter().filter(|&&l| l > t).count();
        self.masked += 1;
        self.top1 += usize::from(rank == 0);
        self.top5 += usize::from(rank < 5);
        self.nll += log_sum - t as f64;
    }
}

/// Scores `model` on the paragraphs of `lines`.
pub async fn evaluate_mlm<I>(
    model: &BertForMaskedLM,
    tokenizer: &BertTokenizer,
    lines: I,
    options: &EvalOptions,
    device: &Device,
) -> Result<EvalReport>
where
    I: Iterator<Item = Result<String>>,
{
    model.config().check_sequence_length(options.seq_len, 3)?;
    let masking = Masking::for_tokenizer(tokenizer);
    let mut rng = Rng::new(options.seed);
    let mut packer = Packer::new(lines, tokenizer.clone(), options.seq_len)?.with_remainder();
    let max_tokens = options.max_tokens.unwrap_or(usize::MAX);
    let (mut tally, mut sequences, mut tokens) = (Tally::default(), 0, 0);
    let vocab = model.config().vocab_size;

    while tokens < max_tokens {
        let mut batch = Vec::new();
        while batch.len() < options.batch_size.max(1) && tokens < max_tokens {
            let Some(seq) = packer.next() else { break };
            let mut seq = seq?;
            if tokens + seq.len() > max_tokens {
                // Cut the last sequence to the budget, keeping its [SEP].
                let keep = (max_tokens - tokens).max(3);
                let sep = *seq.last().unwrap_or(&0);
                seq.truncate(keep - 1);
                seq.push(sep);
            }
            tokens += seq.len();
            batch.push(masking.apply_all_masked(&seq, &mut rng));
        }
        if batch.is_empty() {
            break;
        }
        sequences += batch.len();

        let types: Vec<Vec<u32>> = batch.iter().map(|(ids, _)| vec![0; ids.len()]).collect();
        let seqs: Vec<(&[u32], &[u32])> = batch
            .iter()
            .zip(&types)
            .map(|((ids, _), t)| (&ids[..], &t[..]))
            .collect();
        let inputs = make_inputs(model, &seqs, tokenizer.pad_id(), device)?;
        let [_, width] = inputs.dims();
        let rows = LabelledRows::collect(
            batch.iter().map(|(_, labels)| labels.as_slice()),
            width,
            IGNORE,
            vocab,
        )?;
        if rows.is_empty() {
            continue;
        }
        let LabelledRows {
            index,
            labels: targets,
        } = rows;
        let logits = read_f32(logits_at_rows(model, inputs, index, device)).await?;
        for (row, &target) in logits.chunks(vocab).zip(&targets) {
            tally.add(row, target as usize);
        }
    }
    if tally.masked == 0 {
        return Err(BertError::Input(
            "the text yielded no token to evaluate (it is empty or too short)".into(),
        ));
    }
    let m = tally.masked as f64;
    Ok(EvalReport {
        sequences,
        tokens,
        masked: tally.masked,
        top1: tally.top1 as f64 / m,
        top5: tally.top5 as f64 / m,
        loss: tally.nll / m,
        perplexity: (tally.nll / m).exp(),
        seed: options.seed,
        seq_len: options.seq_len,
    })
}
