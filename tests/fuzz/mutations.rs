//! The mutations: how each kind of input is damaged, and the odd texts.

use super::Rng;

fn flip_bytes(rng: &mut Rng, bytes: &mut [u8], region: std::ops::Range<usize>) {
    for _ in 0..1 + rng.below(8) {
        if region.is_empty() {
            return;
        }
        let i = region.start + rng.below(region.len());
        match rng.below(3) {
            0 => bytes[i] ^= 1 << rng.below(8),
            1 => bytes[i] = rng.next() as u8,
            _ => bytes[i] = *rng.pick(b"{}[]\",:0-9eE.\\\0\xff"),
        }
    }
}

fn header_len(weights: &[u8]) -> usize {
    u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize
}

/// A header value the file might lie with.
fn odd_number(rng: &mut Rng) -> serde_json::Value {
    let n: i128 = *rng.pick(&[
        0,
        1,
        -1,
        2,
        7,
        63,
        64,
        65,
        1 << 31,
        1 << 32,
        1 << 53,
        u64::MAX as i128,
        i64::MIN as i128,
    ]);
    if rng.chance(4) {
        serde_json::json!(n as f64 * 1.5)
    } else if n > u64::MAX as i128 / 2 || n < i64::MIN as i128 / 2 {
        serde_json::json!(n as f64)
    } else {
        serde_json::json!(n)
    }
}

pub fn mutate_weights(rng: &mut Rng, original: &[u8]) -> (String, Vec<u8>) {
    let mut bytes = original.to_vec();
    let n = header_len(&bytes);
    match rng.below(6) {
        0 => {
            flip_bytes(rng, &mut bytes, 8..8 + n);
            ("header bytes".into(), bytes)
        }
        1 => {
            let len = bytes.len();
            flip_bytes(rng, &mut bytes, 8 + n..len);
            ("data bytes".into(), bytes)
        }
        2 => {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
            (format!("truncated to {cut}"), bytes)
        }
        3 => {
            let claimed = *rng.pick(&[0u64, 1, 7, n as u64 - 1, n as u64 + 1, 1 << 40, u64::MAX]);
            bytes[..8].copy_from_slice(&claimed.to_le_bytes());
            (format!("header length {claimed}"), bytes)
        }
        _ => {
            // Edit one field of one tensor's header entry and write the file back.
            let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
            let names: Vec<String> = header
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "__metadata__")
                .cloned()
                .collect();
            let name = rng.pick(&names).clone();
            let entry = header.get_mut(&name).unwrap();
            let what = match rng.below(4) {
                0 => {
                    let dtype = *rng.pick(&[
                        "F64", "F16", "BF16", "I64", "I8", "U8", "BOOL", "F8_E4M3", "X", "",
                    ]);
                    entry["dtype"] = serde_json::json!(dtype);
                    format!("{name} dtype {dtype}")
                }
                1 => {
                    let dims = entry["shape"].as_array_mut().unwrap();
                    if dims.is_empty() || rng.chance(3) {
                        dims.push(odd_number(rng));
                    } else {
                        let i = rng.below(dims.len());
                        dims[i] = odd_number(rng);
                    }
                    format!("{name} shape {}", entry["shape"])
                }
                2 => {
                    let i = rng.below(2);
                    entry["data_offsets"][i] = odd_number(rng);
                    format!("{name} offsets {}", entry["data_offsets"])
                }
                _ => {
                    let obj = entry.as_object_mut().unwrap();
                    let key = rng.pick(&["dtype", "shape", "data_offsets"]).to_string();
                    obj.remove(&key);
                    format!("{name} without {key}")
                }
            };
            let text = serde_json::to_vec(&header).unwrap();
            let mut out = (text.len() as u64).to_le_bytes().to_vec();
            out.extend_from_slice(&text);
            out.extend_from_slice(&bytes[8 + n..]);
            (what, out)
        }
    }
}

