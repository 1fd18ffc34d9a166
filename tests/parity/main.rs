//! The model against transformers: logits, hidden states, attentions and fill-mask
//! top-5 on every fixture checkpoint and case, within the tolerances.

#[path = "../common/mod.rs"]
mod common;
mod f16;
mod families;

use bert_burn::checkpoint::read_f32;
use bert_burn::inference::{
    AnalyzeOptions, analyze, analyze_with, fill_mask, make_inputs, top_k_softmax,
};
use bert_burn::model::OutputOptions;
use common::*;

const LOGIT_TOL: f32 = 1e-4;
const HIDDEN_TOL: f32 = 1e-4;
const ATTENTION_TOL: f32 = 1e-5;

fn check_model(name: &str) {
    check_model_on(name, bert_burn::device::cpu());
}

fn check_model_on(name: &str, device: burn::tensor::Device) {
    let p = bert_burn::Pipeline::load_dir(&model_dir(name), device).unwrap();
    let golden = Golden::open(name);
    let mut layer_checks = 0;
    for case in cases(name) {
        let case_name = &case.name;
        let what = |t: &str| format!("{name}/{case_name}/{t}");

        // Our tokenizer must give exactly the ids transformers ran on.
        let (shape, golden_ids) = golden.get(&format!("{case_name}.input_ids"));
        let (_, golden_types) = golden.get(&format!("{case_name}.token_type_ids"));
        let (_, golden_mask) = golden.get(&format!("{case_name}.attention_mask"));
        let seq = shape[1];
        let mut encodings = Vec::new();
        for (b, (a, pair)) in case.texts.iter().enumerate() {
            let enc = p.tokenizer.encode(a, pair.as_deref()).unwrap();
            let len = golden_mask[b * seq..(b + 1) * seq]
                .iter()
                .filter(|&&m| m == 1.0)
                .count();
            let ids: Vec<u32> = golden_ids[b * seq..b * seq + len]
                .iter()
                .map(|&x| x as u32)
                .collect();
            let types: Vec<u32> = golden_types[b * seq..b * seq + len]
                .iter()
                .map(|&x| x as u32)
                .collect();
            assert_eq!(enc.ids, ids, "{}", what("ids"));
            assert_eq!(enc.type_ids, types, "{}", what("type_ids"));
            assert_eq!(enc.truncated, case_name == "long", "{}", what("truncated"));
            encodings.push(enc);
        }

        let seqs: Vec<(&[u32], &[u32])> = encodings
            .iter()
            .map(|e| (&e.ids[..], &e.type_ids[..]))
            .collect();
        let inputs = make_inputs(
            p.masked_lm().unwrap(),
            &seqs,
            p.tokenizer.pad_id(),
            &p.device,
        )
        .unwrap();
        let out = p.masked_lm().unwrap().forward(
            inputs.input_ids,
            inputs.token_type_ids,
            inputs.attention_mask,
            OutputOptions::ALL,
        );
        let block = |t| pollster::block_on(read_f32(t)).unwrap();

        let (logit_shape, logits) = golden.get(&format!("{case_name}.logits"));
        assert_eq!(
            out.logits.dims().to_vec(),
            logit_shape,
            "{}",
            what("logits shape")
        );
        assert_close(&what("logits"), &block(out.logits), &logits, LOGIT_TOL);

        assert_eq!(
            out.hidden_states.len(),
            p.masked_lm().unwrap().config().layers_run() + 1
        );
        for (i, h) in out.hidden_states.into_iter().enumerate() {
            let (_, expected) = golden.get(&format!("{case_name}.hidden_states.{i}"));
            assert_close(
                &what(&format!("hidden_states.{i}")),
                &block(h),
                &expected,
                HIDDEN_TOL,
            );
        }
        assert_eq!(
            out.attentions.len(),
            p.masked_lm().unwrap().config().layers_run()
        );
        for (i, a) in out.attentions.into_iter().enumerate() {
            let (shape, expected) = golden.get(&format!("{case_name}.attentions.{i}"));
            assert_eq!(a.dims().to_vec(), shape);
            let a = pollster::block_on(read_f32(a)).unwrap();
            assert_close(
                &what(&format!("attentions.{i}")),
                &a,
                &expected,
                ATTENTION_TOL,
            );
        }

        // Fill-mask: same top-5 ids as transformers, probabilities alike.
        for top in &case.top5 {
            let (b, position) = (top.batch, top.position);
            let preds = pollster::block_on(fill_mask(
                p.masked_lm().unwrap(),
                &encodings[b],
                &p.tokenizer,
                5,
                &p.device,
            ))
            .unwrap();
            let mask = preds
                .iter()
                .find(|m| m.position == position)
                .expect("mask position predicted");
            let ids: Vec<u32> = mask.predictions.iter().map(|x| x.id).collect();
            assert_eq!(ids, top.ids, "{}", what("top-5 ids"));
            for (ours, &theirs) in mask.predictions.iter().zip(&top.probs) {
                assert!(
                    (ours.probability - theirs).abs() < 1e-5,
                    "{}: {} vs {theirs}",
                    what("probability"),
                    ours.probability
                );
            }
        }

        // The browser's single pass (attentions stacked + mask rows) gives the same numbers.
        if encodings.len() == 1 {
            let enc = &encodings[0];
            let analysis = pollster::block_on(analyze(
                p.masked_lm().unwrap(),
                &enc.ids,
                &enc.type_ids,
                &p.tokenizer,
                5,
                &p.device,
            ))
            .unwrap();
            let layers = p.masked_lm().unwrap().config().layers_run();
            assert_eq!(
                (analysis.layers, analysis.heads, analysis.seq),
                (
                    layers,
                    p.masked_lm().unwrap().config().num_attention_heads,
                    seq
                )
            );
            let per_layer = analysis.attentions.len() / layers;
            for i in 0..layers {
                let (_, expected) = golden.get(&format!("{case_name}.attentions.{i}"));
                let ours = &analysis.attentions[i * per_layer..(i + 1) * per_layer];
                assert_close(
                    &what(&format!("analyze attentions.{i}")),
                    ours,
                    &expected,
                    ATTENTION_TOL,
                );
            }
            for top in &case.top5 {
                let mask = analysis
                    .masks
                    .iter()
                    .find(|m| m.position == top.position)
                    .expect("analyze predicts every mask");
                let ids: Vec<u32> = mask.predictions.iter().map(|x| x.id).collect();
                assert_eq!(ids, top.ids, "{}", what("analyze top-5 ids"));
            }
            layer_checks += check_layer_predictions(&p, enc, &golden, case_name);
        }
    }
    assert!(
        layer_checks > 0,
        "{name}: no mask had its layer-by-layer predictions checked"
    );
}

