//! The app's pieces in a real browser (headless Chromium, `--enable-unsafe-webgpu`):
//! the fixture model against transformers on the WebGPU adapter and on the CPU
//! fallback, tokenizer parity in wasm, load errors, and the DOM the UI builds.
//! Run by scripts/test.sh: `cargo test -p bert-web --target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]

use bert_burn::checkpoint::SafetensorsFile;
use bert_burn::inference::{analyze, forward_host};
use bert_burn::{BertConfig, BertTokenizer};
use bert_web::backend::{self, Preference};
use bert_web::model_files::{
    CACHE_NAME, FetchError, Location, ModelFiles, SIZE_HEADER, fetch_bytes,
};
use bert_web::session::{Head, Session, check_fits};
use bert_web::ui::{dom, heatmap, predictions, tokens::TokenState};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &str = include_str!("../../tests/fixtures/models/gelu-f32/config.json");
const WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/models/gelu-f32/model.safetensors");
const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/models/gelu-f32/tokenizer.json");
const GOLDEN: &[u8] = include_bytes!("../../tests/fixtures/golden/gelu-f32.safetensors");
const CASES: &str = include_str!("../../tests/fixtures/golden/cases.json");
const BASE_TOKENIZER: &[u8] =
    include_bytes!("../../tests/fixtures/tokenizer/bert-base-uncased/tokenizer.json");
const BASE_GOLDEN: &str =
    include_str!("../../tests/fixtures/tokenizer/bert-base-uncased/golden.json");

const LOGIT_TOL: f32 = 1e-3;
const ATTENTION_TOL: f32 = 1e-4;

fn fixture_files() -> ModelFiles {
    ModelFiles {
        source: "fixture gelu-f32".into(),
        config_json: CONFIG.into(),
        weights: WEIGHTS.to_vec(),
        tokenizer_json: Some(TOKENIZER.to_vec()),
        ..ModelFiles::default()
    }
}

fn max_abs_diff(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len(), "lengths differ");
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

