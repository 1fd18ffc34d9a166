//! The model's side of the protocol ([`crate::protocol`]): runs in a dedicated Web Worker,
//! so loading, inference and fine-tuning never hold up the page. It owns the backend
//! (WebGPU device or CPU), the loaded [`Session`] and a fine-tuning run; each request is
//! handled as its own task, and a fine-tuning run yields between steps so a Stop (or a
//! Predict) is read at once.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::backend;
use crate::event_loop::{now_ms, sleep_ms};
use crate::finetune::FineTuner;
use crate::kernel_count::KernelCount;
use crate::model_files::{self, ModelFiles};
use crate::protocol::{
    Event, Failure, FineTuneSummary, ModelInfo, Reply, Request, Source, StepReport, envelope,
    field, from_js, to_js,
};
use crate::session::{Session, parameter_count};

#[derive(Default)]
struct State {
    /// The model in use (fine-tuned here, or as loaded).
    session: Option<Rc<Session>>,
    /// The model as loaded, for Reset.
    loaded: Option<Rc<Session>>,
    /// The tokenizer's file name and bytes, for Export.
    tokenizer_file: Option<(String, Vec<u8>)>,
    finetuned: bool,
    training: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    /// Set by [`Request::StopFineTune`], read before each step.
    static STOP: Cell<bool> = const { Cell::new(false) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &JsValue, transfer: &[JsValue]) {
    let list: Array = transfer.iter().collect();
    if let Err(e) = scope().post_message_with_transfer(message, &list) {
        web_sys::console::error_2(&"the model's worker could not answer".into(), &e);
    }
}

fn post_fatal(message: &str) {
    let m = Object::new();
    let _ = Reflect::set(&m, &"fatal".into(), &message.into());
    post(&m, &[]);
}

fn post_event(id: u32, event: &Event) {
    if let Ok(value) = to_js(event) {
        post(&envelope(id, "event", &value, None), &[]);
    }
}

/// Entry point of the worker (called by the loader script `client::ModelWorker` makes):
/// listens for requests, and tells the page it is ready.
#[wasm_bindgen(js_name = workerMain)]
pub fn worker_main() {
    crate::run_static_constructors();
    // A panic is a bug: say what it was before the trap ends the worker.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post_fatal(&format!("the model's worker panicked: {info}"));
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        let data = e.data();
        let Some(id) = field(&data, "id")
            .and_then(|v| v.as_f64())
            .map(|v| v as u32)
        else {
            return;
        };
        let payload = field(&data, "payload");
        match field(&data, "request").map(from_js::<Request>) {
            Some(Ok(request)) => spawn_local(handle(id, request, payload)),
            Some(Err(e)) => answer(id, Err(Failure::new(e))),
            None => answer(id, Err(Failure::new("a message without a request"))),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_rejection = Closure::<dyn FnMut(web_sys::PromiseRejectionEvent)>::new(
        |e: web_sys::PromiseRejectionEvent| {
            post_fatal(&format!(
                "the model's worker failed: {}",
                crate::client::js_message(&e.reason())
            ));
        },
    );
    let _ = scope().add_event_listener_with_callback(
        "unhandledrejection",
        on_rejection.as_ref().unchecked_ref(),
    );
    on_rejection.forget();
    let ready = Object::new();
    let _ = Reflect::set(&ready, &"ready".into(), &true.into());
    post(&ready, &[]);
}

/// What a handler gives back: the reply, and bulk data beside it with what to transfer.
type Answer = Result<(Reply, Option<JsValue>, Vec<JsValue>), Failure>;

fn answer(id: u32, result: Answer) {
    match result {
        Ok((reply, payload, transfer)) => match to_js(&reply) {
            Ok(value) => post(&envelope(id, "reply", &value, payload.as_ref()), &transfer),
            Err(e) => answer(id, Err(Failure::new(e))),
        },
        Err(failure) => {
            let value = to_js(&failure).unwrap_or_else(|_| JsValue::from_str(&failure.message));
            post(&envelope(id, "error", &value, None), &[]);
        }
    }
}

async fn handle(id: u32, request: Request, payload: Option<JsValue>) {
    let plain = |reply: Reply| -> Answer { Ok((reply, None, Vec::new())) };
    let result = match request {
        Request::Load {
            source,
            backend,
            cpu_reason,
        } => load(id, source, backend, cpu_reason, payload)
            .await
            .and_then(|i| plain(Reply::Loaded(i))),
        Request::Tokenize { text, text_b } => current()
            .and_then(|s| s.tokenize(&text, text_b.as_deref()).map_err(Failure::new))
            .and_then(|e| plain(Reply::Tokens(e))),
        Request::Analyze {
            ids,
            type_ids,
            top_k,
        } => analyze(&ids, &type_ids, top_k).await,
        Request::FineTune { text, options } => fine_tune(id, &text, &options)
            .await
            .and_then(|s| plain(Reply::FineTuned(s))),
        Request::StopFineTune => {
            STOP.with(|s| s.set(true));
            plain(Reply::Done)
        }
        Request::Reset => reset().and_then(|()| plain(Reply::Done)),
        Request::Export => export().await,
        Request::Memory => plain(Reply::Memory(match current() {
            Ok(session) => backend::memory(&session.pipeline.device),
            Err(_) => backend::wasm_heap_only(),
        })),
        Request::LoseDeviceForTesting => plain(Reply::Flag {
            value: backend::lose_webgpu_device(),
        }),
        Request::CrashForTesting => {
            // A trap, as a bug or a failed allocation ends a wasm instance: no panic hook.
            #[cfg(target_arch = "wasm32")]
            core::arch::wasm32::unreachable();
            #[cfg(not(target_arch = "wasm32"))]
            plain(Reply::Done)
        }
    };
    answer(id, result);
}

fn current() -> Result<Rc<Session>, Failure> {
    STATE
        .with(|s| s.borrow().session.clone())
        .ok_or_else(|| Failure::new("no model is loaded yet"))
}

/// A failed device read on `session`'s backend: a lost WebGPU device (reported a moment
/// after the read fails, so this waits for it) or not. The CPU backend has no device to lose.
async fn failure_after(session: &Session, message: String) -> Failure {
    let device_lost = session.backend.kind == "webgpu" && backend::lost_after_failure(1000).await;
    Failure {
        message,
        device_lost,
    }
}

async fn load(
    id: u32,
    source: Source,
    preference: backend::Preference,
    cpu_reason: Option<String>,
    payload: Option<JsValue>,
) -> Result<ModelInfo, Failure> {
    let files = read_files(id, source, payload)
        .await
        .map_err(Failure::new)?;
    post_event(
        id,
        &Event::Building {
            source: files.source.clone(),
        },
    );
    let started = now_ms();
    let backend = match cpu_reason {
        Some(reason) => backend::cpu(Some(reason)),
        None => backend::open(preference).await,
    };
    let session = Rc::new(Session::load(&files, &backend).map_err(Failure::new)?);
    let c = session.config();
    let info = ModelInfo {
        source: files.source.clone(),
        layers: c.num_hidden_layers,
        hidden_size: c.hidden_size,
        heads: c.num_attention_heads,
        vocab_size: c.vocab_size,
        max_positions: c.max_position_embeddings,
        parameters: parameter_count(c),
        config: serde_json::to_value(c).unwrap_or_default(),
        backend: session.backend.clone(),
        mask_id: session.mask_id(),
        mask_token: session.mask_token().to_string(),
        build_ms: now_ms() - started,
    };
    let tokenizer_file = match (&files.tokenizer_json, &files.vocab_txt) {
        (Some(json), _) => Some(("tokenizer.json".to_string(), json.clone())),
        (None, Some(vocab)) => Some(("vocab.txt".to_string(), vocab.as_bytes().to_vec())),
        _ => None,
    };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.session = Some(session.clone());
        s.loaded = Some(session);
        s.tokenizer_file = tokenizer_file;
        s.finetuned = false;
    });
    Ok(info)
}