/// The layer-by-layer predictions of one pass equal the MLM head applied to each of
/// transformers' hidden states at the mask (embeddings, then every layer).
fn check_layer_predictions(
    p: &bert_burn::Pipeline,
    enc: &bert_burn::Encoding,
    golden: &Golden,
    case_name: &str,
) -> usize {
    let options = AnalyzeOptions {
        top_k: 5,
        by_layer: true,
        words_only: false,
    };
    let analysis = pollster::block_on(analyze_with(
        p.masked_lm().unwrap(),
        &enc.ids,
        &enc.type_ids,
        &p.tokenizer,
        options,
        &p.device,
    ))
    .unwrap();
    let (layers, h) = (
        p.masked_lm().unwrap().config().layers_run(),
        p.masked_lm().unwrap().config().hidden_size,
    );
    for mask in &analysis.masks {
        assert_eq!(
            mask.by_layer.len(),
            layers + 1,
            "{case_name}: one list per hidden state"
        );
        assert_eq!(
            mask.by_layer[layers], mask.predictions,
            "{case_name}: the last is the output"
        );
        for (l, ours) in mask.by_layer.iter().enumerate() {
            let (_, hidden) = golden.get(&format!("{case_name}.hidden_states.{l}"));
            let row = hidden[mask.position * h..(mask.position + 1) * h].to_vec();
            let row = burn::tensor::Tensor::<2>::from_data(
                burn::tensor::TensorData::new(row, [1, h]),
                &p.device,
            );
            let logits =
                pollster::block_on(read_f32(p.masked_lm().unwrap().mlm_logits(row))).unwrap();
            let theirs = top_k_softmax(&logits, logits.len());
            let prob = |id: u32| theirs.iter().find(|t| t.0 == id).map_or(-1.0, |t| t.1);
            for pred in ours {
                assert!(
                    (pred.probability - prob(pred.id)).abs() < 1e-4,
                    "{case_name} layer {l}: {} {} vs {}",
                    pred.token,
                    pred.probability,
                    prob(pred.id)
                );
            }
            assert!(
                (ours[0].probability - theirs[0].1).abs() < 1e-4,
                "{case_name} layer {l}: top candidate {:?} vs {:?}",
                ours[0],
                theirs[0]
            );
        }
    }
    analysis.masks.len()
}

