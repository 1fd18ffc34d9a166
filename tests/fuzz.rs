//! A seeded mutation fuzzer over everything a user can hand the program: `model.safetensors`
//! (bytes, header fields, offsets, dtypes, shapes), `config.json` (every field: wrong types,
//! 0, negative, huge, missing), `tokenizer.json` / `vocab.txt` (bytes, escapes, ids) and
//! texts. Each case must end in `Ok` or a typed error with a message: never a panic, a hang
//! or an outsized allocation. Deterministic (`FUZZ_SEED`, default fixed) so a failure
//! reproduces; `FUZZ_CASES` scales the run (default sized for CI, well under a minute).
//! Inputs that once crashed live in tests/fixtures/damaged/ and run on every test.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bert_burn::config::BertConfig;
use bert_burn::pipeline::{Pipeline, TokenizerFiles};
use bert_burn::{device, inference};

/// The largest single allocation any case made: a lying header or config that made the
/// program ask for gigabytes shows up here even when the system granted it lazily.
struct Watching;
static LARGEST: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// Far above what the ~1 MB fixtures need, far below what a runaway size would ask.
const ALLOCATION_LIMIT: usize = 256 << 20;
const CASE_LIMIT: Duration = Duration::from_secs(20);

/// SplitMix64: small, seedable, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

struct Files {
    config: String,
    weights: Vec<u8>,
    tokenizer_json: Vec<u8>,
    vocab_txt: String,
    tokenizer_config: String,
}

fn fixture() -> Files {
    let dir = common::model_dir("gelu-f32");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let vocab_dir = common::model_dir("relu-bf16-noprefix");
    Files {
        config: String::from_utf8(read("config.json")).unwrap(),
        weights: read("model.safetensors"),
        tokenizer_json: read("tokenizer.json"),
        vocab_txt: std::fs::read_to_string(vocab_dir.join("vocab.txt")).unwrap(),
        tokenizer_config: String::from_utf8(read("tokenizer_config.json")).unwrap(),
    }
}

/// Runs one case; a panic, a hang or an outsized allocation is reported with `what`.
fn run_case(what: &str, failures: &mut Vec<String>, case: impl FnOnce() -> Result<(), String>) {
    LARGEST.store(0, Ordering::Relaxed);
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(case));
    let elapsed = start.elapsed();
    let largest = LARGEST.load(Ordering::Relaxed);
    match outcome {
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{what}: PANIC {msg}"));
        }
        Ok(Err(message)) if message.trim().is_empty() => {
            failures.push(format!("{what}: an error without a message"))
        }
        Ok(_) => {}
    }
    if elapsed > CASE_LIMIT {
        failures.push(format!("{what}: took {elapsed:?}"));
    }
    if largest > ALLOCATION_LIMIT {
        failures.push(format!("{what}: allocated {largest} bytes at once"));
    }
}

/// Loads the files and, when that works, predicts on a text with two masks.
fn load_and_predict(
    config: &str,
    weights: &[u8],
    tokenizer: TokenizerFiles<'_>,
) -> Result<(), String> {
    let p = Pipeline::from_bytes(config, weights, tokenizer, device::cpu())
        .map_err(|e| e.to_string())?;
    predict(&p, "the [MASK] sat on the [MASK].")
}

fn predict(p: &Pipeline, text: &str) -> Result<(), String> {
    let run = || -> bert_burn::error::Result<()> {
        let enc = p.tokenizer.encode(text, None)?;
        let masks = inference::mask_positions(&enc.ids, p.tokenizer.mask_id());
        let analysis = pollster::block_on(inference::analyze(
            &p.model,
            &enc.ids,
            &enc.type_ids,
            &p.tokenizer,
            3,
            &p.device,
        ))?;
        assert_eq!(
            analysis.masks.len(),
            masks.len(),
            "a prediction for every mask"
        );
        for m in &analysis.masks {
            for pr in &m.predictions {
                assert!(pr.probability.is_finite(), "a finite probability");
            }
        }
        Ok(())
    };
    run().map_err(|e| e.to_string())
}

// ---- mutations -------------------------------------------------------------------------

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

fn mutate_weights(rng: &mut Rng, original: &[u8]) -> (String, Vec<u8>) {
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

fn mutate_config(rng: &mut Rng, original: &str) -> (String, String) {
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

fn mutate_tokenizer_json(rng: &mut Rng, original: &[u8]) -> (String, Vec<u8>) {
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

fn mutate_vocab(rng: &mut Rng, original: &str) -> (String, String) {
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
fn odd_text(rng: &mut Rng) -> (String, String) {
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

// ---- the runs ------------------------------------------------------------------------

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_B0E7)
}

fn report(kind: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{kind}: {} failing case(s) (FUZZ_SEED={}):\n{}",
        failures.len(),
        seed(),
        failures.join("\n")
    );
}

#[test]
fn damaged_checkpoints_are_errors_not_crashes() {
    let files = fixture();
    let mut rng = Rng(seed());
    let mut failures = Vec::new();
    for n in 0..cases() * 2 {
        let (what, weights) = mutate_weights(&mut rng, &files.weights);
        run_case(&format!("#{n} {what}"), &mut failures, || {
            load_and_predict(
                &files.config,
                &weights,
                TokenizerFiles::Json(&files.tokenizer_json),
            )
        });
    }
    report("safetensors", failures);
}

#[test]
fn damaged_configs_are_errors_not_crashes() {
    let files = fixture();
    let mut rng = Rng(seed() ^ 1);
    let mut failures = Vec::new();
    for n in 0..cases() * 2 {
        let (what, config) = mutate_config(&mut rng, &files.config);
        run_case(&format!("#{n} {what}"), &mut failures, || {
            // Parsing alone must hold, and a config that parses must not break the load.
            match BertConfig::from_json(&config) {
                Err(e) => Err(e.to_string()),
                Ok(_) => load_and_predict(
                    &config,
                    &files.weights,
                    TokenizerFiles::Json(&files.tokenizer_json),
                ),
            }
        });
    }
    report("config.json", failures);
}

#[test]
fn damaged_tokenizers_are_errors_not_crashes() {
    let files = fixture();
    let mut rng = Rng(seed() ^ 2);
    let mut failures = Vec::new();
    for n in 0..cases() * 2 {
        if rng.chance(2) {
            let (what, json) = mutate_tokenizer_json(&mut rng, &files.tokenizer_json);
            run_case(&format!("#{n} {what}"), &mut failures, || {
                load_and_predict(&files.config, &files.weights, TokenizerFiles::Json(&json))
            });
        } else {
            let (what, vocab) = mutate_vocab(&mut rng, &files.vocab_txt);
            run_case(&format!("#{n} {what}"), &mut failures, || {
                bert_burn::tokenizer::BertTokenizer::from_vocab(
                    &vocab,
                    Some(&files.tokenizer_config),
                    64,
                )
                .and_then(|t| t.encode("the [MASK] sat.", None).map(|_| ()))
                .map_err(|e| e.to_string())
            });
        }
    }
    report("tokenizer", failures);
}

#[test]
fn odd_texts_are_predicted_or_refused_not_crashes() {
    let files = fixture();
    let p = Pipeline::from_bytes(
        &files.config,
        &files.weights,
        TokenizerFiles::Json(&files.tokenizer_json),
        device::cpu(),
    )
    .unwrap();
    let mut rng = Rng(seed() ^ 3);
    let mut failures = Vec::new();
    for n in 0..cases() {
        let (what, text) = odd_text(&mut rng);
        run_case(&format!("#{n} {what}"), &mut failures, || {
            predict(&p, &text)
        });
    }
    report("texts", failures);
}
