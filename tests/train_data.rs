//! The MLM data pipeline: packing loses nothing, masking follows BERT's rule, seeds
//! reproduce.

mod common;

use bert_burn::BertTokenizer;
use bert_burn::train::IGNORE;
use bert_burn::train::data::{Masking, Packer, Rng, make_batch};
use common::fixtures;

fn tokenizer() -> BertTokenizer {
    let json =
        std::fs::read(fixtures().join("tokenizer/bert-base-uncased/tokenizer.json")).unwrap();
    BertTokenizer::from_json(&json, 512).unwrap()
}

fn paragraphs() -> Vec<String> {
    (0..40)
        .map(|i| format!("Paragraph {i} tells of the sea, the ships and the sailors who, long ago, crossed it."))
        .collect()
}

#[test]
fn packing_makes_full_sequences_and_keeps_every_token_in_order() {
    let tok = tokenizer();
    let lines = paragraphs();
    let mut stream: Vec<u32> = Vec::new();
    for l in &lines {
        stream.extend(tok.encode_plain(l).unwrap());
    }
    let mut lines_with_blanks = lines.clone();
    lines_with_blanks.insert(3, "   ".into());
    let seqs: Vec<Vec<u32>> = Packer::new(lines_with_blanks.into_iter().map(Ok), tok.clone(), 32)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(seqs.len(), stream.len() / 30);
    let (cls, sep) = (
        tok.token_to_id("[CLS]").unwrap(),
        tok.token_to_id("[SEP]").unwrap(),
    );
    let mut packed = Vec::new();
    for s in &seqs {
        assert_eq!(s.len(), 32);
        assert_eq!((s[0], s[31]), (cls, sep));
        packed.extend_from_slice(&s[1..31]);
    }
    assert_eq!(packed, stream[..packed.len()], "tokens reordered or lost");
    assert!(Packer::new(Vec::<String>::new().into_iter().map(Ok), tok.clone(), 2).is_err());
}

#[test]
fn masking_follows_bert_15_percent_and_80_10_10() {
    let tok = tokenizer();
    let masking = Masking::for_tokenizer(&tok);
    let seqs: Vec<Vec<u32>> = Packer::new(
        paragraphs().into_iter().cycle().take(2000).map(Ok),
        tok.clone(),
        128,
    )
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    let mut rng = Rng::new(42);
    let batch = make_batch(&seqs, &masking, &mut rng);
    let (mut regular, mut selected, mut masked, mut random, mut kept) = (0usize, 0usize, 0, 0, 0);
    for ((orig, input), labels) in seqs.iter().zip(&batch.ids).zip(&batch.labels) {
        for i in 0..orig.len() {
            let special = masking.special_ids.contains(&orig[i]);
            if special {
                assert_eq!(labels[i], IGNORE, "a special token was selected");
                assert_eq!(input[i], orig[i]);
                continue;
            }
            regular += 1;
            if labels[i] == IGNORE {
                assert_eq!(input[i], orig[i], "an unselected token changed");
                continue;
            }
            selected += 1;
            assert_eq!(labels[i], orig[i] as i64);
            if input[i] == masking.mask_id {
                masked += 1;
            } else if input[i] == orig[i] {
                kept += 1;
            } else {
                random += 1;
                assert!(input[i] >= masking.first_regular_id && input[i] < masking.vocab_size);
            }
        }
    }
    let share = selected as f64 / regular as f64;
    assert!((share - 0.15).abs() < 0.01, "selected {share}");
    let frac = |n: usize| n as f64 / selected as f64;
    assert!((frac(masked) - 0.8).abs() < 0.02, "masked {}", frac(masked));
    // A random draw may hit the original token, so "kept" is a hair above 10 %.
    assert!((frac(random) - 0.1).abs() < 0.02, "random {}", frac(random));
    assert!((frac(kept) - 0.1).abs() < 0.02, "kept {}", frac(kept));
}

#[test]
fn masking_is_reproducible_from_the_seed() {
    let tok = tokenizer();
    let masking = Masking::for_tokenizer(&tok);
    let seqs: Vec<Vec<u32>> = Packer::new(paragraphs().into_iter().map(Ok), tok, 64)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let a = make_batch(&seqs, &masking, &mut Rng::new(7));
    let b = make_batch(&seqs, &masking, &mut Rng::new(7));
    let c = make_batch(&seqs, &masking, &mut Rng::new(8));
    assert_eq!((a.ids.clone(), a.labels.clone()), (b.ids, b.labels));
    assert_ne!(a.labels, c.labels);
}

#[test]
fn fine_tuning_text_gives_masked_batches_of_its_lines() {
    use bert_burn::train::finetune::SentenceBatches;
    let p = common::load("gelu-f32");
    let tok = &p.tokenizer;
    let text = "the cat sat on the mat.\n\n  \nthe dog ran in the park and the sun was out all day long.\n";
    let mut data = SentenceBatches::new(text, tok, 8, 4, 1).unwrap();
    // The second line is longer than 6 word pieces: it is cut, nothing is dropped.
    let pieces: usize = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| tok.encode_plain(l).unwrap().len().div_ceil(6))
        .sum();
    assert_eq!(data.len(), pieces);
    let cls = tok.token_to_id("[CLS]").unwrap();
    let sep = tok.token_to_id("[SEP]").unwrap();
    for _ in 0..20 {
        let batch = data.next_batch();
        assert_eq!(batch.ids.len(), 4.min(pieces));
        for (ids, labels) in batch.ids.iter().zip(&batch.labels) {
            assert!(ids.len() <= 8);
            assert_eq!((ids[0], *ids.last().unwrap()), (cls, sep));
            assert!(labels.iter().any(|&l| l >= 0), "every example has a target");
        }
    }
    assert!(SentenceBatches::new(" \n\n", tok, 8, 4, 1).is_err());
    assert!(SentenceBatches::new("text", tok, 8, 0, 1).is_err());
}