/// The checkpoint's files, from wherever the request says.
async fn read_files(
    id: u32,
    source: Source,
    payload: Option<JsValue>,
) -> Result<ModelFiles, String> {
    match source {
        Source::Location { location } => {
            // Progress at most every 50 ms: a large file arrives in thousands of chunks.
            let last = Cell::new(f64::NEG_INFINITY);
            let progress = |file: &str, done: f64, total: Option<f64>| {
                let now = now_ms();
                if now - last.get() >= 50.0 || Some(done) == total {
                    last.set(now);
                    post_event(
                        id,
                        &Event::Download {
                            file: file.into(),
                            done,
                            total,
                        },
                    );
                }
            };
            model_files::fetch_model(&location, &progress).await
        }
        Source::Files => {
            let list: Array = payload
                .ok_or("no files were given")?
                .dyn_into()
                .map_err(|_| "the files are not a list")?;
            let files: Vec<web_sys::File> = list.iter().filter_map(|f| f.dyn_into().ok()).collect();
            model_files::from_local_files(&files).await
        }
        Source::Bytes { tokenizer_is_vocab } => {
            let payload = payload.ok_or("no files were given")?;
            let bytes = |name: &str| -> Result<Vec<u8>, String> {
                field(&payload, name)
                    .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                    .map(|a| a.to_vec())
                    .ok_or_else(|| format!("{name} is missing: give it as a Uint8Array"))
            };
            let config_json = field(&payload, "config")
                .and_then(|v| v.as_string())
                .ok_or("the config is missing: give config.json as a string")?;
            let tokenizer = bytes("tokenizer")?;
            let mut files = ModelFiles {
                source: "the given files".into(),
                config_json,
                weights: bytes("weights")?,
                ..ModelFiles::default()
            };
            if tokenizer_is_vocab {
                files.vocab_txt =
                    Some(String::from_utf8(tokenizer).map_err(|_| "vocab.txt is not UTF-8 text")?);
            } else {
                files.tokenizer_json = Some(tokenizer);
            }
            Ok(files)
        }
    }
}

