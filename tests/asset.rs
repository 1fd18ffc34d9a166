//! The embedded default model in assets/: a complete Hugging Face checkpoint (f16
//! weights, tokenizer.json) of the configuration its model card states, predicting
//! exactly what transformers predicts for it (golden/asset-top5.json, written by
//! `python scripts/make_fixtures.py asset`).

mod common;

use std::path::PathBuf;

use bert_burn::inference::fill_mask;
use bert_burn::{Pipeline, device};
use common::fixtures;

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets")
}

#[test]
fn embedded_model_is_a_complete_f16_checkpoint() {
    let dir = assets();
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "MODEL_CARD.md",
    ] {
        assert!(dir.join(f).is_file(), "assets/{f} is missing");
    }
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let dtypes: std::collections::BTreeSet<&str> = header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(_, v)| v["dtype"].as_str().unwrap())
        .collect();
    assert_eq!(dtypes.into_iter().collect::<Vec<_>>(), ["F16"]);

    let p = Pipeline::load_dir(&dir, device::cpu()).unwrap();
    let c = p.masked_lm().unwrap().config();
    assert_eq!(c.vocab_size, p.tokenizer.vocab_size());
    assert!(
        c.num_hidden_layers >= 4 && c.hidden_size >= 256,
        "smaller than the card says"
    );
    let card = std::fs::read_to_string(dir.join("MODEL_CARD.md")).unwrap();
    for fact in [
        format!("{} layers", c.num_hidden_layers),
        format!("hidden size {}", c.hidden_size),
    ] {
        assert!(
            card.contains(&fact),
            "MODEL_CARD.md does not state `{fact}`"
        );
    }
}

#[test]
fn embedded_model_predicts_what_transformers_predicts() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("golden/asset-top5.json")).unwrap(),
    )
    .unwrap();
    let p = Pipeline::load_dir(&assets(), device::cpu()).unwrap();
    for case in golden.as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let enc = p.tokenizer.encode(text, case["text_b"].as_str()).unwrap();
        let ids: Vec<u64> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(
            enc.ids.iter().map(|&i| u64::from(i)).collect::<Vec<_>>(),
            ids,
            "tokens of {text:?}"
        );
        let masks = pollster::block_on(fill_mask(
            p.masked_lm().unwrap(),
            &enc,
            &p.tokenizer,
            5,
            &p.device,
        ))
        .unwrap();
        let want = case["masks"].as_array().unwrap();
        assert_eq!(masks.len(), want.len());
        for (m, w) in masks.iter().zip(want) {
            let got: Vec<u64> = m.predictions.iter().map(|x| u64::from(x.id)).collect();
            let expected: Vec<u64> = w["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            assert_eq!(got, expected, "top-5 for {text:?} at {}", m.position);
            let p0 = w["probs"][0].as_f64().unwrap();
            assert!(
                (f64::from(m.predictions[0].probability) - p0).abs() < 1e-4,
                "{text:?}"
            );
        }
    }
}
