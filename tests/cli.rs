//! The `bert` binary: JSON output equal to transformers, the dump file, and bad input
//! reported on stderr with a non-zero exit, never a panic.

mod common;

use std::process::{Command, Output};

use bert_burn::checkpoint::SafetensorsFile;
use common::*;

fn bert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bert"))
        .args(args)
        .output()
        .expect("run bert")
}

fn assert_clean_failure(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
}

#[test]
fn fill_mask_json_matches_transformers_top5() {
    let all = cases();
    let case = &all["gelu-f32"][0];
    let text = case["texts"][0][0].as_str().unwrap();
    let dir = model_dir("gelu-f32");
    let out = bert(&[
        "fill-mask",
        "--model",
        dir.to_str().unwrap(),
        "--top-k",
        "5",
        "--json",
        text,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["truncated"], false);
    assert_eq!(
        v["tokens"].as_array().unwrap().len(),
        v["ids"].as_array().unwrap().len()
    );
    let masks = v["masks"].as_array().unwrap();
    let expected = case["top5"].as_array().unwrap();
    assert_eq!(masks.len(), expected.len());
    for (m, e) in masks.iter().zip(expected) {
        assert_eq!(m["position"], e["position"]);
        let ids: Vec<u64> = m["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_u64().unwrap())
            .collect();
        let want: Vec<u64> = e["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(ids, want);
        let p0 = m["predictions"][0]["probability"].as_f64().unwrap();
        assert!((p0 - e["probs"][0].as_f64().unwrap()).abs() < 1e-5);
        assert!(m["predictions"][0]["token"].as_str().is_some());
    }
}

#[test]
fn fill_all_fills_every_mask() {
    let dir = model_dir("gelu-f32");
    let out = bert(&[
        "fill-mask",
        "--model",
        dir.to_str().unwrap(),
        "--json",
        "--fill-all",
        "the [MASK] sat on the [MASK] .",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = v["fill_all"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_ne!(steps[0]["position"], steps[1]["position"]);
    let ids = v["fill_all"]["ids"].as_array().unwrap();
    let mask_id = v["ids"][steps[0]["position"].as_u64().unwrap() as usize].clone();
    assert!(!ids.contains(&mask_id), "a mask was left unfilled");
    // The first fill is the most confident of the first round.
    let first_round_best = v["masks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["predictions"][0]["probability"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!((steps[0]["probability"].as_f64().unwrap() - first_round_best).abs() < 1e-6);
}

#[test]
fn dump_writes_transformers_equal_tensors() {
    let all = cases();
    let case = &all["relu-bf16-noprefix"][1]; // a sentence pair
    let (a, b) = (
        case["texts"][0][0].as_str().unwrap(),
        case["texts"][0][1].as_str().unwrap(),
    );
    let dir = model_dir("relu-bf16-noprefix");
    let tmp = std::env::temp_dir().join(format!("bert-dump-{}.safetensors", std::process::id()));
    let out = bert(&[
        "dump",
        "--model",
        dir.to_str().unwrap(),
        "--out",
        tmp.to_str().unwrap(),
        "--pair",
        b,
        a,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&tmp).unwrap();
    std::fs::remove_file(&tmp).ok();
    let ours = SafetensorsFile::parse(&bytes).unwrap();
    let golden = Golden::open("relu-bf16-noprefix");
    let layers = 2;
    let mut names = vec![
        "input_ids".to_string(),
        "token_type_ids".into(),
        "logits".into(),
    ];
    names.extend((0..=layers).map(|i| format!("hidden_states.{i}")));
    names.extend((0..layers).map(|i| format!("attentions.{i}")));
    assert_eq!(ours.names().len(), names.len());
    for name in names {
        let (shape, values) = ours.f32(&name).unwrap();
        let (gshape, gvalues) = golden.get(&format!("case1.{name}"));
        assert_eq!(shape, gshape, "{name}");
        let tol = if name.starts_with("attentions") {
            1e-5
        } else {
            1e-4
        };
        assert_close(&name, &values, &gvalues, tol);
    }
}

#[test]
fn bad_input_fails_cleanly() {
    let dir = model_dir("gelu-f32");
    let d = dir.to_str().unwrap();
    assert_clean_failure(
        &bert(&["fill-mask", "--model", d, "no mask here"]),
        "[MASK]",
    );
    assert_clean_failure(&bert(&["fill-mask", "--model", d, ""]), "empty");
    assert_clean_failure(
        &bert(&["fill-mask", "--model", d, "--top-k", "0", "a [MASK]"]),
        "top-k",
    );
    assert_clean_failure(
        &bert(&["fill-mask", "--model", "/nonexistent/model", "a [MASK]"]),
        "does not exist",
    );
    assert_clean_failure(
        &bert(&["fill-mask", "--model", d, "--backend", "tpu", "a [MASK]"]),
        "backend",
    );
    let fixtures = fixtures();
    assert_clean_failure(
        &bert(&[
            "fill-mask",
            "--model",
            fixtures.to_str().unwrap(),
            "a [MASK]",
        ]),
        "config.json",
    );
    let tmp = std::env::temp_dir().join("bert-cli-no-dir/x/y.safetensors");
    assert_clean_failure(
        &bert(&[
            "dump",
            "--model",
            d,
            "--out",
            tmp.to_str().unwrap(),
            "a [MASK]",
        ]),
        "cannot write",
    );
}

#[test]
fn over_long_text_is_truncated_and_reported() {
    let dir = model_dir("tanh-untied-legacy"); // 32 positions
    let text = "the [MASK] ".repeat(100);
    let out = bert(&[
        "fill-mask",
        "--model",
        dir.to_str().unwrap(),
        "--json",
        &text,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["truncated"], true);
    assert_eq!(v["ids"].as_array().unwrap().len(), 32);
    assert!(!v["masks"].as_array().unwrap().is_empty());
}

#[test]
fn convert_writes_a_loadable_checkpoint() {
    let dir = model_dir("relu-bf16-noprefix");
    let out_dir = std::env::temp_dir().join(format!("bert-convert-{}", std::process::id()));
    let out = bert(&[
        "convert",
        "--model",
        dir.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "config.json",
        "model.safetensors",
        "vocab.txt",
        "tokenizer_config.json",
    ] {
        assert!(out_dir.join(f).exists(), "{f} missing");
    }
    let text = "where is the [MASK]?";
    let a = bert(&[
        "fill-mask",
        "--model",
        dir.to_str().unwrap(),
        "--json",
        text,
    ]);
    let b = bert(&[
        "fill-mask",
        "--model",
        out_dir.to_str().unwrap(),
        "--json",
        text,
    ]);
    std::fs::remove_dir_all(&out_dir).ok();
    assert!(a.status.success() && b.status.success());
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_slice(&a.stdout).unwrap(),
        serde_json::from_slice(&b.stdout).unwrap(),
    );
    assert_eq!(
        a["masks"], b["masks"],
        "bf16 → f32 conversion is exact, so predictions are identical"
    );
}