/// Every single-sequence case of the fixture: our tokenizer's ids, then the logits
/// and attentions of a full forward pass, and the browser's one-pass `analyze`.
async fn check_against_transformers(session: &Session) {
    let golden = SafetensorsFile::parse(GOLDEN).unwrap();
    let cases: serde_json::Value = serde_json::from_str(CASES).unwrap();
    let (model, tokenizer, device) = (
        session.masked_lm().unwrap(),
        &session.tokenizer,
        &session.device,
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
        backend.info.kind, "webgpu",
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
    assert_eq!(backend.info.kind, "cpu");
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

#[wasm_bindgen_test]
async fn load_errors_are_clear() {
    let cpu = backend::cpu(None);
    let mut files = fixture_files();
    files.config_json = CONFIG.replace("\"bert\"", "\"roberta\"");
    let e = Session::load(&files, &cpu).err().unwrap();
    assert!(
        e.contains("not a BERT masked-LM") && e.contains("roberta"),
        "{e}"
    );

    let mut files = fixture_files();
    files.weights = bert_burn::checkpoint::write_safetensors(&[]).unwrap();
    let e = Session::load(&files, &cpu).err().unwrap();
    assert!(
        e.contains("not a BERT masked-LM") && e.contains("word_embeddings"),
        "{e}"
    );

    let mut files = fixture_files();
    files.tokenizer_json = None;
    assert!(
        Session::load(&files, &cpu)
            .err()
            .unwrap()
            .contains("no tokenizer.json or vocab.txt")
    );

    // Too large: a config whose weights could not fit the page or the GPU's buffers.
    let mut big = BertConfig::from_json(CONFIG).unwrap();
    big.vocab_size = 2_000_000;
    big.hidden_size = 1024;
    big.num_attention_heads = 16;
    let e = check_fits(&big, &cpu.info).err().unwrap();
    assert!(e.contains("too large for the browser"), "{e}");
    let mut gpu_info = cpu.info.clone();
    gpu_info.max_binding_bytes = Some(128 << 20);
    big.vocab_size = 50_000;
    let e = check_fits(&big, &gpu_info).err().unwrap();
    assert!(e.contains("too large for this GPU"), "{e}");

    // 404 from the test server, and a request that never gets an answer.
    let missing = fetch_bytes("no-such-model/config.json", &|_, _, _| {})
        .await
        .err()
        .unwrap();
    assert!(matches!(missing, FetchError::NotFound(_)), "{missing}");
    assert!(missing.to_string().contains("404"));
    let refused = fetch_bytes("http://127.0.0.1:9/config.json", &|_, _, _| {})
        .await
        .err()
        .unwrap();
    assert!(matches!(refused, FetchError::Network(_)), "{refused}");
    assert!(refused.to_string().contains("CORS"));
}

/// Puts `body` into the page's model cache under `url`, with `size` in the length header.
async fn put_cached(url: &str, body: &[u8], size: Option<usize>) {
    let caches = bert_web::event_loop::caches().expect("the Cache API");
    let cache: web_sys::Cache = wasm_bindgen_futures::JsFuture::from(caches.open(CACHE_NAME))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let init = web_sys::ResponseInit::new();
    let headers = web_sys::Headers::new().unwrap();
    if let Some(size) = size {
        headers.set(SIZE_HEADER, &size.to_string()).unwrap();
    }
    init.set_headers(&headers);
    let body = js_sys::Uint8Array::from(body);
    let response =
        web_sys::Response::new_with_opt_buffer_source_and_init(Some(&body), &init).unwrap();
    wasm_bindgen_futures::JsFuture::from(cache.put_with_str(url, &response))
        .await
        .unwrap();
}

async fn is_cached(url: &str) -> bool {
    let caches = bert_web::event_loop::caches().unwrap();
    let hit = wasm_bindgen_futures::JsFuture::from(caches.match_with_str(url))
        .await
        .unwrap();
    !hit.is_undefined()
}

/// A cached remote file is used only when whole: stored with its length and parsing as what
/// its name says. A damaged entry (cut short, not JSON, no length) is deleted and the file
/// fetched again — here from a host that does not exist, so the fetch fails instead.
#[wasm_bindgen_test]
async fn damaged_cache_entries_are_dropped_and_fetched_again() {
    let base = "https://no-such-host.invalid/bert";
    let good = format!("{base}/good/config.json");
    put_cached(&good, CONFIG.as_bytes(), Some(CONFIG.len())).await;
    let bytes = fetch_bytes(&good, &|_, _, _| {}).await.unwrap();
    assert_eq!(
        bytes,
        CONFIG.as_bytes(),
        "a whole entry is served from the cache"
    );

    let short = &CONFIG.as_bytes()[..100];
    for (name, body, size) in [
        ("cut-short", short, Some(CONFIG.len())),
        ("not-json", &b"{\"vocab_size\": 3"[..], Some(16)),
        ("no-length", CONFIG.as_bytes(), None),
        ("bad-header", &WEIGHTS[..4096], Some(4096)),
    ] {
        let file = if name == "bad-header" {
            "model.safetensors"
        } else {
            "config.json"
        };
        let url = format!("{base}/{name}/{file}");
        put_cached(&url, body, size).await;
        assert!(is_cached(&url).await);
        let err = fetch_bytes(&url, &|_, _, _| {}).await.err();
        assert!(
            matches!(err, Some(FetchError::Network(_))),
            "{name}: the damaged entry was used: {err:?}"
        );
        assert!(
            !is_cached(&url).await,
            "{name}: the damaged entry is still cached"
        );
    }
}

#[wasm_bindgen_test]
fn model_locations_parse() {
    assert_eq!(
        Location::parse("bert-base-uncased")
            .unwrap()
            .file_url("config.json"),
        "https://huggingface.co/bert-base-uncased/resolve/main/config.json"
    );
    assert_eq!(
        Location::parse("google/bert_uncased_L-2_H-128_A-2@v1.0")
            .unwrap()
            .file_url("model.safetensors"),
        "https://huggingface.co/google/bert_uncased_L-2_H-128_A-2/resolve/v1.0/model.safetensors"
    );
    assert_eq!(
        Location::parse("./models/mine")
            .unwrap()
            .file_url("vocab.txt"),
        "./models/mine/vocab.txt"
    );
    assert_eq!(
        Location::parse("https://example.org/m/")
            .unwrap()
            .file_url("config.json"),
        "https://example.org/m/config.json"
    );
    assert!(Location::parse("").is_err());
    assert!(
        Location::parse("a/b/c")
            .err()
            .unwrap()
            .contains("not a Hub model id")
    );
    assert!(Location::parse("bad id!").is_err());
}

/// Every message of the page <-> worker protocol survives the trip through JS values,
/// and the envelope carries its id, key and payload.
#[wasm_bindgen_test]
fn protocol_messages_round_trip_through_js() {
    use bert_web::protocol::{
        Event, Failure, Reply, Request, Source, envelope, field, from_js, to_js,
    };
    let requests = vec![
        Request::Load {
            source: Source::Location {
                location: Location::parse("org/name@v1").unwrap(),
            },
            backend: Preference::WebGpu,
            cpu_reason: Some("the WebGPU device was lost".into()),
        },
        Request::Load {
            source: Source::Files,
            backend: Preference::Auto,
            cpu_reason: None,
        },
        Request::Load {
            source: Source::Bytes {
                tokenizer_is_vocab: true,
            },
            backend: Preference::Cpu,
            cpu_reason: None,
        },
        Request::Tokenize {
            text: "a [MASK] ü 🤗".into(),
            text_b: Some("b".into()),
        },
        Request::Analyze {
            ids: vec![2, 4, 3],
            type_ids: vec![0, 0, 0],
            options: bert_burn::inference::AnalyzeOptions {
                top_k: 5,
                by_layer: true,
                words_only: true,
            },
        },
        Request::FineTune {
            text: "one\ntwo".into(),
            options: bert_web::finetune::FineTuneOptions::default(),
        },
        Request::StopFineTune,
        Request::TrainClassifier {
            examples: "positive: a fine day\nnegative\ta sad day".into(),
            options: bert_burn::train::classifier_run::ClassifierOptions {
                warmup: Some(3),
                ..Default::default()
            },
        },
        Request::Classify {
            text: "what a day".into(),
            text_b: None,
        },
        Request::ExportClassifier,
        Request::Reset,
        Request::Export,
        Request::LoseDeviceForTesting,
        Request::CrashForTesting,
    ];
    for request in requests {
        let back: Request = from_js(to_js(&request).unwrap()).unwrap();
        assert_eq!(back, request);
    }
    let replies = vec![
        Reply::Analysis {
            masks: vec![],
            layers: 2,
            heads: 4,
            seq: 7,
            kernels: 90,
            kernel_names: vec!["matmul ×90".into()],
            reads: 1,
        },
        Reply::Exported {
            files: vec!["config.json".into(), "vocab.txt".into()],
            weights_bytes: 1 << 20,
            finetuned: true,
        },
        Reply::Filled { step: None },
        Reply::Classified {
            task: bert_burn::Task::Token,
            tokens: vec!["[CLS]".into(), "ada".into()],
            labels: vec![],
            token_labels: vec![bert_burn::inference::TokenLabel {
                token: "ada".into(),
                label: "B-PER".into(),
                id: 1,
                probability: 0.75,
            }],
            layers: 2,
            heads: 4,
            seq: 2,
        },
        Reply::ClassifierTrained(bert_web::protocol::ClassifierSummary {
            labels: vec!["positive".into(), "negative".into()],
            train_examples: 32,
            held_out: 8,
            steps_done: 60,
            stopped: false,
            seconds: 9.5,
            accuracy: 0.75,
            losses: vec![0.7, 0.5],
        }),
        Reply::Done,
        Reply::Flag { value: true },
    ];
    for reply in replies {
        assert_eq!(from_js::<Reply>(to_js(&reply).unwrap()).unwrap(), reply);
    }
    let event = Event::Download {
        file: "model.safetensors".into(),
        done: 10.0,
        total: None,
    };
    assert_eq!(from_js::<Event>(to_js(&event).unwrap()).unwrap(), event);
    let step = Event::ClassifierStep(bert_web::protocol::ClassifierStepReport {
        step: 5,
        steps: 60,
        loss: 0.5,
        accuracy: Some(0.875),
        step_ms: 150.0,
    });
    assert_eq!(from_js::<Event>(to_js(&step).unwrap()).unwrap(), step);
    let failure = Failure {
        message: "lost".into(),
        device_lost: true,
    };
    let payload = js_sys::Float32Array::from(&[1.0f32, 2.0][..]);
    let message = envelope(7, "error", &to_js(&failure).unwrap(), Some(&payload));
    assert_eq!(field(&message, "id").and_then(|v| v.as_f64()), Some(7.0));
    assert_eq!(
        from_js::<Failure>(field(&message, "error").unwrap()).unwrap(),
        failure
    );
    assert!(
        field(&message, "payload")
            .unwrap()
            .is_instance_of::<js_sys::Float32Array>()
    );
    assert!(field(&message, "reply").is_none());
    // A message that is not a request is refused with a message, not a panic.
    assert!(from_js::<Request>(wasm_bindgen::JsValue::from_str("predict")).is_err());
}

#[wasm_bindgen_test]
fn kernel_names_are_shortened_to_the_kernel_and_its_operation() {
    use bert_web::kernel_count::short_kernel_name;
    assert_eq!(
        short_kernel_name(
            "burn_cubecl::kernel::binary::kernel_binop::KernelBinop<burn_cubecl::kernel::binary::AddOp>"
        ),
        "KernelBinop<AddOp>"
    );
    assert_eq!(
        short_kernel_name("cubecl_std::tensor::contiguous::base::copy_kernel::CopyKernel"),
        "CopyKernel"
    );
    // A long first argument (a whole matmul configuration) is dropped.
    assert_eq!(
        short_kernel_name(
            "m::MatmulEntry<cubek_matmul::multi_level::args::VeryLongArgumentName, x::Y>"
        ),
        "MatmulEntry"
    );
    assert_eq!(short_kernel_name(""), "");
}

fn test_state(text: &str, text_b: Option<&str>) -> TokenState {
    let tok = BertTokenizer::from_json(TOKENIZER, 128).unwrap();
    let enc = tok.encode(text, text_b).unwrap();
    TokenState::new(&enc, tok.mask_id(), tok.mask_token())
}

#[wasm_bindgen_test]
fn chip_edits_write_masks_and_fills_into_the_text() {
    use bert_web::ui::text_edits::{apply, fill_edit, mask_edits};
    let text = "the unbelievable cat";
    let s = test_state(text, Some("sat [MASK]"));
    let n = s.len();
    assert!(
        s.is_fixed(0) && s.is_fixed(n - 1),
        "[CLS] and [SEP] are fixed"
    );
    assert!(
        mask_edits(&s, 0, false).is_empty(),
        "[CLS] cannot be masked"
    );
    let typed = s.tokens.iter().position(|t| t == "[MASK]").unwrap();
    assert_eq!(s.mask_positions(), vec![typed], "a typed [MASK] is a mask");
    // A word of several pieces: whole-word masking writes a mask for every piece.
    let word = s.word_ids[2];
    let pieces = (0..n)
        .filter(|&j| s.word_ids[j] == word && s.sequence_ids[j] == Some(0))
        .count();
    let edits = mask_edits(&s, 2, true);
    assert_eq!(edits.len(), pieces);
    let masked = apply(text, &edits.iter().collect::<Vec<_>>());
    assert_eq!(masked.matches("[MASK]").count(), pieces, "{masked}");
    assert!(
        masked.starts_with("the [MASK]") && masked.ends_with(" cat"),
        "{masked}"
    );
    // A fill writes the word where the mask was, in the second box.
    let fill = fill_edit(&s, typed, "down").unwrap();
    assert_eq!(fill.segment, 1);
    assert_eq!(apply("sat [MASK]", &[&fill]), "sat down");
    assert!(
        s.segment_boundary().is_some(),
        "a pair has a second segment"
    );
}

fn container() -> web_sys::Element {
    let c = dom::el("div", "", "");
    dom::document().body().unwrap().append_child(&c).unwrap();
    c
}

#[wasm_bindgen_test]
fn chips_and_predictions_are_text_only_with_test_hooks() {
    let mut s = test_state("hello world", None);
    // Untrusted text (a token, a prediction) must never become markup.
    let evil = "<img src=x onerror=alert(1)>";
    s.tokens[1] = evil.into();
    let c = container();
    bert_web::ui::tokens::render(&c, &s);
    let chips = c.query_selector_all("[data-testid=token]").unwrap();
    assert_eq!(chips.length() as usize, s.len());
    let chip: web_sys::Element = chips.item(1).unwrap().dyn_into().unwrap();
    assert_eq!(chip.text_content().unwrap(), evil);
    assert_eq!(chip.get_attribute("data-index").unwrap(), "1");
    assert!(
        c.query_selector("img").unwrap().is_none(),
        "no element was created from token text"
    );
    let first: web_sys::Element = chips.item(0).unwrap().dyn_into().unwrap();
    assert!(first.class_name().contains("special"));

    let masks = vec![bert_burn::inference::MaskPredictions {
        position: 2,
        predictions: vec![
            bert_burn::inference::Prediction {
                token: evil.into(),
                id: 7,
                probability: 0.75,
            },
            bert_burn::inference::Prediction {
                token: "b".into(),
                id: 9,
                probability: 0.25,
            },
        ],
        by_layer: Vec::new(),
    }];
    let p = container();
    predictions::render(&p, &masks, &s.tokens);
    let rows = p.query_selector_all("[data-testid=prediction]").unwrap();
    assert_eq!(rows.length(), 2);
    let row: web_sys::Element = rows.item(0).unwrap().dyn_into().unwrap();
    assert_eq!(row.get_attribute("data-mask-position").unwrap(), "2");
    assert_eq!(row.get_attribute("data-token-id").unwrap(), "7");
    assert!(row.text_content().unwrap().contains("75.0%"));
    assert!(p.query_selector("img").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn heatmap_draws_the_attention_of_a_head() {
    let backend = backend::cpu(None);
    let session = Session::load(&fixture_files(), &backend).unwrap();
    let enc = session
        .tokenize("the cat sat on the [MASK].", None)
        .unwrap();
    let a = session.analyze(&enc.ids, &enc.type_ids, 3).await.unwrap();
    assert_eq!(a.masks.len(), 1);
    // Rows of a head's map are probability distributions; the mean is one too.
    for head in [Some(0), None] {
        let m = heatmap::matrix(&a, a.layers - 1, head);
        for row in m.chunks(a.seq) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }
    let canvas: web_sys::HtmlCanvasElement = dom::el("canvas", "", "").dyn_into().unwrap();
    canvas.set_width(200);
    canvas.set_height(200);
    let visible: Vec<usize> = (0..a.seq).collect();
    let view = heatmap::View {
        seq: a.seq,
        visible: &visible,
        labels: &enc.tokens,
        hover: Some(1),
        boundary: None,
        with_labels: true,
    };
    heatmap::draw(&canvas, &heatmap::matrix(&a, 0, Some(0)), &view);
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let pixels = ctx.get_image_data(0.0, 0.0, 200.0, 200.0).unwrap().data();
    let non_white = pixels
        .chunks(4)
        .filter(|p| p[0] < 200 || p[1] < 200)
        .count();
    assert!(non_white > 500, "only {non_white} coloured pixels");
    assert_eq!(
        heatmap::token_at(&canvas, 199.0, 199.0, &view),
        Some(a.seq - 1)
    );
    assert_eq!(
        heatmap::token_at(&canvas, 10.0, 10.0, &view),
        None,
        "the label corner is no token"
    );
}

#[path = "../../tests/common/train_step.rs"]
mod train_step;
use train_step::{
    assert_adam_step, assert_rel, encoding_of, golden_rows, golden_train_batch, train_step_config,
};

const TRAIN_STEP: &[u8] = include_bytes!("../../tests/fixtures/golden/train-step.safetensors");

/// One AdamW step (clipping, no-decay group, tied embeddings) against
/// `torch.optim.AdamW` from the same weights and batch: gradients, updated weights and
/// the loss before and after, all within 1e-5 relative, as natively.
async fn check_adamw_step(backend: bert_web::backend::Backend) {
    use bert_burn::checkpoint::read_f32;
    use bert_burn::pipeline::TokenizerFiles;
    use bert_burn::train::{MlmTrainer, mlm_loss};
    const TOL: f32 = 1e-5;
    let device = backend.device.clone().autodiff();
    let p = bert_burn::Pipeline::from_bytes(
        CONFIG,
        WEIGHTS,
        TokenizerFiles::Json(TOKENIZER),
        device.clone(),
    )
    .unwrap();
    let golden = SafetensorsFile::parse(TRAIN_STEP).unwrap();
    let batch = golden_train_batch(|name| golden.f32(name).unwrap());
    let mut trainer = MlmTrainer::new(train_step_config()).unwrap();
    // Gradients (tied embeddings included) before any clipping, as the native test checks them.
    let loss = mlm_loss(&p.model, &batch, 0, &device).unwrap();
    let grads = loss.backward();
    let emb = p
        .model
        .bert
        .embeddings
        .word_embeddings
        .weight
        .val()
        .grad(&grads)
        .unwrap();
    let query = p.model.bert.encoder.layer[1]
        .attention
        .self_attention
        .query
        .weight
        .val()
        .grad(&grads)
        .unwrap();
    for (name, grad) in [
        ("bert.embeddings.word_embeddings.weight", emb),
        // Burn stores Linear weights as [in, out]; torch as [out, in].
        (
            "bert.encoder.layer.1.attention.self.query.weight",
            query.transpose(),
        ),
    ] {
        let (_, want) = golden.f32(&format!("grad.{name}")).unwrap();
        assert_rel(
            &format!("gradient of {name}"),
            &read_f32(grad).await.unwrap(),
            &want,
            TOL,
        );
    }
    let (model, report) = trainer.step(p.model, &batch, 0, &device).await.unwrap();
    let (_, want) = golden.f32("loss_before").unwrap();
    assert_rel("loss before", &[report.loss], &want, TOL);
    let mut checked = 0;
    for (name, _, tensor) in model.named_tensors() {
        let (_, want) = golden.f32(&format!("param.{name}")).unwrap();
        assert_rel(
            &format!("updated {name}"),
            &read_f32(tensor).await.unwrap(),
            &want,
            TOL,
        );
        checked += 1;
    }
    assert!(checked > 30, "{checked} tensors");
    let after = mlm_loss(&model, &batch, 0, &device).unwrap();
    let (_, want) = golden.f32("loss_after").unwrap();
    assert_rel("loss after", &read_f32(after).await.unwrap(), &want, TOL);
}

#[wasm_bindgen_test]
async fn one_adamw_step_matches_torch_on_the_cpu_fallback() {
    check_adamw_step(backend::cpu(None)).await;
}

/// On WebGPU (here SwiftShader). This needed exact GELU gradients: Burn's fused GELU
/// differentiates the tanh approximation on GPU backends (see `model::activation`),
/// which put gradients 9e-4 off.
#[wasm_bindgen_test]
async fn one_adamw_step_matches_torch_on_webgpu() {
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, "webgpu");
    check_adamw_step(backend).await;
}

/// Fine-tuning on WebGPU on a few sentences that state an odd fact moves the masked
/// prediction to it; the exported weights reload to the same predictions.
#[wasm_bindgen_test]
async fn fine_tuning_memorises_a_fact_and_exports_it() {
    use bert_web::finetune::{FineTuneOptions, FineTuner};
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, "webgpu");
    let session = Session::load(&fixture_files(), &backend).unwrap();
    let probe = session
        .tokenize("the capital of france is [MASK].", None)
        .unwrap();
    let top1 = |a: &bert_burn::inference::Analysis| a.masks[0].predictions[0].token.clone();
    let before = session
        .analyze(&probe.ids, &probe.type_ids, 5)
        .await
        .unwrap();
    assert_ne!(
        top1(&before),
        "public",
        "the fixture must not know the fact yet"
    );

    let text = "the capital of france is public.\nthe capital of france is public.\nthe capital of france is public.";
    let options = FineTuneOptions {
        steps: 60,
        lr: 1e-3,
        batch: 3,
        ..FineTuneOptions::default()
    };
    let mut tuner = FineTuner::new(&session, text, &options).await.unwrap();
    let mut losses = Vec::new();
    for _ in 0..options.steps {
        losses.push(tuner.step().await.unwrap());
    }
    let first: f32 = losses[..10].iter().sum::<f32>() / 10.0;
    let last: f32 = losses[50..].iter().sum::<f32>() / 10.0;
    assert!(
        last < first * 0.5,
        "the loss should fall: {first} -> {last}"
    );
    let tuned = session.with_head(Head::MaskedLm(tuner.into_model().unwrap()));
    let after = tuned.analyze(&probe.ids, &probe.type_ids, 5).await.unwrap();
    assert_eq!(
        top1(&after),
        "public",
        "after fine-tuning: {:?}",
        after.masks[0].predictions
    );

    // Download = these bytes: they load back to the same predictions.
    let fixture = fixture_files();
    let exported = tuned.export(&fixture.tokenizer_files()).await.unwrap();
    let names: Vec<&str> = exported.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        ["config.json", "model.safetensors", "tokenizer.json"]
    );
    let reloaded_files = ModelFiles {
        config_json: exported.config_json().unwrap().to_string(),
        weights: exported.weights().unwrap().to_vec(),
        ..fixture
    };
    let reloaded = Session::load(&reloaded_files, &backend).unwrap();
    let again = reloaded
        .analyze(&probe.ids, &probe.type_ids, 5)
        .await
        .unwrap();
    let ids = |a: &bert_burn::inference::Analysis| {
        a.masks[0]
            .predictions
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&after));
    let d = max_abs_diff(&again.attentions, &after.attentions);
    assert!(d < 1e-6, "reloaded attentions differ by {d:e}");
}

