//! `bert train-tokenizer`, `bert pretrain` (checkpoints, exact resume, Ctrl-C) and
//! `bert eval`, on a tiny corpus and a tiny model; bad input fails cleanly.

use std::path::{Path, PathBuf};
mod common;

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

#[test]
fn pretrain_checkpoints_resume_exactly_and_eval_scores() {
    let (dir, tok) = corpus_with_tokenizer("pretrain");

    let full = dir.join("full");
    let eval_text = dir.join("train-01.txt");
    let eval_args = [
        "--eval-text",
        eval_text.to_str().unwrap(),
        "--eval-every",
        "3",
    ];
    let log = ok(&pretrain(
        &dir,
        &tok,
        &full,
        &[&["--steps", "6", "--save-every", "3"][..], &eval_args[..]].concat(),
    ));
    assert!(log.contains("done: 6 steps"), "{log}");
    let s = state(&full);
    // Each held-out evaluation is recorded with the step it was taken at.
    let eval_steps: Vec<_> = s.evals.iter().map(|e| e.step).collect();
    assert_eq!(eval_steps, [3, 6]);
    assert!(s.evals[1].report.masked > 0);
    assert!((0.0..=1.0).contains(&s.evals[1].report.top1));
    assert_eq!(s.step, 6);
    assert_eq!(s.tokens_seen, 6 * 4 * 32);
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "vocab.txt",
        "tokenizer_config.json",
        "optimizer.bpk",
    ] {
        assert!(full.join(f).exists(), "missing {f}");
    }
    assert!(full.join("checkpoint-3/trainer_state.json").exists());
    // The checkpoint is an ordinary model directory.
    let p = Pipeline::load_dir(&full, device::cpu()).unwrap();
    assert_eq!(p.model.config().num_hidden_layers, 1);

    // Resuming from step 3 lands on the same weights as the uninterrupted run.
    let resumed = dir.join("resumed");
    let log = ok(&pretrain(
        &dir,
        &tok,
        &resumed,
        &[
            "--resume",
            full.join("checkpoint-3").to_str().unwrap(),
            "--steps",
            "6",
        ],
    ));
    assert!(log.contains("data stream at step 3"), "{log}");
    assert_eq!(state(&resumed).step, 6);
    let (a, b) = (weights(&full), weights(&resumed));
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let diff = max_abs_diff("weights", x, y);
        assert!(diff <= 1e-6, "{name} differs by {diff} after resume");
    }
    // Resuming with another sequence length continues on a new data stream.
    let reshaped = dir.join("reshaped");
    let log = ok(&pretrain(
        &dir,
        &tok,
        &reshaped,
        &[
            "--resume",
            full.to_str().unwrap(),
            "--steps",
            "8",
            "--seq",
            "16",
        ],
    ));
    assert!(log.contains("a new data stream begins"), "{log}");
    let s = state(&reshaped);
    assert_eq!((s.step, s.seq, s.stream_start), (8, 16, 6));
    assert_eq!(s.tokens_seen, 6 * 4 * 32 + 2 * 4 * 16);

    // Training moved the weights.
    let start = weights(&full.join("checkpoint-3"));
    assert!(start.iter().zip(&a).any(|((_, x), (_, y))| x != y));

    // Eval: same seed, same score; top-5 never below top-1.
    let eval = |seed: &str| {
        let out = bert(&[
            "eval",
            "--model",
            full.to_str().unwrap(),
            "--text",
            dir.join("train-00.txt").to_str().unwrap(),
            "--seed",
            seed,
            "--json",
        ]);
        ok(&out);
        // The report's own fields; `seconds`, `model` and `text` are left out.
        let report: EvalReport = serde_json::from_slice(&out.stdout).unwrap();
        report
    };
    let (e1, e2, e3) = (eval("1"), eval("1"), eval("2"));
    assert_eq!(e1, e2);
    assert!(
        e1.masked > 0 && (e1.masked as f64) < 0.3 * e1.tokens as f64,
        "{e1:?}"
    );
    assert!(e1.top5 >= e1.top1);
    assert_ne!(e1.masked, e3.masked, "another seed masks other tokens");
    let limited = bert(&[
        "eval",
        "--model",
        full.to_str().unwrap(),
        "--text",
        dir.join("train-00.txt").to_str().unwrap(),
        "--max-tokens",
        "40",
        "--json",
    ]);
    ok(&limited);
    let limited: EvalReport = serde_json::from_slice(&limited.stdout).unwrap();
    assert!(limited.tokens <= 40, "{limited:?}");
}

