//! A seeded mutation fuzzer over everything a user can hand the program: `model.safetensors`
//! (bytes, header fields, offsets, dtypes, shapes), `config.json` (every field: wrong types,
//! 0, negative, huge, missing), `tokenizer.json` / `vocab.txt` (bytes, escapes, ids) and
//! texts. Each case must end in `Ok` or a typed error with a message: never a panic, a hang
//! or an outsized allocation. Deterministic (`FUZZ_SEED`, default fixed) so a failure
//! reproduces; `FUZZ_CASES` scales the run (default sized for CI, well under a minute).
//! Inputs that once crashed live in tests/fixtures/damaged/ and run on every test.

#[path = "../common/mod.rs"]
mod common;
mod mutations;

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bert_burn::config::BertConfig;
use bert_burn::pipeline::{Pipeline, TokenizerFiles};
use bert_burn::{Head, device, inference};
use mutations::{mutate_config, mutate_tokenizer_json, mutate_vocab, mutate_weights, odd_text};

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
    let mask = p.tokenizer.mask_token().to_string();
    predict(&p, &format!("the {mask} sat on the {mask}."))
}

fn predict(p: &Pipeline, text: &str) -> Result<(), String> {
    let run = || -> bert_burn::error::Result<()> {
        let enc = p.tokenizer.encode(text, None)?;
        let pad = p.tokenizer.pad_id();
        // A config may name a task head: then the case classifies instead.
        let model = match &p.head {
            Head::MaskedLm(model) => model,
            Head::Sequence(m) => {
                let c = pollster::block_on(inference::classify_sequence(
                    m, &enc, pad, true, &p.device,
                ))?;
                assert!(c.predictions.iter().all(|s| s.probability.is_finite()));
                return Ok(());
            }
            Head::Token(m) => {
                let c =
                    pollster::block_on(inference::classify_tokens(m, &enc, pad, true, &p.device))?;
                assert!(c.predictions.iter().all(|s| s.probability.is_finite()));
                return Ok(());
            }
        };
        let masks = inference::mask_positions(&enc.ids, p.tokenizer.mask_id());
        let analysis = pollster::block_on(inference::analyze(
            model,
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
fn damaged_family_checkpoints_are_errors_not_crashes() {
    let mut rng = Rng(seed() ^ 3);
    let mut failures = Vec::new();
    let families: Vec<_> = common::FAMILIES
        .iter()
        .map(|name| {
            let dir = common::model_dir(name);
            let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
            (
                name,
                String::from_utf8(read("config.json")).unwrap(),
                read("model.safetensors"),
                read("tokenizer.json"),
            )
        })
        .collect();
    for n in 0..cases() {
        let (name, config, weights, tokenizer) = rng.pick(&families);
        let sentencepiece = String::from_utf8_lossy(tokenizer).contains("\"Precompiled\"");
        if sentencepiece && rng.chance(2) {
            let (what, json) = mutations::mutate_charsmap(&mut rng, tokenizer);
            run_case(&format!("#{n} {name} {what}"), &mut failures, || {
                load_and_predict(config, weights, TokenizerFiles::Json(&json))
            });
        } else {
            let (what, config) = mutations::mutate_family_config(&mut rng, config);
            run_case(&format!("#{n} {name} {what}"), &mut failures, || {
                load_and_predict(&config, weights, TokenizerFiles::Json(tokenizer))
            });
        }
    }
    report("family checkpoints", failures);
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
