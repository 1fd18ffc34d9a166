//! The model's side of the protocol ([`crate::protocol`]): runs in a dedicated Web Worker,
//! so loading, inference and fine-tuning never hold up the page. It owns the backend
//! (WebGPU device or CPU), the loaded [`Session`] and a fine-tuning run; each request is
//! handled as its own task, and a fine-tuning run yields between steps so a Stop (or a
//! Predict) is read at once. Loading is `load.rs`, fine-tuning `train.rs`.

mod classify;
mod load;
mod train;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_events::EventListener;
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::backend;
use crate::kernel_count::KernelCount;
use crate::protocol::{
    Event, Failure, Input, Reply, Request, check_texts, envelope, field, from_js, to_js,
};
use crate::session::Session;
use bert_burn::Encoding;
use bert_burn::checkpoint::CheckpointFiles;
use bert_burn::inference::{AnalyzeOptions, FillStep};

#[derive(Default)]
struct State {
    /// The model in use (fine-tuned here, or as loaded).
    session: Option<Rc<Session>>,
    /// The model as loaded, for Reset.
    loaded: Option<Rc<Session>>,
    /// The classifier trained in this page (from `session`), for Classify and its export.
    classifier: Option<Rc<Session>>,
    /// The tokenizer's files as loaded, for Export.
    tokenizer: CheckpointFiles,
    finetuned: bool,
    /// A run (fine-tuning or training a classifier) is under way: one at a time.
    training: bool,
}

/// Runs `run` as the one training run the worker does at a time (a stale Stop cleared
/// first); another one asked for meanwhile is refused.
async fn one_run<T>(run: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let already = STATE.with(|s| std::mem::replace(&mut s.borrow_mut().training, true));
    if already {
        return Err(Failure::new("a training run is already under way"));
    }
    STOP.with(|s| s.set(false));
    let result = run.await;
    STATE.with(|s| s.borrow_mut().training = false);
    result
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    /// Set by [`Request::StopRun`], read before each step.
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
    // Both listeners live as long as the worker.
    EventListener::new(&scope(), "message", |e| {
        let Some(data) = e.dyn_ref::<MessageEvent>().map(MessageEvent::data) else {
            return;
        };
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
    })
    .forget();
    EventListener::new(&scope(), "unhandledrejection", |e| {
        let reason = e
            .dyn_ref::<web_sys::PromiseRejectionEvent>()
            .map(|e| e.reason())
            .unwrap_or_default();
        post_fatal(&format!(
            "the model's worker failed: {}",
            crate::client::js_message(&reason)
        ));
    })
    .forget();
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
        } => load::load(id, source, backend, cpu_reason, payload)
            .await
            .and_then(|i| plain(Reply::Loaded(i))),
        Request::Tokenize { text, text_b } => current()
            .and_then(|s| tokenize(&s, &text, text_b.as_deref()))
            .and_then(|e| plain(Reply::Tokens(e))),
        Request::Analyze { input, options } => analyze(input, options).await,
        Request::FillNext { text, text_b } => fill_next(&text, text_b.as_deref())
            .await
            .and_then(|(step, encoding)| plain(Reply::Filled { step, encoding })),
        Request::FineTune { text, options } => train::fine_tune(id, &text, &options)
            .await
            .and_then(|s| plain(Reply::FineTuned(s))),
        Request::StopRun => {
            STOP.with(|s| s.set(true));
            plain(Reply::Done)
        }
        Request::TrainClassifier { examples, options } => classify::train(id, &examples, &options)
            .await
            .and_then(|s| plain(Reply::ClassifierTrained(s))),
        Request::Classify { text, text_b } => classify::classify(&text, text_b.as_deref()).await,
        Request::Reset => reset().and_then(|()| plain(Reply::Done)),
        Request::Export => match current() {
            Ok(session) => export(&session, STATE.with(|s| s.borrow().finetuned)).await,
            Err(e) => Err(e),
        },
        Request::ExportClassifier => match classify::to_export() {
            Ok(session) => export(&session, true).await,
            Err(e) => Err(e),
        },
        Request::Memory => plain(Reply::Memory(match current() {
            Ok(session) => backend::memory(session.device()),
            Err(_) => backend::wasm_heap_only(),
        })),
        #[cfg(feature = "testing")]
        Request::LoseDeviceForTesting => plain(Reply::DeviceDestroyed {
            destroyed: backend::lose_webgpu_device(),
        }),
        #[cfg(feature = "testing")]
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
    let device_lost = session.backend.kind == backend::BackendKind::Webgpu
        && backend::lost_after_failure(1000).await;
    Failure {
        message,
        device_lost,
    }
}

/// The text's tokens, once its length is checked: what every request that takes text
/// goes through, so no caller (page or JavaScript API) gets past the limits.
fn tokenize(session: &Session, text: &str, text_b: Option<&str>) -> Result<Encoding, Failure> {
    check_texts(text, text_b).map_err(Failure::new)?;
    session.tokenize(text, text_b).map_err(Failure::new)
}

async fn analyze(input: Input, options: AnalyzeOptions) -> Answer {
    let session = current()?;
    let (ids, type_ids, encoding) = match input {
        Input::Text { text, text_b } => {
            let e = tokenize(&session, &text, text_b.as_deref())?;
            (e.ids.clone(), e.type_ids.clone(), Some(e))
        }
        Input::Ids { ids, type_ids } => (ids, type_ids, None),
    };
    let count = KernelCount::start();
    let result = session.analyze(&ids, &type_ids, options).await;
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
        encoding,
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

async fn fill_next(
    text: &str,
    text_b: Option<&str>,
) -> Result<(Option<FillStep>, Encoding), Failure> {
    let session = current()?;
    let encoding = tokenize(&session, text, text_b)?;
    match session.fill_next(&encoding.ids, &encoding.type_ids).await {
        Ok(step) => Ok((step, encoding)),
        Err(e) => Err(failure_after(&session, e).await),
    }
}

/// `session` as Hugging Face files with the tokenizer as loaded; `finetuned`: trained here.
async fn export(session: &Session, finetuned: bool) -> Answer {
    let tokenizer = STATE.with(|s| s.borrow().tokenizer.clone());
    let files = session
        .export(&tokenizer)
        .await
        .map_err(Failure::new)?
        .into_vec();
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let weights_bytes = files
        .iter()
        .find(|(n, _)| n == "model.safetensors")
        .map_or(0, |(_, b)| b.len() as u64);
    // Zipped here, in the worker: a CRC over hundreds of MB would hold up the page.
    let zip = crate::zip::stored_zip(files).map_err(Failure::new)?;
    let bytes = Uint8Array::from(&zip[..]);
    drop(zip);
    let transfer = vec![bytes.buffer().into()];
    Ok((
        Reply::Exported {
            files: names,
            weights_bytes,
            finetuned,
        },
        Some(bytes.into()),
        transfer,
    ))
}