#[test]
fn gelu_f32_matches_transformers() {
    check_model("gelu-f32");
}

#[test]
fn gelu_new_head_dim_24_f16_file_matches_transformers() {
    check_model("gelunew-head24-f16");
}

#[test]
fn relu_bf16_prefixless_with_extra_and_tied_tensors_matches_transformers() {
    check_model("relu-bf16-noprefix");
}

#[test]
fn gelu_tanh_untied_decoder_legacy_names_matches_transformers() {
    check_model("tanh-untied-legacy");
}

/// The same parity on the wgpu backend (natively: Vulkan; on CI, Mesa's lavapipe).
/// `BERT_REQUIRE_WGPU=1` (set by scripts/test.sh) makes a missing adapter a failure.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_backend_matches_transformers() {
    let Some(device) = bert_burn::device::wgpu_if_present().unwrap() else {
        return;
    };
    // Burn's matmul, then our direct kernel for the linear layers (what software adapters
    // such as lavapipe get by default, see `bert_burn::device::wgpu`).
    for direct in [false, true] {
        bert_burn::model::direct_linear::set_enabled(direct);
        for name in MODELS {
            check_model_on(name, device.clone());
        }
    }
}

#[test]
fn words_only_fillers_skip_special_tokens_and_keep_their_probabilities() {
    use bert_burn::inference::{top_k_predictions, top_k_words};
    let p =
        bert_burn::Pipeline::load_dir(&model_dir("gelu-f32"), bert_burn::device::cpu()).unwrap();
    let t = &p.tokenizer;
    let vocab = p.masked_lm().unwrap().config().vocab_size;
    let id = |s: &str| t.token_to_id(s).unwrap() as usize;
    let mut logits = vec![0.0f32; vocab];
    logits[id("[SEP]")] = 10.0;
    logits[id("[MASK]")] = 9.0;
    logits[id("[UNK]")] = 8.5;
    let word = (0..vocab)
        .find(|&i| !t.is_special_token(&t.id_to_token(i as u32).unwrap()))
        .unwrap();
    logits[word] = 8.0;
    let all = top_k_predictions(&logits, 4, t).unwrap();
    assert_eq!(all[0].token, "[SEP]");
    let words = top_k_words(&logits, 3, t).unwrap();
    assert_eq!(words.len(), 3);
    assert!(
        words.iter().all(|w| !t.is_special_token(&w.token)),
        "{words:?}"
    );
    assert_eq!(words[0].id as usize, word);
    // The same probability as in the full ranking (not renormalised without the specials).
    assert_eq!(words[0].probability, all[3].probability);
}
