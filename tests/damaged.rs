//! Damaged inputs that once crashed or misled the program (tests/fixtures/damaged/, and ones
//! built here from the fixtures): each is now a typed error whose message says what is wrong,
//! in the library and in the CLI.

mod common;

use bert_burn::checkpoint::SafetensorsFile;
use bert_burn::pipeline::{Pipeline, TokenizerFiles};
use bert_burn::{BertError, BertTokenizer, device, inference};
use common::*;

fn damaged(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("damaged").join(name)).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(model_dir("gelu-f32").join(name)).unwrap()
}

fn tokenizer_error(file: &str) -> String {
    match BertTokenizer::from_json(&damaged(file), 64) {
        Err(e @ BertError::Tokenizer(_)) => e.to_string(),
        Err(other) => panic!("{file}: not a tokenizer error: {other}"),
        Ok(_) => panic!("{file}: loaded"),
    }
}

#[test]
fn a_lone_surrogate_in_tokenizer_json_is_an_error() {
    let msg = tokenizer_error("tokenizer-lone-surrogate.json");
    assert!(
        msg.contains("not valid JSON") && msg.contains("escape"),
        "{msg}"
    );
}

#[test]
fn a_syntax_error_in_the_decoder_is_an_error() {
    let msg = tokenizer_error("tokenizer-decoder-syntax.json");
    assert!(
        msg.contains("not valid JSON") && msg.contains("line"),
        "{msg}"
    );
}

#[test]
fn a_template_with_an_undefined_special_token_is_an_error() {
    let msg = tokenizer_error("tokenizer-undefined-special.json");
    assert!(msg.contains("does not define"), "{msg}");
}

fn load_error(config: &str) -> BertError {
    let tokenizer = fixture("tokenizer.json");
    Pipeline::from_bytes(
        config,
        &fixture("model.safetensors"),
        TokenizerFiles::Json(&tokenizer),
        device::cpu(),
    )
    .err()
    .expect("refused")
}

#[test]
fn a_config_that_claims_a_billion_layers_is_refused_naming_the_field() {
    let config = String::from_utf8(damaged("config-billion-layers.json")).unwrap();
    let err = load_error(&config);
    let msg = err.to_string();
    assert!(matches!(err, BertError::Config(_)), "{msg}");
    assert!(msg.contains("num_hidden_layers 1000000000"), "{msg}");
}

#[test]
fn a_config_that_claims_more_layers_than_the_checkpoint_is_an_error_naming_the_field() {
    let mut config: serde_json::Value = serde_json::from_slice(&fixture("config.json")).unwrap();
    config["num_hidden_layers"] = serde_json::json!(1000);
    let err = load_error(&config.to_string());
    let msg = err.to_string();
    assert!(matches!(err, BertError::Config(_)), "{msg}");
    assert!(
        msg.contains("num_hidden_layers is 1000 but the checkpoint has 2 layer(s)"),
        "{msg}"
    );
}

#[test]
fn a_config_whose_width_disagrees_with_the_checkpoint_is_an_error_naming_both_shapes() {
    let mut config: serde_json::Value = serde_json::from_slice(&fixture("config.json")).unwrap();
    config["hidden_size"] = serde_json::json!(128);
    let msg = load_error(&config.to_string()).to_string();
    assert!(
        msg.contains("word_embeddings")
            && msg.contains("[1725, 128]")
            && msg.contains("[1725, 64]"),
        "{msg}"
    );
}

#[test]
fn a_config_of_absurd_size_is_refused_before_anything_is_built() {
    let mut config: serde_json::Value = serde_json::from_slice(&fixture("config.json")).unwrap();
    config["hidden_size"] = serde_json::json!(1u64 << 40);
    config["num_attention_heads"] = serde_json::json!(1);
    let err = bert_burn::BertConfig::from_json(&config.to_string()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("parameters") && msg.contains("hidden_size 1099511627776"),
        "{msg}"
    );
}

/// The fixture's weights with one value of `tensor` replaced by `value`.
fn weights_with(tensor: &str, index: usize, value: f32) -> Vec<u8> {
    let mut bytes = fixture("model.safetensors");
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    assert_eq!(header[tensor]["dtype"], "F32");
    let start = 8 + header_len + header[tensor]["data_offsets"][0].as_u64().unwrap() as usize;
    let at = start + 4 * index;
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    bytes
}

