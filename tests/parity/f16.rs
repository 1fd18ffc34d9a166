//! Half precision against the f32 model, on the wgpu backend.

use super::*;

/// Half precision, what the page runs on GPUs with `shader-f16` (lavapipe has it): against
/// the f32 model on every fixture case, logits within 2 % of their spread, attention
/// probabilities within 5e-3, and the same top token wherever f32's is clear of the second
/// by more than f16 can blur.
#[cfg(feature = "wgpu")]
#[test]
fn f16_inference_on_wgpu_follows_f32() {
    use bert_burn::inference::forward_host;
    use bert_burn::model::precision::{Precision, with_precision};
    let Some(device) = bert_burn::device::wgpu_if_present().unwrap() else {
        return;
    };
    if !device.supports_dtype(burn::tensor::DType::F16) {
        // CI's adapter (lavapipe) has it; a GPU without `shader-f16` gets f32 in the page.
        assert_ne!(
            std::env::var("BERT_REQUIRE_WGPU").as_deref(),
            Ok("1"),
            "no shader-f16"
        );
        return;
    }
    let mut rows = 0;
    for name in MODELS {
        let p = bert_burn::Pipeline::load_dir(&model_dir(name), device.clone()).unwrap();
        let half = with_precision(p.masked_lm().unwrap().clone(), Precision::F16);
        let vocab = p.masked_lm().unwrap().config().vocab_size;
        for case in cases(name) {
            for (a, pair) in &case.texts {
                let enc = p.tokenizer.encode(a, pair.as_deref()).unwrap();
                let run = |m| {
                    pollster::block_on(forward_host(
                        m,
                        &enc.ids,
                        &enc.type_ids,
                        p.tokenizer.pad_id(),
                        &device,
                    ))
                    .unwrap()
                };
                let (full, f16) = (run(p.masked_lm().unwrap()), run(&half));
                let what = format!("{name}/{}: {a}", case.name);
                let (lo, hi) = full
                    .logits
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(l, h), &x| (l.min(x), h.max(x)));
                assert_close(&what, &f16.logits, &full.logits, 0.02 * (hi - lo));
                for (l, (x, y)) in f16.attentions.iter().zip(&full.attentions).enumerate() {
                    assert_close(&format!("{what} attention {l}"), x, y, 5e-3);
                }
                for (row16, row32) in f16.logits.chunks(vocab).zip(full.logits.chunks(vocab)) {
                    let best = top_k_softmax(row32, 2);
                    let margin = row32[best[0].0 as usize] - row32[best[1].0 as usize];
                    if margin > 0.05 * (hi - lo) {
                        assert_eq!(top_k_softmax(row16, 1)[0].0, best[0].0, "{what}");
                        rows += 1;
                    }
                }
            }
        }
    }
    assert!(
        rows >= 20,
        "only {rows} rows with a clear top token were compared"
    );

    // A padded batch: the padded keys' additive mask in f16 (f32's most negative value
    // would be −∞ there, and 0 · −∞ a NaN).
    let p = bert_burn::Pipeline::load_dir(&model_dir(MODELS[0]), device.clone()).unwrap();
    let half = with_precision(p.masked_lm().unwrap().clone(), Precision::F16);
    let (short, long) = (
        p.tokenizer.encode("the [MASK] sat.", None).unwrap(),
        p.tokenizer
            .encode("the old cat sat on the [MASK] by the door.", None)
            .unwrap(),
    );
    let seqs = [
        (&short.ids[..], &short.type_ids[..]),
        (&long.ids[..], &long.type_ids[..]),
    ];
    assert_ne!(short.ids.len(), long.ids.len(), "the batch is padded");
    let logits = |m| logits_of(m, &seqs, p.tokenizer.pad_id(), &device);
    let (full, f16) = (logits(p.masked_lm().unwrap()), logits(&half));
    assert!(
        f16.iter().all(|x| x.is_finite()),
        "f16 logits of a padded batch"
    );
    let (lo, hi) = full
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &x| (l.min(x), h.max(x)));
    assert_close("padded batch in f16", &f16, &full, 0.02 * (hi - lo));
}