/// 200 fine-tuning steps on WebGPU: once the first steps have compiled the kernels and
/// sized the allocator's pools, neither the GPU memory Burn holds nor the wasm heap grows
/// step over step (a leaked tensor per step would add its bytes 180 times).
#[wasm_bindgen_test]
async fn two_hundred_fine_tuning_steps_do_not_grow_memory() {
    use bert_web::finetune::{FineTuneOptions, FineTuner};
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, "webgpu");
    let session = Session::load(&fixture_files(), &backend).unwrap();
    let text = "the cat sat on the mat.\nthe dog ran after the cat.\nit was a cold and quiet morning.\nthe capital of france is paris.";
    let options = FineTuneOptions {
        steps: 200,
        lr: 1e-4,
        batch: 4,
        ..FineTuneOptions::default()
    };
    let mut tuner = FineTuner::new(&session, text, &options).await.unwrap();
    let started = js_sys::Date::now();
    let mut samples = Vec::new();
    for step in 1..=options.steps {
        tuner.step().await.unwrap();
        if step % 20 == 0 {
            samples.push((step, backend::memory(&backend.device)));
        }
    }
    console_log!(
        "200 steps in {:.1} s",
        (js_sys::Date::now() - started) / 1e3
    );
    for (step, m) in &samples {
        console_log!("step {step}: {m:?}");
    }
    let (_, warm) = samples[0];
    let (_, last) = *samples.last().unwrap();
    let in_use = |m: &backend::MemoryFigures| m.gpu_bytes_in_use.expect("WebGPU reports its pools");
    let reserved = |m: &backend::MemoryFigures| m.gpu_bytes_reserved.unwrap();
    assert!(
        in_use(&warm) > 0,
        "the model's weights must be counted: {warm:?}"
    );
    // The largest tensor of a step is far above 64 KiB: any per-step leak exceeds these.
    let slack = 256 * 1024;
    for (step, m) in &samples[1..] {
        assert!(
            in_use(m) <= in_use(&warm) + slack,
            "GPU memory in use grew by step {step}: {warm:?} -> {m:?}"
        );
        // Even a leaked scalar (the loss) is a live allocation of its own.
        assert!(
            m.gpu_allocations <= warm.gpu_allocations,
            "live GPU allocations grew by step {step}: {warm:?} -> {m:?}"
        );
    }
    assert!(
        reserved(&last) <= reserved(&warm) + slack,
        "GPU memory reserved grew: {warm:?} -> {last:?}"
    );
    // The wasm heap grows in 64 KiB pages as the allocator's high-water mark settles, and
    // varying batch shapes can move that mark once, late: seen once in CI, by 7 pages at
    // step 180 of 200. A leak instead grows it again and again: a leak of 1.5 KiB a step
    // (30 KiB per 20-step sample) would grow it at about every other sample.
    let heap_growths = samples
        .windows(2)
        .filter(|w| w[1].1.wasm_heap_bytes > w[0].1.wasm_heap_bytes)
        .count();
    assert!(
        heap_growths <= 1,
        "the wasm heap grew at {heap_growths} of the samples: {samples:?}"
    );
    assert!(
        last.wasm_heap_bytes <= warm.wasm_heap_bytes + 1024 * 1024,
        "the wasm heap grew: {warm:?} -> {last:?}"
    );
}