#[test]
fn a_non_finite_weight_is_refused_naming_the_tensor() {
    let name = "bert.embeddings.word_embeddings.weight";
    for value in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let weights = weights_with(name, 5, value);
        let tokenizer = fixture("tokenizer.json");
        let config = String::from_utf8(fixture("config.json")).unwrap();
        let err = Pipeline::from_bytes(
            &config,
            &weights,
            TokenizerFiles::Json(&tokenizer),
            device::cpu(),
        )
        .err()
        .expect("refused");
        assert!(
            matches!(&err, BertError::NonFiniteWeight { name: n, index: 5, .. } if n == name),
            "{err}"
        );
        assert!(err.to_string().contains("damaged"), "{err}");
        // The file itself parses: only the values are wrong.
        assert!(SafetensorsFile::parse(&weights).is_ok());
    }
}

#[test]
fn non_finite_logits_are_an_error_not_nan_percent() {
    let p = load("gelu-f32");
    let row = [0.5, f32::NAN, 1.0];
    let err = inference::top_k_predictions(&row, 2, &p.tokenizer).unwrap_err();
    assert!(matches!(err, BertError::NonFiniteOutput { .. }), "{err}");
    assert!(err.to_string().contains("not finite"), "{err}");
    assert!(inference::top_k_predictions(&[0.5, 2.0, 1.0], 2, &p.tokenizer).is_ok());
}

#[test]
fn the_cli_reports_damaged_files_without_panicking() {
    let dir = std::env::temp_dir().join(format!("bert-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ] {
        std::fs::write(dir.join(f), fixture(f)).unwrap();
    }
    let cases = [
        (
            "tokenizer.json",
            damaged("tokenizer-lone-surrogate.json"),
            "escape",
        ),
        (
            "tokenizer.json",
            damaged("tokenizer-decoder-syntax.json"),
            "not valid JSON",
        ),
        (
            "tokenizer.json",
            damaged("tokenizer-undefined-special.json"),
            "does not define",
        ),
        (
            "config.json",
            damaged("config-billion-layers.json"),
            "num_hidden_layers",
        ),
        (
            "model.safetensors",
            weights_with("bert.encoder.layer.1.output.dense.weight", 0, f32::NAN),
            "bert.encoder.layer.1.output.dense.weight",
        ),
    ];
    for (file, bytes, needle) in cases {
        let good = std::fs::read(dir.join(file)).unwrap();
        std::fs::write(dir.join(file), &bytes).unwrap();
        let out = bert(&[
            "fill-mask",
            "--model",
            dir.to_str().unwrap(),
            "the [MASK] sat.",
        ]);
        std::fs::write(dir.join(file), good).unwrap();
        assert_clean_failure(&out, needle);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Family checkpoint `weights_of`'s weights with `config` and `tokenizer_of`'s tokenizer.
fn family_load_error(weights_of: &str, tokenizer_of: &str, config: &str) -> BertError {
    let read = |name: &str, f: &str| std::fs::read(model_dir(name).join(f)).unwrap();
    let tokenizer = read(tokenizer_of, "tokenizer.json");
    Pipeline::from_bytes(
        config,
        &read(weights_of, "model.safetensors"),
        TokenizerFiles::Json(&tokenizer),
        device::cpu(),
    )
    .err()
    .expect("refused")
}

fn family_config(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(model_dir(name).join("config.json")).unwrap()).unwrap()
}

#[test]
fn an_albert_config_whose_groups_do_not_match_the_tensors_names_the_setting() {
    // The file stores 2 groups of 2 layers; the config claims 4 groups of 2.
    let mut config = family_config("family-albert");
    config["num_hidden_groups"] = serde_json::json!(4);
    let msg = family_load_error("family-albert", "family-albert", &config.to_string()).to_string();
    assert!(
        msg.contains("num_hidden_groups × inner_group_num is 8 but the checkpoint has 4 layer(s)"),
        "{msg}"
    );
    // Groups that cannot divide the layers are refused before the file is read.
    config["num_hidden_groups"] = serde_json::json!(3);
    let msg = family_load_error("family-albert", "family-albert", &config.to_string()).to_string();
    assert!(msg.contains("num_hidden_groups 3 must divide"), "{msg}");
}

#[test]
fn a_family_config_beside_another_familys_weights_says_so() {
    // RoBERTa's config with ELECTRA's weights; DistilBERT's with RoBERTa's.
    for (config_of, weights_of, named) in [
        ("family-roberta", "family-electra", "`electra`"),
        ("family-distilbert", "family-roberta", "`roberta`"),
    ] {
        let config = family_config(config_of).to_string();
        let err = family_load_error(weights_of, config_of, &config);
        let msg = err.to_string();
        assert!(matches!(err, BertError::Config(_)), "{msg}");
        assert!(
            msg.contains(&format!("weights are named as a {named}")),
            "{msg}"
        );
    }
}