#[test]
fn init_from_starts_a_new_run_from_a_checkpoints_weights() {
    let (dir, tok) = corpus_with_tokenizer("init-from");
    let base = dir.join("base");
    ok(&pretrain(&dir, &tok, &base, &["--steps", "3"]));

    // One AdamW step of rate 1e-4 from the base weights: a new run (step 1, new optimizer),
    // every weight within one step's reach of the base (Adam's first step moves each by about
    // the rate, plus the decay), which a new initialisation would not be.
    let init = dir.join("init");
    let (c, i) = (dir.to_str().unwrap(), init.to_str().unwrap());
    let log = ok(&bert(&[
        "pretrain",
        "--corpus",
        c,
        "--out",
        i,
        "--init-from",
        base.to_str().unwrap(),
        "--steps",
        "1",
        "--batch",
        "4",
        "--seq",
        "32",
        "--lr",
        "1e-4",
        "--warmup",
        "0",
        "--seed",
        "11",
    ]));
    assert!(log.contains("done: 1 steps"), "{log}");
    let s = state(&init);
    assert_eq!((s.step, s.seed), (1, 11));
    assert_eq!(
        std::fs::read_to_string(init.join("tokenizer.json")).unwrap(),
        std::fs::read_to_string(base.join("tokenizer.json")).unwrap()
    );
    let (a, b) = (weights(&base), weights(&init));
    assert_eq!(a.len(), b.len());
    let mut moved = false;
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let diff = max_abs_diff("weights", x, y);
        assert!(
            diff <= 1.2e-4,
            "{name} moved {diff}: not started from the base weights"
        );
        moved |= diff > 0.0;
    }
    assert!(moved, "the step changed nothing");

    // It needs the checkpoint's tokenizer, and is not a resume.
    std::fs::remove_file(base.join("tokenizer.json")).unwrap();
    let again = dir.join("again");
    let (b, a) = (base.to_str().unwrap(), again.to_str().unwrap());
    assert_clean_failure(
        &bert(&[
            "pretrain",
            "--corpus",
            c,
            "--out",
            a,
            "--init-from",
            b,
            "--steps",
            "1",
        ]),
        "tokenizer.json",
    );
    assert_clean_failure(
        &bert(&[
            "pretrain",
            "--corpus",
            c,
            "--out",
            a,
            "--init-from",
            b,
            "--resume",
            b,
        ]),
        "cannot be used with",
    );
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_exits_cleanly() {
    let (dir, tok) = corpus_with_tokenizer("ctrlc");
    let out = dir.join("run");
    let mut args = vec![
        "pretrain",
        "--corpus",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--tokenizer",
        tok.to_str().unwrap(),
    ];
    args.extend(["--seq", "32", "--steps", "1000000", "--save-every", "20"]);
    args.extend(TINY);
    let child = Command::new(env!("CARGO_BIN_EXE_bert"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A failed assertion must not leave a million-step run behind.
    struct KillOnDrop(Option<std::process::Child>);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            if let Some(mut c) = self.0.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
    let mut guard = KillOnDrop(Some(child));
    let pid = guard.0.as_ref().unwrap().id();
    let start = Instant::now();
    // Older checkpoints are pruned as newer ones land: wait until any one is complete.
    let has_checkpoint = || {
        std::fs::read_dir(&out)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.path().join("trainer_state.json").exists())
            })
            .unwrap_or(false)
    };
    while !has_checkpoint() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let result = guard.0.take().unwrap().wait_with_output().unwrap();
    let log = ok(&result);
    assert!(log.contains("Continue with --resume"), "{log}");
    let stopped: usize = log
        .split("stopped at step ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!(stopped >= 20);
    assert_eq!(
        state(&out.join(format!("checkpoint-{stopped}"))).step,
        stopped
    );
}

#[test]
fn bad_corpus_and_output_fail_with_clear_errors() {
    let (dir, tok) = corpus_with_tokenizer("errors");
    let out = dir.join("out");

    let missing = dir.join("no-such-dir");
    assert_clean_failure(
        &pretrain(&missing, &tok, &out, &["--steps", "1"]),
        "no-such-dir",
    );

    let no_txt = scratch("errors-no-txt");
    assert_clean_failure(
        &pretrain(&no_txt, &tok, &out, &["--steps", "1"]),
        "has no .txt files",
    );

    let empty = scratch("errors-empty");
    std::fs::write(empty.join("train-00.txt"), "\n\n   \n").unwrap();
    assert_clean_failure(
        &pretrain(&empty, &tok, &out, &["--steps", "1"]),
        "has no text",
    );
    assert_clean_failure(
        &bert(&[
            "train-tokenizer",
            "--corpus",
            empty.to_str().unwrap(),
            "--vocab-size",
            "100",
            "--out",
            out.join("t.json").to_str().unwrap(),
        ]),
        "no text",
    );

    // The output path is a file, so no directory can be made there.
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    assert_clean_failure(
        &pretrain(&dir, &tok, &file.join("sub"), &["--steps", "1"]),
        "cannot create",
    );

    assert_clean_failure(
        &pretrain(
            &dir,
            &tok,
            &out,
            &["--steps", "1", "--resume", missing.to_str().unwrap()],
        ),
        "trainer_state.json",
    );
    assert_clean_failure(
        &bert(&[
            "eval",
            "--model",
            out.to_str().unwrap(),
            "--text",
            dir.join("nothing.txt").to_str().unwrap(),
        ]),
        "cannot read",
    );
}