const CONFIG_FIELDS: [&str; 17] = [
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "max_position_embeddings",
    "type_vocab_size",
    "initializer_range",
    "layer_norm_eps",
    "pad_token_id",
    "position_embedding_type",
    "tie_word_embeddings",
    "model_type",
    "architectures",
];

/// What the other families' configs add (ALBERT's groups, ELECTRA's embedding size,
/// DistilBERT's own key names), and `model_type` for mixed checkpoints.
const FAMILY_CONFIG_FIELDS: [&str; 11] = [
    "embedding_size",
    "num_hidden_groups",
    "inner_group_num",
    "sinusoidal_pos_embds",
    "dim",
    "n_layers",
    "n_heads",
    "hidden_dim",
    "activation",
    "pad_token_id",
    "model_type",
];

/// A family checkpoint's config, damaged: a field of any family, or the config of another
/// family (RoBERTa's config beside ALBERT's weights…).
pub fn mutate_family_config(rng: &mut Rng, original: &str) -> (String, String) {
    let mut value: serde_json::Value = serde_json::from_str(original).unwrap();
    if rng.chance(4) {
        let other = *rng.pick(&[
            "bert",
            "roberta",
            "xlm-roberta",
            "distilbert",
            "albert",
            "electra",
            "deberta-v2",
        ]);
        value["model_type"] = serde_json::json!(other);
        return (format!("config model_type = {other}"), value.to_string());
    }
    let field = if rng.chance(2) {
        *rng.pick(&FAMILY_CONFIG_FIELDS)
    } else {
        *rng.pick(&CONFIG_FIELDS)
    };
    let replacement = odd_number(rng);
    let what = format!("config {field} = {replacement}");
    value[field] = replacement;
    (what, value.to_string())
}

/// A SentencePiece tokenizer.json whose `Precompiled` char map is damaged (bytes flipped
/// or cut inside the decoded blob, re-encoded as base64 so the JSON still parses).
pub fn mutate_charsmap(rng: &mut Rng, original: &[u8]) -> (String, Vec<u8>) {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut value: serde_json::Value = serde_json::from_slice(original).unwrap();
    let normalizer = &mut value["normalizer"];
    let map = if normalizer["type"] == "Precompiled" {
        normalizer
    } else {
        let items = normalizer["normalizers"].as_array_mut().unwrap();
        items
            .iter_mut()
            .find(|n| n["type"] == "Precompiled")
            .unwrap()
    };
    let mut blob = engine
        .decode(map["precompiled_charsmap"].as_str().unwrap())
        .unwrap();
    let what = if rng.chance(3) {
        let cut = rng.below(blob.len());
        blob.truncate(cut);
        format!("charsmap cut to {cut} bytes")
    } else {
        let len = blob.len();
        flip_bytes(rng, &mut blob, 0..len);
        "charsmap bytes flipped".to_string()
    };
    map["precompiled_charsmap"] = serde_json::json!(engine.encode(&blob));
    (what, value.to_string().into_bytes())
}

pub fn mutate_config(rng: &mut Rng, original: &str) -> (String, String) {
    if rng.chance(6) {
        let mut bytes = original.as_bytes().to_vec();
        let len = bytes.len();
        flip_bytes(rng, &mut bytes, 0..len);
        return (
            "config bytes".into(),
            String::from_utf8_lossy(&bytes).into_owned(),
        );
    }
    let mut value: serde_json::Value = serde_json::from_str(original).unwrap();
    let field = *rng.pick(&CONFIG_FIELDS);
    let replacement = match rng.below(12) {
        0 => serde_json::json!("abc"),
        1 => serde_json::json!(0),
        2 => serde_json::json!(-5),
        3 => serde_json::json!(1_000_000_000u64),
        4 => serde_json::json!(u64::MAX),
        5 => serde_json::json!(1e300),
        6 => serde_json::json!(0.5),
        7 => serde_json::Value::Null,
        8 => serde_json::json!(true),
        9 => serde_json::json!([1, 2]),
        10 => serde_json::json!({"a": 1}),
        _ => {
            value.as_object_mut().unwrap().remove(field);
            return (format!("config without {field}"), value.to_string());
        }
    };
    let what = format!("config {field} = {replacement}");
    value[field] = replacement;
    (what, value.to_string())
}

