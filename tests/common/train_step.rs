//! The training case `scripts/make_fixtures.py` recorded with torch: its optimizer
//! settings, its batch, and the relative comparison. Shared by the native test
//! (tests/train.rs) and the browser test (www/tests/web.rs, through `#[path]`).
#![allow(dead_code)]

use bert_burn::train::{MlmBatch, TrainConfig};

/// The AdamW settings the golden step was taken with.
pub fn train_step_config() -> TrainConfig {
    TrainConfig {
        lr: 1e-3,
        warmup_steps: 0,
        total_steps: 1000,
        eps: 1e-6,
        // Large enough that decaying a no-decay parameter shows 10x above tolerance.
        weight_decay: 0.1,
        no_decay_on_bias_and_norm: true,
        max_grad_norm: Some(1.0),
        ..TrainConfig::default()
    }
}

/// The golden batch, unpadded; `get` reads a golden tensor by name.
pub fn golden_train_batch(get: impl Fn(&str) -> (Vec<usize>, Vec<f32>)) -> MlmBatch {
    let (shape, ids) = get("ids");
    let (_, mask) = get("attention_mask");
    let (_, labels) = get("labels");
    let seq = shape[1];
    let mut batch = MlmBatch::default();
    for b in 0..shape[0] {
        let n = mask[b * seq..(b + 1) * seq]
            .iter()
            .filter(|&&m| m == 1.0)
            .count();
        batch.ids.push(
            ids[b * seq..b * seq + n]
                .iter()
                .map(|&x| x as u32)
                .collect(),
        );
        batch.type_ids.push(vec![0; n]);
        batch.labels.push(
            labels[b * seq..b * seq + n]
                .iter()
                .map(|&x| x as i64)
                .collect(),
        );
    }
    batch
}

/// Largest difference within `rel` of the largest magnitude in `theirs`.
pub fn assert_rel(what: &str, ours: &[f32], theirs: &[f32], rel: f32) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    let scale = theirs.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-12);
    let worst = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        worst <= rel * scale,
        "{what}: max |diff| {worst:e} > {rel:e} x {scale:e}"
    );
}
