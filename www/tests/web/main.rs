//! The app's pieces in a real browser (headless Chromium, `--enable-unsafe-webgpu`):
//! the fixture model against transformers on the WebGPU adapter and on the CPU
//! fallback, tokenizer parity in wasm, load errors, and the DOM the UI builds.
//! Run by scripts/test.sh: `cargo test -p bert-web --target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]

mod loading;
mod parity;
mod protocol;
mod tasks;
mod training;
mod views;

/// Shared with the native tests: torch's AdamW step and its checks.
#[path = "../../../tests/common/train_step.rs"]
mod train_step;
use train_step::{
    assert_adam_step, assert_rel, encoding_of, golden_rows, golden_train_batch, train_step_config,
};

use bert_burn::Head;
use bert_burn::checkpoint::SafetensorsFile;
use bert_burn::inference::{analyze, forward_host};
use bert_burn::{BertConfig, BertTokenizer};
use bert_web::backend::BackendKind;
use bert_web::backend::{self, Preference};
use bert_web::model_files::{
    CACHE_NAME, FetchError, Location, ModelFiles, SIZE_HEADER, fetch_bytes,
};
use bert_web::session::{Session, check_fits};
use bert_web::ui::{dom, heatmap, predictions, tokens::TokenState};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &str = include_str!("../../../tests/fixtures/models/gelu-f32/config.json");
const WEIGHTS: &[u8] = include_bytes!("../../../tests/fixtures/models/gelu-f32/model.safetensors");
const TOKENIZER: &[u8] = include_bytes!("../../../tests/fixtures/models/gelu-f32/tokenizer.json");
const GOLDEN: &[u8] = include_bytes!("../../../tests/fixtures/golden/gelu-f32.safetensors");
const CASES: &str = include_str!("../../../tests/fixtures/golden/cases.json");
const BASE_TOKENIZER: &[u8] =
    include_bytes!("../../../tests/fixtures/tokenizer/bert-base-uncased/tokenizer.json");
const BASE_GOLDEN: &str =
    include_str!("../../../tests/fixtures/tokenizer/bert-base-uncased/golden.json");

const LOGIT_TOL: f32 = 1e-3;
const ATTENTION_TOL: f32 = 1e-4;

fn fixture_files() -> ModelFiles {
    ModelFiles {
        source: "fixture gelu-f32".into(),
        config_json: CONFIG.into(),
        weights: WEIGHTS.to_vec(),
        tokenizer_json: Some(TOKENIZER.to_vec()),
        ..ModelFiles::default()
    }
}

/// The model's plain top-`k` (what transformers' fill-mask gives), no layer-by-layer view.
fn top_k(k: usize) -> bert_burn::inference::AnalyzeOptions {
    bert_burn::inference::AnalyzeOptions {
        top_k: k,
        by_layer: false,
        words_only: false,
    }
}

fn top5() -> bert_burn::inference::AnalyzeOptions {
    top_k(5)
}

fn max_abs_diff(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len(), "lengths differ");
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}