pub fn mutate_tokenizer_json(rng: &mut Rng, original: &[u8]) -> (String, Vec<u8>) {
    let mut bytes = original.to_vec();
    match rng.below(4) {
        0 => {
            let len = bytes.len();
            flip_bytes(rng, &mut bytes, 0..len);
            ("tokenizer bytes".into(), bytes)
        }
        1 => {
            // An escape inside some string: lone surrogates, NUL, a stray backslash…
            let escape = *rng.pick(&[
                "\\ud800",
                "\\udfff",
                "\\ud83d\\ude00",
                "\\u0000",
                "\\\\",
                "\\x",
                "\\u12",
                "\u{200b}",
                "\u{202e}",
            ]);
            let quotes: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'"').collect();
            let at = *rng.pick(&quotes) + 1;
            bytes.splice(at..at, escape.bytes());
            (format!("tokenizer escape {escape}"), bytes)
        }
        2 => {
            let mut value: serde_json::Value = serde_json::from_slice(original).unwrap();
            let vocab = value["model"]["vocab"].as_object_mut().unwrap();
            let keys: Vec<String> = vocab.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            let id = odd_number(rng);
            vocab.insert(key.clone(), id.clone());
            (
                format!("tokenizer id of {key:?} = {id}"),
                value.to_string().into_bytes(),
            )
        }
        _ => {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
            (format!("tokenizer truncated to {cut}"), bytes)
        }
    }
}

pub fn mutate_vocab(rng: &mut Rng, original: &str) -> (String, String) {
    let mut lines: Vec<String> = original.lines().map(String::from).collect();
    for _ in 0..1 + rng.below(4) {
        if lines.is_empty() {
            break;
        }
        let i = rng.below(lines.len());
        match rng.below(5) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let line = lines[i].clone();
                lines.insert(i, line);
            }
            2 => lines[i] = String::new(),
            3 => {
                lines[i] = rng
                    .pick(&["\u{0}", "\r", "[MASK]", "\u{feff}", "é", "##", "  "])
                    .to_string()
            }
            _ => lines.truncate(i),
        }
    }
    ("vocab lines".into(), lines.join("\n"))
}

/// A text from the kinds that trip tokenizers and models up.
pub fn odd_text(rng: &mut Rng) -> (String, String) {
    let pieces = [
        "",
        "[MASK]",
        " [MASK] ",
        "the",
        "cat",
        "\u{0}",
        "\u{7}",
        "\t\n\r",
        "\u{200b}",
        "\u{200d}",
        "\u{feff}",
        "😀",
        "👩‍👩‍👧",
        "中文字符",
        "日本語",
        "مرحبا",
        "שלום",
        "\u{202e}",
        "e\u{301}",
        "[CLS]",
        "[SEP]",
        "[PAD]",
        "[UNK]",
        "##ing",
        "[mask]",
        "[MASK",
        "MASK]",
        ".",
        "\u{fffd}",
        "a\u{0300}\u{0301}\u{0302}",
        "ﬁ",
        "Ⅻ",
    ];
    match rng.below(6) {
        0 => ("empty".into(), String::new()),
        1 => ("100k characters".into(), "word ".repeat(20_000) + "[MASK]"),
        2 => ("only masks".into(), "[MASK]".repeat(1 + rng.below(200))),
        3 => ("1000 masks".into(), "[MASK] ".repeat(1000)),
        _ => {
            let n = rng.below(40);
            let text: String = (0..n)
                .map(|_| *rng.pick(&pieces))
                .collect::<Vec<_>>()
                .join(if rng.chance(2) { " " } else { "" });
            (format!("text {text:?}"), text)
        }
    }
}
