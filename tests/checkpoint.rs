//! Loading real-world checkpoint variants, saving in Hugging Face's layout, and every
//! kind of bad file: each must be a clear error naming what is wrong, never a panic.

mod common;

use bert_burn::checkpoint::{
    HostTensor, SafetensorsFile, StoreDtype, load_from_bytes, load_with_config, to_safetensors,
    write_safetensors,
};
use bert_burn::{BertConfig, BertError, BertForMaskedLM, device};
use common::*;
use serde_json::Value;

fn files(name: &str) -> (String, Vec<u8>) {
    let dir = model_dir(name);
    (
        std::fs::read_to_string(dir.join("config.json")).unwrap(),
        std::fs::read(dir.join("model.safetensors")).unwrap(),
    )
}

/// Splits a safetensors file into its JSON header and data, and joins them back.
fn split(bytes: &[u8]) -> (Value, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (
        serde_json::from_slice(&bytes[8..8 + n]).unwrap(),
        bytes[8 + n..].to_vec(),
    )
}

fn join(header: &Value, data: &[u8]) -> Vec<u8> {
    let h = serde_json::to_vec(header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(data);
    out
}

/// The file rewritten with only the tensors `keep` accepts (safetensors forbids gaps,
/// so dropping a tensor means re-serialising the rest).
fn without(bytes: &[u8], keep: impl Fn(&str) -> bool) -> Vec<u8> {
    let file = SafetensorsFile::parse(bytes).unwrap();
    let tensors: Vec<(String, HostTensor)> = file
        .names()
        .into_iter()
        .filter(|n| keep(n))
        .map(|n| {
            let (shape, values) = file.f32(&n).unwrap();
            (n, HostTensor::new(shape, &values, StoreDtype::F32))
        })
        .collect();
    write_safetensors(&tensors).unwrap()
}

fn load_err(config: &str, weights: &[u8]) -> BertError {
    load_from_bytes(config, weights, &device::cpu()).expect_err("loading must fail")
}

fn logits_for(model: &BertForMaskedLM, ids: &[u32]) -> Vec<f32> {
    let vocab = model.config().vocab_size as u32;
    let ids: Vec<u32> = ids.iter().map(|i| i % vocab).collect();
    let ids = &ids[..];
    let types = vec![0; ids.len()];
    logits_of(model, &[(ids, &types)], 0, &device::cpu())
}

const IDS: [u32; 8] = [2, 400, 5, 900, 4, 1200, 17, 3];

#[test]
fn saved_file_has_exactly_the_keys_transformers_writes_and_reloads_identically() {
    for name in MODELS.into_iter().chain(FAMILIES) {
        let p = load(name);
        let bytes =
            pollster::block_on(to_safetensors(p.masked_lm().unwrap(), StoreDtype::F32)).unwrap();
        let file = SafetensorsFile::parse(&bytes).unwrap();
        let mut keys = file.names();
        keys.sort();
        let expected = hf_keys(name);
        assert_eq!(
            keys, expected,
            "{name}: saved keys differ from transformers' own"
        );

        let reloaded =
            load_with_config(p.masked_lm().unwrap().config(), &bytes, &device::cpu()).unwrap();
        assert_eq!(
            logits_for(p.masked_lm().unwrap(), &IDS),
            logits_for(&reloaded, &IDS),
            "{name}: round trip changed logits"
        );
    }
}

#[test]
fn family_configs_are_written_back_with_their_own_keys() {
    for name in FAMILIES {
        let text = std::fs::read_to_string(model_dir(name).join("config.json")).unwrap();
        let original: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
        let config = BertConfig::from_json(&text).unwrap();
        let written: serde_json::Map<String, Value> =
            serde_json::from_str(&config.to_json()).unwrap();
        for (key, value) in &original {
            if ["dtype", "transformers_version"].contains(&key.as_str()) {
                continue;
            }
            let back = written.get(key).unwrap_or(&Value::Null);
            assert_eq!(back, value, "{name}: `{key}` written back");
        }
        let foreign: Vec<_> = written
            .keys()
            .filter(|k| !original.contains_key(*k))
            .collect();
        assert!(
            foreign
                .iter()
                .all(
                    |k| ["position_embedding_type", "classifier_dropout"].contains(&k.as_str())
                        || !name.contains("distilbert")
                ),
            "{name}: keys DistilBertConfig does not have: {foreign:?}"
        );
        assert_eq!(
            BertConfig::from_json(&config.to_json()).unwrap(),
            config,
            "{name}"
        );
    }
}

#[test]
fn saves_in_half_precision() {
    let p = load("gelu-f32");
    let f32_logits = logits_for(p.masked_lm().unwrap(), &IDS);
    for (dtype, tol) in [(StoreDtype::F16, 0.05), (StoreDtype::BF16, 0.3)] {
        let bytes = pollster::block_on(to_safetensors(p.masked_lm().unwrap(), dtype)).unwrap();
        let (header, _) = split(&bytes);
        let want = if dtype == StoreDtype::F16 {
            "F16"
        } else {
            "BF16"
        };
        assert_eq!(
            header["bert.embeddings.word_embeddings.weight"]["dtype"],
            want
        );
        assert_eq!(header["__metadata__"]["format"], "pt");
        let reloaded =
            load_with_config(p.masked_lm().unwrap().config(), &bytes, &device::cpu()).unwrap();
        let d = max_abs_diff("half logits", &logits_for(&reloaded, &IDS), &f32_logits);
        assert!(d > 0.0 && d < tol, "{want}: rounding moved logits by {d}");
    }
}

#[test]
fn config_round_trips() {
    let (text, _) = files("tanh-untied-legacy");
    let config = BertConfig::from_json(&text).unwrap();
    assert_eq!(config.hidden_act, "gelu_pytorch_tanh");
    assert!(!config.tie_word_embeddings);
    assert_eq!(config.layer_norm_eps, 1e-5);
    assert_eq!(BertConfig::from_json(&config.to_json()).unwrap(), config);
    // Missing keys take transformers' defaults.
    let defaults = BertConfig::from_json("{}").unwrap();
    assert_eq!(defaults, BertConfig::default());
    assert_eq!(
        (
            defaults.vocab_size,
            defaults.hidden_size,
            defaults.num_hidden_layers
        ),
        (30522, 768, 12)
    );
    assert_eq!(defaults.layer_norm_eps, 1e-12);
}

#[test]
fn truncated_file_is_an_error() {
    let (config, bytes) = files("gelu-f32");
    for len in [0, 4, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        let err = load_err(&config, &bytes[..len]);
        assert!(
            matches!(err, BertError::Safetensors(_)),
            "{len} bytes: {err}"
        );
    }
}

#[test]
fn corrupt_file_is_an_error() {
    let (config, _) = files("gelu-f32");
    for bad in [
        &b"this is not a safetensors file at all"[..],
        &[0xff; 64][..],
        &[8, 0, 0, 0, 0, 0, 0, 0, b'{', b'{'][..],
    ] {
        let err = load_err(&config, bad);
        assert!(matches!(err, BertError::Safetensors(_)), "{err}");
    }
}

#[test]
fn header_that_lies_about_sizes_is_an_error() {
    let (config, bytes) = files("gelu-f32");
    let (mut header, data) = split(&bytes);
    let name = "bert.embeddings.word_embeddings.weight";
    let end = header[name]["data_offsets"][1].as_u64().unwrap();
    header[name]["data_offsets"][1] = (end + 4096).into();
    let err = load_err(&config, &join(&header, &data));
    assert!(matches!(err, BertError::Safetensors(_)), "{err}");

    // Offsets past the end of the data.
    let (mut header, data) = split(&bytes);
    header[name]["data_offsets"] =
        serde_json::json!([data.len() as u64 + 16, data.len() as u64 + 32]);
    let err = load_err(&config, &join(&header, &data));
    assert!(matches!(err, BertError::Safetensors(_)), "{err}");

    // A header length beyond the file.
    let mut lying = bytes.clone();
    lying[..8].copy_from_slice(&(bytes.len() as u64 * 2).to_le_bytes());
    assert!(matches!(
        load_err(&config, &lying),
        BertError::Safetensors(_)
    ));
}

#[test]
fn integer_dtype_is_an_error_naming_the_tensor() {
    let (config, bytes) = files("gelu-f32");
    let (mut header, data) = split(&bytes);
    let name = "bert.encoder.layer.1.attention.self.key.weight";
    header[name]["dtype"] = "I32".into();
    let err = load_err(&config, &join(&header, &data));
    let msg = err.to_string();
    assert!(matches!(err, BertError::UnsupportedDtype { .. }), "{msg}");
    assert!(msg.contains(name) && msg.contains("I32"), "{msg}");
}

#[test]
fn wrong_shape_is_an_error_naming_the_tensor_and_both_shapes() {
    let (config, bytes) = files("gelu-f32");
    let (mut header, data) = split(&bytes);
    let name = "bert.encoder.layer.0.intermediate.dense.weight";
    // Same number of elements, other shape: only the shape check can catch it.
    header[name]["shape"] = serde_json::json!([64, 128]);
    let msg = load_err(&config, &join(&header, &data)).to_string();
    assert!(
        msg.contains(name) && msg.contains("[64, 128]") && msg.contains("[128, 64]"),
        "{msg}"
    );
}

#[test]
fn missing_tensor_is_an_error_naming_it() {
    let (config, bytes) = files("gelu-f32");
    let name = "bert.encoder.layer.1.output.LayerNorm.bias";
    let err = load_err(&config, &without(&bytes, |n| n != name));
    assert!(matches!(err, BertError::MissingTensor { .. }), "{err}");
    assert!(err.to_string().contains(name), "{err}");
}

#[test]
fn encoder_without_mlm_head_is_an_error() {
    // A `BertModel` checkpoint (e.g. a sentence encoder): no `cls.*` tensors.
    let (config, bytes) = files("gelu-f32");
    let msg = load_err(&config, &without(&bytes, |n| !n.starts_with("cls."))).to_string();
    assert!(msg.contains("cls.predictions"), "{msg}");
}

#[test]
fn invalid_config_is_an_error() {
    let (_, bytes) = files("gelu-f32");
    let cases = [
        ("", "config"),
        ("not json", "config"),
        ("[1, 2, 3]", "object"),
        (r#"{"hidden_size": "big"}"#, "hidden_size"),
        (
            r#"{"hidden_size": 64, "num_attention_heads": 5}"#,
            "multiple",
        ),
        (r#"{"hidden_act": "swiglu"}"#, "swiglu"),
        (r#"{"model_type": "gpt2"}"#, "gpt2"),
        (
            r#"{"model_type": "roberta"}"#,
            "weights are named as a `bert`",
        ),
        (
            r#"{"model_type": "albert", "num_hidden_groups": 3, "num_hidden_layers": 4}"#,
            "num_hidden_groups",
        ),
        (r#"{"num_hidden_layers": 0}"#, "num_hidden_layers"),
        (
            r#"{"position_embedding_type": "relative_key"}"#,
            "relative_key",
        ),
    ];
    for (config, needle) in cases {
        let err = load_err(config, &bytes);
        assert!(matches!(err, BertError::Config(_)), "{config}: {err}");
        assert!(err.to_string().contains(needle), "{config}: {err}");
    }
    // A valid config for another size: the shapes disagree with the file.
    let (config, _) = files("gelu-f32");
    let mut v: Value = serde_json::from_str(&config).unwrap();
    v["intermediate_size"] = 256.into();
    let err = load_err(&v.to_string(), &bytes);
    assert!(matches!(err, BertError::ShapeMismatch { .. }), "{err}");
}
