//! The `bert` binary: JSON output equal to transformers, the dump file, and bad input
//! reported on stderr with a non-zero exit, never a panic.

mod common;

use bert_burn::checkpoint::SafetensorsFile;
use common::*;

/// `bert fill-mask --json` as the binary prints it.
#[derive(Debug, serde::Deserialize)]
struct FillMaskJson {
    tokens: Vec<String>,
    ids: Vec<u32>,
    truncated: bool,
    masks: Vec<MaskJson>,
    fill_all: Option<FillAllJson>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct MaskJson {
    position: usize,
    predictions: Vec<PredictionJson>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct PredictionJson {
    token: String,
    id: u32,
    probability: f32,
}

#[derive(Debug, serde::Deserialize)]
struct FillAllJson {
    steps: Vec<FillStepJson>,
    ids: Vec<u32>,
}

#[derive(Debug, serde::Deserialize)]
struct FillStepJson {
    position: usize,
    probability: f32,
}

/// Runs `bert fill-mask --json` and parses what it printed.
fn fill_mask_json(args: &[&str]) -> FillMaskJson {
    let out = bert(&[&["fill-mask", "--json"][..], args].concat());
    ok(&out);
    serde_json::from_slice(&out.stdout).expect("fill-mask --json prints its documented JSON")
}

#[test]
fn fill_mask_json_matches_transformers_top5() {
    let case = &cases("gelu-f32")[0];
    let text = &case.texts[0].0;
    let dir = model_dir("gelu-f32");
    let v = fill_mask_json(&["--model", dir.to_str().unwrap(), "--top-k", "5", text]);
    assert!(!v.truncated);
    assert_eq!(v.tokens.len(), v.ids.len());
    assert_eq!(v.masks.len(), case.top5.len());
    for (m, e) in v.masks.iter().zip(&case.top5) {
        assert_eq!(m.position, e.position);
        let ids: Vec<u32> = m.predictions.iter().map(|p| p.id).collect();
        assert_eq!(ids, e.ids);
        assert!((m.predictions[0].probability - e.probs[0]).abs() < 1e-5);
        assert!(!m.predictions[0].token.is_empty());
    }
}

#[test]
fn fill_all_fills_every_mask() {
    let dir = model_dir("gelu-f32");
    let v = fill_mask_json(&[
        "--model",
        dir.to_str().unwrap(),
        "--fill-all",
        "the [MASK] sat on the [MASK] .",
    ]);
    let joint = v.fill_all.expect("--fill-all adds fill_all");
    let steps = &joint.steps;
    assert_eq!(steps.len(), 2);
    assert_ne!(steps[0].position, steps[1].position);
    let mask_id = v.ids[steps[0].position];
    assert!(!joint.ids.contains(&mask_id), "a mask was left unfilled");
    // The first fill is the most confident of the first round.
    let first_round_best = v
        .masks
        .iter()
        .map(|m| m.predictions[0].probability)
        .fold(0.0, f32::max);
    assert!((steps[0].probability - first_round_best).abs() < 1e-6);
}

#[test]
fn dump_writes_transformers_equal_tensors() {
    let case = &cases("relu-bf16-noprefix")[1]; // a sentence pair
    let (a, b) = &case.texts[0];
    let b = b.as_deref().expect("case1 is a sentence pair");
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
    let v = fill_mask_json(&["--model", dir.to_str().unwrap(), &text]);
    assert!(v.truncated);
    assert_eq!(v.ids.len(), 32);
    assert!(!v.masks.is_empty());
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
    let a = fill_mask_json(&["--model", dir.to_str().unwrap(), text]);
    let b = fill_mask_json(&["--model", out_dir.to_str().unwrap(), text]);
    std::fs::remove_dir_all(&out_dir).ok();
    assert_eq!(
        a.masks, b.masks,
        "bf16 → f32 conversion is exact, so predictions are identical"
    );
}
