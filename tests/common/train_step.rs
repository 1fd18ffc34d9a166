//! The training case `scripts/make_fixtures.py` recorded with torch: its optimizer
//! settings, its batch, and the relative comparison; the task heads' golden batches. Shared by the native test
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

/// One AdamW step from `before` (ours and torch's results), element by element. Adam's
/// first step moves an element by `lr·g/(|g|+eps)` (plus decoupled decay): where the
/// gradient is ten times `eps` or more that is well conditioned, and the results must
/// agree within `rel` of the tensor's scale. Below it the step is noise-sensitive — a
/// 1e-8 difference in a gradient (float32 rounding of a long sum, or a gradient that is
/// zero in exact arithmetic, like the key bias's) moves the element by ~1e-5 — so there
/// both results must only have stepped by at most `lr`.
pub fn assert_adam_step(
    what: &str,
    before: &[f32],
    ours: &[f32],
    theirs: &[f32],
    config: &TrainConfig,
    rel: f32,
) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    assert_eq!(before.len(), theirs.len(), "{what}");
    let lr = config.lr as f32;
    let decayed = config.weight_decay > 0.0
        && !(config.no_decay_on_bias_and_norm
            && (what.ends_with("bias") || what.to_lowercase().contains("norm")));
    let decay = if decayed { config.weight_decay } else { 0.0 };
    let scale = theirs.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-12);
    let mut well_conditioned = 0;
    for (i, ((&b, &o), &t)) in before.iter().zip(ours).zip(theirs).enumerate() {
        // torch's Adam part of the step, |lr·g/(|g|+eps)| = lr·r, gives |g| = eps·r/(1-r).
        let adam = (t - b * (1.0 - lr * decay)).abs() / lr;
        // No gradient at all (an embedding row no input used) is exact too: decay only.
        if !(1e-6..10.0 / 11.0).contains(&adam) {
            well_conditioned += 1;
            assert!(
                (o - t).abs() <= rel * scale,
                "{what}[{i}]: {o} vs torch's {t} (before {b}): differs by more than {rel:e} x {scale:e}"
            );
        } else {
            for (side, after) in [("ours", o), ("torch's", t)] {
                assert!(
                    (after - b).abs() <= 1.01 * lr * (1.0 + decay * b.abs()),
                    "{what}[{i}]: {side} moved {} from {b}, more than one step of {lr}",
                    after - b
                );
            }
        }
    }
    // Most of a real gradient is well above eps: the exact check must carry the test.
    let share = well_conditioned as f32 / theirs.len().max(1) as f32;
    // The key projection's bias has no gradient in exact arithmetic (softmax is blind to
    // a shift of a query's scores): all of it is rounding.
    if !(what.ends_with("key.bias") || what.ends_with("k_lin.bias")) {
        assert!(
            share > 0.5,
            "{what}: only {:.0} % of elements checked exactly",
            100.0 * share
        );
    }
}

/// A golden batch's rows, unpadded: (ids, type ids); `get` reads a golden tensor by name.
pub fn golden_rows(get: impl Fn(&str) -> (Vec<usize>, Vec<f32>)) -> Vec<(Vec<u32>, Vec<u32>)> {
    let (shape, ids) = get("input_ids");
    let (_, types) = get("token_type_ids");
    let (_, mask) = get("attention_mask");
    let seq = shape[1];
    (0..shape[0])
        .map(|b| {
            let n = mask[b * seq..(b + 1) * seq]
                .iter()
                .filter(|&&m| m == 1.0)
                .count();
            let take = |v: &[f32]| v[b * seq..b * seq + n].iter().map(|&x| x as u32).collect();
            (take(&ids), take(&types))
        })
        .collect()
}

/// An encoding of given ids (tokens named by their ids), for the task heads.
pub fn encoding_of(ids: &[u32], types: &[u32]) -> bert_burn::Encoding {
    bert_burn::Encoding {
        tokens: ids.iter().map(|i| i.to_string()).collect(),
        ids: ids.to_vec(),
        type_ids: types.to_vec(),
        ..Default::default()
    }
}
