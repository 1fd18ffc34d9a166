//! The fixture model against transformers on the WebGPU adapter and on the CPU
//! fallback (logits, attentions, the one-pass analysis), and the tokenizer in wasm.

use super::*;

/// Every single-sequence case of the fixture: our tokenizer's ids, then the logits
/// and attentions of a full forward pass, and the browser's one-pass `analyze`.
async fn check_against_transformers(session: &Session) {
    check_fixture(session, "gelu-f32", GOLDEN).await;
}

/// [`check_against_transformers`] for fixture `name` and its golden tensors.
async fn check_fixture(session: &Session, fixture: &str, golden: &[u8]) {
    let golden = SafetensorsFile::parse(golden).unwrap();
    let cases: serde_json::Value = serde_json::from_str(CASES).unwrap();
    let (model, tokenizer, device) = (
        session.pipeline.masked_lm().unwrap(),
        &session.pipeline.tokenizer,
        &session.pipeline.device,
    );
    let mut checked = 0;
    for case in cases[fixture].as_array().unwrap() {
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
        assert_eq!(enc.ids, expected, "{fixture} {name}: token ids");

        let out = forward_host(model, &enc.ids, &enc.type_ids, tokenizer.pad_id(), device)
            .await
            .unwrap();
        let (_, logits) = golden.f32(&format!("{name}.logits")).unwrap();
        let d = max_abs_diff(&out.logits, &logits);
        assert!(
            d <= LOGIT_TOL,
            "{fixture} {name} on {}: logits differ by {d:e}",
            session.backend.kind
        );
        for (i, a) in out.attentions.iter().enumerate() {
            let (_, expected) = golden.f32(&format!("{name}.attentions.{i}")).unwrap();
            let d = max_abs_diff(a, &expected);
            assert!(
                d <= ATTENTION_TOL,
                "{fixture} {name} layer {i} on {}: attentions differ by {d:e}",
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
            assert_eq!(ids, expected, "{fixture} {name}: top-5 at {position}");
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

/// One checkpoint of each family beyond `bert` (`scripts/make_family_fixtures.py`).
macro_rules! family {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(
                "../../../tests/fixtures/models/",
                $name,
                "/config.json"
            )),
            include_bytes!(concat!(
                "../../../tests/fixtures/models/",
                $name,
                "/model.safetensors"
            ))
            .as_slice(),
            include_bytes!(concat!(
                "../../../tests/fixtures/models/",
                $name,
                "/tokenizer.json"
            ))
            .as_slice(),
            include_bytes!(concat!(
                "../../../tests/fixtures/golden/",
                $name,
                ".safetensors"
            ))
            .as_slice(),
        )
    };
}

type Family = (
    &'static str,
    &'static str,
    &'static [u8],
    &'static [u8],
    &'static [u8],
);

const FAMILIES: [Family; 6] = [
    family!("family-roberta"),
    family!("family-xlm-roberta"),
    family!("family-camembert"),
    family!("family-distilbert"),
    family!("family-albert"),
    family!("family-electra"),
];

async fn check_families(preference: Preference) {
    let backend = backend::open(preference).await;
    for (name, config, weights, tokenizer, golden) in FAMILIES {
        let files = ModelFiles {
            source: name.into(),
            config_json: config.into(),
            weights: weights.to_vec(),
            tokenizer_json: Some(tokenizer.to_vec()),
            ..ModelFiles::default()
        };
        let session = Session::load(&files, &backend).unwrap();
        check_fixture(&session, name, golden).await;
    }
}

#[wasm_bindgen_test]
async fn every_family_matches_transformers_on_webgpu() {
    check_families(Preference::WebGpu).await;
}

#[wasm_bindgen_test]
async fn every_family_matches_transformers_on_the_cpu_fallback() {
    check_families(Preference::Cpu).await;
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
