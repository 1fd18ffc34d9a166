//! Shared helpers: fixture paths, golden tensors, tolerance checks.
#![allow(dead_code)]

pub mod train_step;

use std::path::PathBuf;

use bert_burn::checkpoint::SafetensorsFile;
use bert_burn::{Pipeline, device};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn model_dir(name: &str) -> PathBuf {
    fixtures().join("models").join(name)
}

pub const MODELS: [&str; 4] = [
    "gelu-f32",
    "gelunew-head24-f16",
    "relu-bf16-noprefix",
    "tanh-untied-legacy",
];

/// One checkpoint per family beyond `bert` (`scripts/make_family_fixtures.py`).
pub const FAMILIES: [&str; 6] = [
    "family-roberta",
    "family-xlm-roberta",
    "family-camembert",
    "family-distilbert",
    "family-albert",
    "family-electra",
];

pub fn load(name: &str) -> Pipeline {
    Pipeline::load_dir(&model_dir(name), device::cpu())
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// The golden tensors transformers computed for one fixture model.
pub struct Golden {
    bytes: Vec<u8>,
}

impl Golden {
    pub fn open(name: &str) -> Self {
        let path = fixtures()
            .join("golden")
            .join(format!("{name}.safetensors"));
        Self {
            bytes: std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        }
    }

    pub fn get(&self, key: &str) -> (Vec<usize>, Vec<f32>) {
        SafetensorsFile::parse(&self.bytes)
            .unwrap()
            .f32(key)
            .unwrap_or_else(|e| panic!("golden {key}: {e}"))
    }
}

/// One batch transformers ran, as `tests/fixtures/make_fixtures.py` wrote it.
#[derive(Debug, serde::Deserialize)]
pub struct GoldenCase {
    pub name: String,
    /// Each sequence of the batch: its text and optional second segment.
    pub texts: Vec<(String, Option<String>)>,
    /// The fill-mask pipeline's top 5 at each mask.
    pub top5: Vec<GoldenTop5>,
}

#[derive(Debug, serde::Deserialize)]
pub struct GoldenTop5 {
    pub batch: usize,
    pub position: usize,
    pub ids: Vec<u32>,
    pub probs: Vec<f32>,
}

fn golden_json() -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(fixtures().join("golden/cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The batches transformers ran on fixture model `name`.
pub fn cases(name: &str) -> Vec<GoldenCase> {
    let value = golden_json()
        .remove(name)
        .unwrap_or_else(|| panic!("no golden cases for {name}"));
    serde_json::from_value(value).unwrap_or_else(|e| panic!("golden cases of {name}: {e}"))
}

/// The tensor names transformers' `save_pretrained` wrote for fixture model `name`, sorted.
pub fn hf_keys(name: &str) -> Vec<String> {
    let value = golden_json()
        .remove(&format!("{name}#hf_keys"))
        .unwrap_or_else(|| panic!("no saved keys for {name}"));
    serde_json::from_value(value).unwrap()
}

/// Runs the `bert` binary.
pub fn bert(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bert"))
        .args(args)
        .output()
        .expect("run bert")
}

/// stderr of a run that must have succeeded without a panic.
pub fn ok(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "bert failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A run that failed as a user should see it: non-zero exit, a line `error: …` naming
/// `needle`, no panic.
pub fn assert_clean_failure(out: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("error: ")),
        "stderr: {stderr}"
    );
    assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
}

/// Largest absolute difference; panics with context if the lengths differ.
pub fn max_abs_diff(what: &str, ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{what}: {} values vs {}",
        ours.len(),
        theirs.len()
    );
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

pub fn assert_close(what: &str, ours: &[f32], theirs: &[f32], tol: f32) {
    let d = max_abs_diff(what, ours, theirs);
    assert!(d <= tol, "{what}: max |diff| {d:e} > {tol:e}");
}

/// The logits `[batch, seq, vocab]` (flattened) of one forward pass over `seqs` (padded to
/// the longest, `pad_id`), read to the host.
pub fn logits_of(
    model: &bert_burn::BertForMaskedLM,
    seqs: &[(&[u32], &[u32])],
    pad_id: u32,
    device: &burn::tensor::Device,
) -> Vec<f32> {
    let inputs = bert_burn::inference::make_inputs(model, seqs, pad_id, device).unwrap();
    let out = model.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        bert_burn::model::OutputOptions::NONE,
    );
    pollster::block_on(bert_burn::checkpoint::read_f32(out.logits)).unwrap()
}