/// By default a software adapter (SwiftShader here) is passed over for the CPU backend,
/// which runs these models 20-80x faster, and the reason is given; a hardware adapter is used.
#[wasm_bindgen_test]
async fn the_default_passes_over_a_software_adapter() {
    let forced = backend::open(Preference::WebGpu).await;
    assert_eq!(forced.info.kind, "webgpu");
    let default = backend::open(Preference::Auto).await;
    if forced.info.software {
        assert_eq!(default.info.kind, "cpu");
        let reason = default.info.fallback_reason.unwrap();
        assert!(
            reason.contains("software emulation") && reason.contains("?backend=webgpu"),
            "{reason}"
        );
    } else {
        assert_eq!(default.info.kind, "webgpu");
    }
}

const SEQ_CONFIG: &str = include_str!("../../tests/fixtures/models/seq-cls/config.json");
const SEQ_WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/models/seq-cls/model.safetensors");
const SEQ_GOLDEN: &[u8] = include_bytes!("../../tests/fixtures/golden/seq-cls.safetensors");
const TOK_CONFIG: &str = include_str!("../../tests/fixtures/models/tok-cls/config.json");
const TOK_WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/models/tok-cls/model.safetensors");
const TOK_GOLDEN: &[u8] = include_bytes!("../../tests/fixtures/golden/tok-cls.safetensors");
const CLASSIFY_STEP: &[u8] =
    include_bytes!("../../tests/fixtures/golden/classify-step.safetensors");