async fn analyze(ids: &[u32], type_ids: &[u32], top_k: usize) -> Answer {
    let session = current()?;
    let count = KernelCount::start();
    let result = session.analyze(ids, type_ids, top_k).await;
    let (kernels, kernel_names) = count.finish();
    let analysis = match result {
        Ok(a) => a,
        Err(e) => {
            let failure = failure_after(&session, e).await;
            let message = if failure.device_lost {
                format!("the WebGPU device was lost ({})", failure.message)
            } else {
                failure.message
            };
            return Err(Failure { message, ..failure });
        }
    };
    // Copied once into a typed array that is then transferred, not copied again.
    let maps = Float32Array::from(&analysis.attentions[..]);
    let buffer = maps.buffer().into();
    let reply = Reply::Analysis {
        masks: analysis.masks,
        layers: analysis.layers,
        heads: analysis.heads,
        seq: analysis.seq,
        kernels,
        kernel_names,
        // `bert_burn::inference::analyze` reads the mask rows and the maps in one transaction.
        reads: 1,
    };
    Ok((reply, Some(maps.into()), vec![buffer]))
}

async fn fine_tune(
    id: u32,
    text: &str,
    options: &crate::finetune::FineTuneOptions,
) -> Result<FineTuneSummary, Failure> {
    let session = current()?;
    let already = STATE.with(|s| std::mem::replace(&mut s.borrow_mut().training, true));
    if already {
        return Err(Failure::new("a fine-tuning run is already under way"));
    }
    STOP.with(|s| s.set(false));
    let result = run_steps(id, &session, text, options).await;
    STATE.with(|s| s.borrow_mut().training = false);
    result
}

async fn run_steps(
    id: u32,
    session: &Rc<Session>,
    text: &str,
    options: &crate::finetune::FineTuneOptions,
) -> Result<FineTuneSummary, Failure> {
    let mut tuner = FineTuner::new(session, text, options)
        .await
        .map_err(Failure::new)?;
    let started = now_ms();
    let mut losses = Vec::with_capacity(options.steps);
    let mut failure = None;
    for step in 0..options.steps {
        if STOP.with(|s| s.get()) {
            break;
        }
        let step_started = now_ms();
        match tuner.step().await {
            Ok(loss) => losses.push(loss),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        let seconds = (now_ms() - started) / 1000.0;
        post_event(
            id,
            &Event::Step(StepReport {
                step: step + 1,
                steps: options.steps,
                loss: losses.last().copied().unwrap_or(f32::NAN),
                step_ms: now_ms() - step_started,
                tokens_per_second: tuner.tokens_seen as f64 / seconds.max(1e-3),
                examples: tuner.examples(),
                memory: backend::memory(&session.pipeline.device),
            }),
        );
        // Lets a Stop, or any other request, in between two steps.
        sleep_ms(0).await;
    }
    let done = tuner.steps_done();
    if let Some(e) = failure {
        let failure = failure_after(session, e).await;
        // The first line says what failed; wgpu's chain of causes and backtrace follow.
        let cause = failure
            .message
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let message = if failure.device_lost {
            format!("the WebGPU device was lost after {done} steps ({cause})")
        } else {
            format!("fine-tuning stopped after {done} steps: {cause}")
        };
        return Err(Failure { message, ..failure });
    }
    if done > 0
        && let Some(model) = tuner.into_model()
    {
        let tuned = Rc::new(session.with_model(model));
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.session = Some(tuned);
            s.finetuned = true;
        });
    }
    Ok(FineTuneSummary {
        steps_done: done,
        stopped: STOP.with(|s| s.get()),
        seconds: (now_ms() - started) / 1000.0,
        losses,
    })
}

fn reset() -> Result<(), Failure> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.training {
            return Err(Failure::new("stop the fine-tuning run first"));
        }
        s.session = s.loaded.clone();
        s.finetuned = false;
        Ok(())
    })
}

async fn export() -> Answer {
    let session = current()?;
    let (weights, config_json) = session.export().await.map_err(Failure::new)?;
    let (tokenizer_file, tokenizer) = STATE
        .with(|s| s.borrow().tokenizer_file.clone())
        .ok_or_else(|| Failure::new("the model has no tokenizer file to export"))?;
    let finetuned = STATE.with(|s| s.borrow().finetuned);
    let weights = Uint8Array::from(&weights[..]);
    let tokenizer = Uint8Array::from(&tokenizer[..]);
    let payload = Object::new();
    let _ = Reflect::set(&payload, &"weights".into(), &weights);
    let _ = Reflect::set(&payload, &"tokenizer".into(), &tokenizer);
    let transfer = vec![weights.buffer().into(), tokenizer.buffer().into()];
    Ok((
        Reply::Exported {
            config_json,
            tokenizer_file,
            finetuned,
        },
        Some(payload.into()),
        transfer,
    ))
}
