//! `bert train-tokenizer`, `bert pretrain` (checkpoints, exact resume, Ctrl-C) and
//! `bert eval`, on a tiny corpus and a tiny model; bad input fails cleanly.

use std::path::{Path, PathBuf};
mod bad_input;
#[path = "../common/mod.rs"]
mod common;
mod pretrain;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bert_burn::checkpoint::SafetensorsFile;
use bert_burn::eval::EvalReport;
use bert_burn::train::checkpoint::TrainerState;
use bert_burn::train::corpus::{InterleavedLines, corpus_files};
use bert_burn::{BertTokenizer, Pipeline, device};
use common::{assert_clean_failure, bert, max_abs_diff, ok};

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bert-train-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Two shards of simple, varied English, plus a `valid.txt` that must not be trained on.
fn corpus(dir: &Path) {
    let subjects = [
        "the old sailor",
        "a young woman",
        "the captain",
        "my brother",
        "the little dog",
        "our teacher",
    ];
    let verbs = [
        "walked to",
        "looked at",
        "spoke of",
        "dreamed about",
        "ran past",
        "remembered",
    ];
    let objects = [
        "the harbour",
        "a quiet garden",
        "the burning house",
        "the northern sea",
        "an empty church",
        "the market",
    ];
    let mut shards = [String::new(), String::new()];
    let mut n = 0;
    for s in subjects {
        for v in verbs {
            for o in objects {
                shards[n % 2].push_str(&format!(
                    "{s} {v} {o} in the morning, and then went home.\n"
                ));
                n += 1;
            }
        }
    }
    std::fs::write(dir.join("train-00.txt"), &shards[0]).unwrap();
    std::fs::write(dir.join("train-01.txt"), &shards[1]).unwrap();
    std::fs::write(dir.join("valid.txt"), "zebra xylophone quixotic\n").unwrap();
}

fn tokenizer(corpus_dir: &Path, out: &Path) -> PathBuf {
    let path = out.join("tokenizer.json");
    ok(&bert(&[
        "train-tokenizer",
        "--corpus",
        corpus_dir.to_str().unwrap(),
        "--vocab-size",
        "150",
        "--out",
        path.to_str().unwrap(),
    ]));
    path
}

/// A scratch directory holding the corpus and a tokenizer trained on it.
fn corpus_with_tokenizer(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    corpus(&dir);
    let tok = tokenizer(&dir, &dir);
    (dir, tok)
}

const TINY: [&str; 14] = [
    "--layers",
    "1",
    "--hidden",
    "32",
    "--heads",
    "2",
    "--intermediate",
    "64",
    "--max-pos",
    "32",
    "--batch",
    "4",
    "--seed",
    "7",
];

fn pretrain(corpus_dir: &Path, tok: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "pretrain",
        "--corpus",
        corpus_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend([
        "--tokenizer",
        tok.to_str().unwrap(),
        "--lr",
        "3e-3",
        "--warmup",
        "2",
    ]);
    if !extra.contains(&"--seq") {
        args.extend(["--seq", "32"]);
    }
    args.extend(TINY);
    args.extend(extra);
    bert(&args)
}

fn weights(dir: &Path) -> Vec<(String, Vec<f32>)> {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let file = SafetensorsFile::parse(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    names
        .into_iter()
        .map(|n| (n.clone(), file.f32(&n).unwrap().1))
        .collect()
}

fn state(dir: &Path) -> TrainerState {
    TrainerState::read(dir).unwrap()
}

#[test]
fn corpus_directory_uses_train_shards_only() {
    let dir = scratch("files");
    corpus(&dir);
    let files = corpus_files(&dir).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["train-00.txt", "train-01.txt"]);

    // One pass yields every line once, each file's lines in order, the files interleaved.
    let lines: Vec<String> = InterleavedLines::new(files.clone(), false)
        .map(Result::unwrap)
        .collect();
    let read = |f: &PathBuf| {
        std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (a, b) = (read(&files[0]), read(&files[1]));
    assert_eq!(lines.len(), a.len() + b.len());
    let from_a: Vec<&String> = lines.iter().filter(|l| a.contains(l)).collect();
    assert_eq!(from_a, a.iter().collect::<Vec<_>>());
    let first_b = lines.iter().position(|l| b.contains(l)).unwrap();
    assert!(
        first_b > 0 && first_b < a.len(),
        "files are interleaved in blocks, not concatenated"
    );
}

#[test]
fn train_tokenizer_makes_an_uncased_bert_wordpiece_vocabulary() {
    let dir = scratch("tok");
    corpus(&dir);
    let path = tokenizer(&dir, &dir.join("out"));
    let tok = BertTokenizer::from_json(&std::fs::read(&path).unwrap(), 64).unwrap();
    assert!(
        tok.vocab_size() <= 150 && tok.vocab_size() > 40,
        "vocab {}",
        tok.vocab_size()
    );
    for (i, special) in bert_burn::tokenizer::SPECIAL_TOKENS.iter().enumerate() {
        assert_eq!(tok.token_to_id(special), Some(i as u32), "{special}");
    }
    let enc = tok
        .encode("The CAPTAIN walked to the Harbour [MASK].", None)
        .unwrap();
    assert_eq!(enc.tokens.first().map(String::as_str), Some("[CLS]"));
    assert_eq!(enc.tokens.last().map(String::as_str), Some("[SEP]"));
    assert!(
        enc.tokens.contains(&"the".to_string()),
        "lower-cased: {:?}",
        enc.tokens
    );
    assert!(enc.tokens.contains(&"[MASK]".to_string()));
    assert!(
        !enc.tokens.contains(&"[UNK]".to_string()),
        "{:?}",
        enc.tokens
    );
    // A word never seen whole is split into ##-pieces rather than lost.
    let unseen = tok.encode("harbours", None).unwrap();
    assert!(
        unseen.tokens.iter().any(|t| t.starts_with("##")),
        "{:?}",
        unseen.tokens
    );
}
