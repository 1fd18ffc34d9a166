//! The fixture model against transformers on the WebGPU adapter and on the CPU
//! fallback (logits, attentions, the one-pass analysis), and the tokenizer in wasm.

use super::*;

/// Every single-sequence case of the fixture: our tokenizer's ids, then the logits
/// and attentions of a full forward pass, and the browser's one-pass `analyze`.
async fn check_against_transformers(session: &Session) {
    let golden = SafetensorsFile::parse(GOLDEN).unwrap();
    let cases: serde_json::Value = serde_json::from_str(CASES).unwrap();
    let (model, tokenizer, device) = (
        session.pipeline.masked_lm().unwrap(),
        &session.pipeline.tokenizer,
        &session.pipeline.device,
    );
    let mut checked = 0;
    for case in cases["gelu-f32"].as_array().unwrap() {
        let texts = case["texts"].as_array().unwrap();
        if texts.len() != 1 {
            continue;
        }
        let name = case["name"].as_str().unwrap();
        let enc = tokenizer
            .encode(texts[0][0].as_str().unwrap(), texts[0][1].as_str())
            .unwrap();
        let (_, ids) = golden.f32(&format!("{name}.input_ids")).unwrap();
        let expected: Vec<u32> = ids.iter().map(|&x| x as u32).collect();
        assert_eq!(enc.ids, expected, "{name}: token ids");

        let out = forward_host(model, &enc.ids, &enc.type_ids, tokenizer.pad_id(), device)
            .await
            .unwrap();
        let (_, logits) = golden.f32(&format!("{name}.logits")).unwrap();
        let d = max_abs_diff(&out.logits, &logits);
        assert!(
            d <= LOGIT_TOL,
            "{name} on {}: logits differ by {d:e}",
            session.backend.kind
        );
        for (i, a) in out.attentions.iter().enumerate() {
            let (_, expected) = golden.f32(&format!("{name}.attentions.{i}")).unwrap();
            let d = max_abs_diff(a, &expected);
            assert!(
                d <= ATTENTION_TOL,
                "{name} layer {i} on {}: attentions differ by {d:e}",
                session.backend.kind
            );
        }

        let analysis = analyze(model, &enc.ids, &enc.type_ids, tokenizer, 5, device)
            .await
            .unwrap();
        let per_layer = analysis.attentions.len() / analysis.layers;
        for i in 0..analysis.layers {
            let (_, expected) = golden.f32(&format!("{name}.attentions.{i}")).unwrap();
            let d = max_abs_diff(
                &analysis.attentions[i * per_layer..(i + 1) * per_layer],
                &expected,
            );
            assert!(d <= ATTENTION_TOL, "{name} analyze layer {i}: {d:e}");
        }
        for top in case["top5"].as_array().unwrap() {
            let position = top["position"].as_u64().unwrap() as usize;
            let mask = analysis
                .masks
                .iter()
                .find(|m| m.position == position)
                .expect("every mask predicted");
            let ids: Vec<u64> = mask.predictions.iter().map(|x| u64::from(x.id)).collect();
            let expected: Vec<u64> = top["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(ids, expected, "{name}: top-5 at {position}");
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} cases checked");
}

#[wasm_bindgen_test]
async fn fixture_matches_transformers_on_webgpu() {
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(
        backend.info.kind,
        BackendKind::Webgpu,
        "headless Chromium with --enable-unsafe-webgpu must give an adapter: {:?}",
        backend.info.fallback_reason
    );
    assert!(backend.info.max_binding_bytes.is_some_and(|b| b > 0));
    // A software adapter (SwiftShader here) runs the linear layers on our direct kernel: this
    // is its check against transformers in the browser.
    assert_eq!(
        bert_burn::model::direct_linear::enabled(),
        backend.info.software
    );
    let session = Session::load(&fixture_files(), &backend).unwrap();
    check_against_transformers(&session).await;
}

#[wasm_bindgen_test]
async fn fixture_matches_transformers_on_the_cpu_fallback() {
    let backend = backend::open(Preference::Cpu).await;
    assert_eq!(backend.info.kind, BackendKind::Cpu);
    assert!(
        backend
            .info
            .fallback_reason
            .as_deref()
            .is_some_and(|r| r.contains("CPU"))
    );
    let session = Session::load(&fixture_files(), &backend).unwrap();
    check_against_transformers(&session).await;
}

#[wasm_bindgen_test]
fn tokenizer_matches_python_tokenizers_in_wasm() {
    let tok = BertTokenizer::from_json(BASE_TOKENIZER, 512).unwrap();
    let golden: serde_json::Value = serde_json::from_str(BASE_GOLDEN).unwrap();
    let cases = golden.as_array().unwrap();
    assert!(cases.len() > 5);
    for case in cases {
        let enc = tok
            .encode(case["text"].as_str().unwrap(), case["text_b"].as_str())
            .unwrap();
        let ids: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let offsets: Vec<(usize, usize)> = serde_json::from_value(case["offsets"].clone()).unwrap();
        assert_eq!(enc.ids, ids, "{}", case["text"]);
        assert_eq!(enc.offsets, offsets, "{}", case["text"]);
    }
}