/// Both task heads as published, against transformers' logits.
async fn check_task_heads(device: burn::tensor::Device) {
    use bert_burn::checkpoint::{HeadWeights, load_sequence_classifier, load_token_classifier};
    use bert_burn::inference::{classify_sequence, classify_tokens};
    let config = BertConfig::from_json(SEQ_CONFIG).unwrap();
    let model =
        load_sequence_classifier(&config, SEQ_WEIGHTS, &device, HeadWeights::FromCheckpoint)
            .unwrap();
    let golden = SafetensorsFile::parse(SEQ_GOLDEN).unwrap();
    let (_, expected) = golden.f32("logits").unwrap();
    for (b, (ids, types)) in golden_rows(|n| golden.f32(n).unwrap()).iter().enumerate() {
        let out = classify_sequence(&model, &encoding_of(ids, types), 0, true, &device)
            .await
            .unwrap();
        let d = max_abs_diff(&out.logits, &expected[b * 3..(b + 1) * 3]);
        assert!(d < LOGIT_TOL, "sequence logits of row {b} differ by {d:e}");
        assert!(!out.attentions.is_empty());
    }
    let config = BertConfig::from_json(TOK_CONFIG).unwrap();
    let model =
        load_token_classifier(&config, TOK_WEIGHTS, &device, HeadWeights::FromCheckpoint).unwrap();
    let golden = SafetensorsFile::parse(TOK_GOLDEN).unwrap();
    let (shape, expected) = golden.f32("logits").unwrap();
    let (seq, labels) = (shape[1], shape[2]);
    for (b, (ids, types)) in golden_rows(|n| golden.f32(n).unwrap()).iter().enumerate() {
        let out = classify_tokens(&model, &encoding_of(ids, types), 0, false, &device)
            .await
            .unwrap();
        let theirs = &expected[b * seq * labels..(b * seq + ids.len()) * labels];
        let d = max_abs_diff(&out.logits.concat(), theirs);
        assert!(d < LOGIT_TOL, "token logits of row {b} differ by {d:e}");
    }
}

