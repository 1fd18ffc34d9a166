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

pub fn cases() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("golden/cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
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
