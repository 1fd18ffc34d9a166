//! The tokenizer against Python `tokenizers` on the real bert-base-uncased vocabulary,
//! from tokenizer.json and from the vocab.txt fallback.

mod common;

use bert_burn::BertTokenizer;
use common::fixtures;

fn dir() -> std::path::PathBuf {
    fixtures().join("tokenizer/bert-base-uncased")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap()
}

/// One encoding Python `tokenizers` made (`golden.json`).
#[derive(serde::Deserialize)]
struct GoldenEncoding {
    text: String,
    text_b: Option<String>,
    tokens: Vec<String>,
    ids: Vec<u32>,
    type_ids: Vec<u32>,
    offsets: Vec<(usize, usize)>,
    word_ids: Vec<Option<u32>>,
    truncated: bool,
}

fn check_against_golden(tok: &BertTokenizer, source: &str) {
    let golden: Vec<GoldenEncoding> = serde_json::from_str(&read("golden.json")).unwrap();
    for case in golden {
        let enc = tok.encode(&case.text, case.text_b.as_deref()).unwrap();
        let what = format!(
            "{source}: {:?}",
            &case.text.chars().take(40).collect::<String>()
        );
        assert_eq!(enc.tokens, case.tokens, "{what}: tokens");
        assert_eq!(enc.ids, case.ids, "{what}: ids");
        assert_eq!(enc.type_ids, case.type_ids, "{what}: type ids");
        assert_eq!(enc.offsets, case.offsets, "{what}: offsets (characters)");
        assert_eq!(enc.word_ids, case.word_ids, "{what}: word ids");
        assert_eq!(enc.truncated, case.truncated, "{what}: truncated");
    }
}

#[test]
fn tokenizer_json_matches_python_tokenizers() {
    // This tokenizer.json carries padding to 128 and truncation at 128: both must be replaced.
    let tok = BertTokenizer::from_json(read("tokenizer.json").as_bytes(), 512).unwrap();
    check_against_golden(&tok, "tokenizer.json");
}

#[test]
fn vocab_txt_fallback_matches_python_tokenizers() {
    let config = read("tokenizer_config.json");
    let tok = BertTokenizer::from_vocab(&read("vocab.txt"), Some(&config), 512).unwrap();
    check_against_golden(&tok, "vocab.txt");
}

#[test]
fn typed_mask_is_the_mask_token_and_special() {
    let tok = BertTokenizer::from_json(read("tokenizer.json").as_bytes(), 512).unwrap();
    let enc = tok.encode("Paris is the [MASK] of France.", None).unwrap();
    let at = enc
        .tokens
        .iter()
        .position(|t| t == "[MASK]")
        .expect("mask token kept whole");
    assert_eq!(enc.ids[at], tok.mask_id());
    assert!(enc.special[at]);
    assert!(
        enc.special[0] && enc.special[enc.len() - 1],
        "[CLS] and [SEP] are special"
    );
    assert!(!enc.special[1]);
}

#[test]
fn long_text_is_truncated_and_says_so() {
    let tok = BertTokenizer::from_json(read("tokenizer.json").as_bytes(), 16).unwrap();
    let enc = tok.encode(&"many words here ".repeat(50), None).unwrap();
    assert_eq!(enc.len(), 16);
    assert!(enc.truncated);
    assert_eq!(enc.tokens.last().map(String::as_str), Some("[SEP]"));
    let short = tok.encode("few words", None).unwrap();
    assert!(!short.truncated);
}

#[test]
fn empty_text_is_an_error() {
    let tok = BertTokenizer::from_json(read("tokenizer.json").as_bytes(), 512).unwrap();
    for text in ["", "   ", "\n\t"] {
        let err = tok.encode(text, None).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }
}

#[test]
fn invalid_tokenizer_files_are_errors() {
    for bad in ["", "{", "{\"model\": 3}", "[1, 2]"] {
        let err = BertTokenizer::from_json(bad.as_bytes(), 512)
            .err()
            .expect("must fail");
        assert!(err.to_string().contains("tokenizer"), "{err}");
    }
    let err = BertTokenizer::from_vocab("", None, 512)
        .err()
        .expect("empty vocab fails");
    assert!(err.to_string().contains("empty"), "{err}");
    let err = BertTokenizer::from_vocab("[PAD]\n[UNK]\nhello\n", None, 512)
        .err()
        .expect("no [CLS]");
    assert!(err.to_string().contains("[CLS]"), "{err}");
    let err = BertTokenizer::from_vocab("[PAD]\n[UNK]\n", Some("{not json"), 512)
        .err()
        .expect("bad config");
    assert!(err.to_string().contains("tokenizer_config.json"), "{err}");
}
