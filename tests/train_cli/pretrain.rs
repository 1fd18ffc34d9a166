//! `bert pretrain`: checkpoints, exact resume, `--init-from`, Ctrl-C.

use super::*;

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
    assert_eq!(p.config().num_hidden_layers, 1);

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