#[wasm_bindgen_test]
async fn task_heads_match_transformers_on_the_cpu_fallback() {
    check_task_heads(backend::cpu(None).device).await;
}

#[wasm_bindgen_test]
async fn task_heads_match_transformers_on_webgpu() {
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, "webgpu");
    check_task_heads(backend.device).await;
}

/// One AdamW step of sequence classification against torch's (1e-5 relative where the
/// step is well conditioned, see `assert_adam_step`), then a tiny task learned from a
/// masked-LM start.
async fn check_classifier_training(device: burn::tensor::Device) {
    use bert_burn::checkpoint::{HeadWeights, read_f32};
    use bert_burn::train::MlmTrainer;
    use bert_burn::train::classify::{EncodedExample, accuracy, sequence_classification_loss};
    const TOL: f32 = 1e-5;
    let autodiff = device.clone().autodiff();
    let config = BertConfig::from_json(SEQ_CONFIG).unwrap();
    let load = |d: &burn::tensor::Device| {
        bert_burn::checkpoint::load_sequence_classifier(
            &config,
            SEQ_WEIGHTS,
            d,
            HeadWeights::FromCheckpoint,
        )
        .unwrap()
    };
    let golden = SafetensorsFile::parse(CLASSIFY_STEP).unwrap();
    let (_, targets) = golden.f32("labels").unwrap();
    let rows = {
        let seq = SafetensorsFile::parse(SEQ_GOLDEN).unwrap();
        golden_rows(|n| seq.f32(n).unwrap())
    };
    let examples: Vec<EncodedExample> = rows
        .iter()
        .zip(&targets)
        .map(|((ids, type_ids), &label)| EncodedExample {
            ids: ids.clone(),
            type_ids: type_ids.clone(),
            label: label as usize,
        })
        .collect();
    let batch: Vec<&EncodedExample> = examples.iter().collect();
    let model = load(&autodiff);
    let initial = load(&device).named_tensors();
    let loss = sequence_classification_loss(&model, &batch, 0, &autodiff).unwrap();
    let mut trainer = MlmTrainer::new(train_step_config()).unwrap();
    let (model, report) = trainer.step_on_loss(model, loss).await.unwrap();
    let (_, want) = golden.f32("loss_before").unwrap();
    assert_rel("loss before", &[report.loss], &want, TOL);
    for ((name, _, tensor), (_, _, before)) in model.named_tensors().into_iter().zip(initial) {
        let (_, want) = golden.f32(&format!("param.{name}")).unwrap();
        let ours = read_f32(tensor).await.unwrap();
        let before = read_f32(before).await.unwrap();
        assert_adam_step(&name, &before, &ours, &want, &train_step_config(), TOL);
    }

    // A tiny task: the label is whether the text says "good" or "bad".
    let files = fixture_files();
    let mut checkpoint = bert_burn::checkpoint::CheckpointFiles::new();
    checkpoint.insert("config.json", files.config_json.as_bytes().to_vec());
    checkpoint.insert("model.safetensors", files.weights.clone());
    checkpoint.insert("tokenizer.json", TOKENIZER.to_vec());
    let labels = vec!["good".to_string(), "bad".to_string()];
    let (mut model, tokenizer) = bert_burn::ClassifierPipeline::new_sequence_classifier(
        &checkpoint,
        &labels,
        autodiff.clone(),
    )
    .unwrap();
    let nouns = ["day", "book", "house", "man", "time", "way"];
    let examples: Vec<EncodedExample> = (0..12)
        .map(|i| {
            let word = if i % 2 == 0 { "good" } else { "bad" };
            let enc = tokenizer
                .encode(&format!("a {word} {}", nouns[i % nouns.len()]), None)
                .unwrap();
            EncodedExample {
                ids: enc.ids,
                type_ids: enc.type_ids,
                label: i % 2,
            }
        })
        .collect();
    let mut trainer = MlmTrainer::new(bert_burn::train::TrainConfig {
        lr: 1e-3,
        total_steps: 30,
        ..Default::default()
    })
    .unwrap();
    for _ in 0..30 {
        let batch: Vec<&EncodedExample> = examples.iter().collect();
        let loss = sequence_classification_loss(&model, &batch, 0, &autodiff).unwrap();
        model = trainer.step_on_loss(model, loss).await.unwrap().0;
    }
    use burn::module::Module;
    let learned = accuracy(&model.valid(), &examples, 0, &device)
        .await
        .unwrap();
    assert_eq!(learned, 1.0, "the tiny task was not learned");
}

#[wasm_bindgen_test]
async fn a_classifier_trains_as_torch_does_on_the_cpu_fallback() {
    check_classifier_training(backend::cpu(None).device).await;
}

#[wasm_bindgen_test]
async fn a_classifier_trains_as_torch_does_on_webgpu() {
    let backend = backend::open(Preference::WebGpu).await;
    assert_eq!(backend.info.kind, "webgpu");
    check_classifier_training(backend.device).await;
}
