//! The page's side of the protocol ([`crate::protocol`]): starts the model's worker (the
//! same wasm module, loaded again in a dedicated Web Worker) and turns each request into
//! a future. The UI and the JavaScript API both go through [`ModelWorker`]: one front door.
//!
//! If the worker dies (a trap, running out of memory), every request in flight fails
//! with [`RequestError::WorkerDied`] and the `on_death` callback runs, so the owner can
//! start a new one. The typed requests (load, analyze, export…) are in `requests.rs`.

mod requests;

pub use requests::{Analyzed, Classification};

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use futures_channel::oneshot;
use gloo_events::EventListener;
use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Blob, BlobPropertyBag, ErrorEvent, MessageEvent, Url, Worker, WorkerOptions, WorkerType,
};

use crate::protocol::{Event, Failure, Reply, Request, envelope, field, from_js, to_js};

#[wasm_bindgen]
extern "C" {
    /// The URL of this module's JavaScript glue, which the worker imports.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static MODULE_URL: String;
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestError {
    /// The worker answered with an error (bad input, bad file…).
    Failed(String),
    /// The WebGPU device was lost; the model must be loaded again (on the CPU).
    DeviceLost(String),
    /// The worker is gone (trap, out of memory): nothing of it is left.
    WorkerDied(String),
}

impl RequestError {
    pub fn message(&self) -> &str {
        match self {
            Self::Failed(m) | Self::DeviceLost(m) | Self::WorkerDied(m) => m,
        }
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

type EventHandler = Rc<dyn Fn(Event)>;

/// What the worker answers a request: the message (`Err` for an `error` one, or the
/// reason the worker died).
type Answer = Result<JsValue, JsValue>;

struct Pending {
    answer: oneshot::Sender<Answer>,
    on_event: Option<EventHandler>,
}

/// Called once with what ended the worker.
type DeathHandler = Rc<dyn Fn(String)>;

struct Inner {
    worker: Worker,
    next_id: Cell<u32>,
    pending: RefCell<HashMap<u32, Pending>>,
    dead: RefCell<Option<String>>,
    on_death: RefCell<Option<DeathHandler>>,
    /// The worker's `message` and `error` listeners, removed when it ends.
    listeners: RefCell<Vec<EventListener>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

impl Inner {
    fn die(&self, message: String) {
        if self.dead.borrow().is_some() {
            return;
        }
        self.worker.terminate();
        *self.dead.borrow_mut() = Some(message.clone());
        for (_, p) in self.pending.borrow_mut().drain() {
            let _ = p.answer.send(Err(JsValue::from_str(&message)));
        }
        let callback = self.on_death.borrow().clone();
        if let Some(callback) = callback {
            callback(message);
        }
    }

    fn receive(&self, data: JsValue) {
        if let Some(message) = field(&data, "fatal").and_then(|v| v.as_string()) {
            return self.die(message);
        }
        let Some(id) = field(&data, "id")
            .and_then(|v| v.as_f64())
            .map(|v| v as u32)
        else {
            return;
        };
        if let Some(event) = field(&data, "event") {
            let handler = self
                .pending
                .borrow()
                .get(&id)
                .and_then(|p| p.on_event.clone());
            if let (Some(handler), Ok(event)) = (handler, from_js::<Event>(event)) {
                handler(event);
            }
            return;
        }
        let Some(pending) = self.pending.borrow_mut().remove(&id) else {
            return;
        };
        let answer = match field(&data, "error") {
            Some(_) => Err(data),
            None => Ok(data),
        };
        let _ = pending.answer.send(answer);
    }
}

/// The model's worker, seen from the page. Cheap to clone; the worker ends with the last clone.
#[derive(Clone)]
pub struct ModelWorker {
    inner: Rc<Inner>,
}

impl ModelWorker {
    /// Starts a worker and waits until it listens.
    pub async fn start() -> Result<Self, String> {
        // A module worker that imports this very module's glue and instantiates the
        // page's own compiled wasm (sent in the first message: no second download or
        // compile), then runs its worker entry point instead of the page's UI.
        let script = "self.addEventListener('message', async (e) => {\n\
            const { default: init, workerMain } = await import(e.data.url);\n\
            await init({ module_or_path: e.data.module });\n\
            workerMain();\n\
            }, { once: true });\n";
        let options = BlobPropertyBag::new();
        options.set_type("text/javascript");
        let blob = Blob::new_with_str_sequence_and_options(
            &Array::of1(&JsValue::from_str(script)),
            &options,
        )
        .map_err(|_| "the browser could not make the worker's script")?;
        let blob_url = Url::create_object_url_with_blob(&blob)
            .map_err(|_| "the browser could not make the worker's script")?;
        let worker_options = WorkerOptions::new();
        worker_options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(&blob_url, &worker_options).map_err(|e| {
            format!(
                "this browser cannot start the model's worker: {}",
                js_message(&e)
            )
        })?;
        let inner = Rc::new(Inner {
            worker,
            next_id: Cell::new(1),
            pending: RefCell::new(HashMap::new()),
            dead: RefCell::new(None),
            on_death: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
        });

        // Until it says `ready`, messages and errors settle the start itself.
        let (ready, started) = oneshot::channel::<Result<(), String>>();
        let ready = Rc::new(RefCell::new(Some(ready)));
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let r = ready.clone();
        let on_message = EventListener::new(&inner.worker, "message", move |e| {
            let Some(data) = e.dyn_ref::<MessageEvent>().map(MessageEvent::data) else {
                return;
            };
            if field(&data, "ready").is_some()
                && let Some(ready) = r.borrow_mut().take()
            {
                let _ = ready.send(Ok(()));
                return;
            }
            if let Some(inner) = weak.upgrade() {
                inner.receive(data);
            }
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let on_error = EventListener::new(&inner.worker, "error", move |e| {
            let message = e
                .dyn_ref::<ErrorEvent>()
                .map(|e| e.message())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "the worker stopped without a message".into());
            if let Some(ready) = ready.borrow_mut().take() {
                let _ = ready.send(Err(message.clone()));
            }
            if let Some(inner) = weak.upgrade() {
                inner.die(format!("the model's worker crashed ({message})"));
            }
        });
        inner.listeners.borrow_mut().extend([on_message, on_error]);
        let boot = js_sys::Object::new();
        let _ = js_sys::Reflect::set(
            &boot,
            &"url".into(),
            &MODULE_URL.with(|u| JsValue::from_str(u)),
        );
        let _ = js_sys::Reflect::set(&boot, &"module".into(), &wasm_bindgen::module());
        inner.worker.post_message(&boot).map_err(|e| {
            format!(
                "the model's worker could not be given its code: {}",
                js_message(&e)
            )
        })?;
        let started = started.await;
        let _ = Url::revoke_object_url(&blob_url);
        match started {
            Ok(Ok(())) => Ok(Self { inner }),
            Ok(Err(e)) => Err(format!("the model's worker did not start: {e}")),
            Err(_) => Err("the model's worker did not start".into()),
        }
    }

    /// Runs `callback` (once) with what happened when the worker dies.
    pub fn on_death(&self, callback: impl Fn(String) + 'static) {
        *self.inner.on_death.borrow_mut() = Some(Rc::new(callback));
    }

    pub fn is_dead(&self) -> bool {
        self.inner.dead.borrow().is_some()
    }

    /// Sends `request` and waits for its reply; `on_event` sees its progress events.
    pub async fn request(
        &self,
        request: &Request,
        payload: Option<&JsValue>,
        transfer: &[JsValue],
        on_event: Option<EventHandler>,
    ) -> Result<(Reply, Option<JsValue>), RequestError> {
        if let Some(message) = self.inner.dead.borrow().clone() {
            return Err(RequestError::WorkerDied(message));
        }
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        let value = to_js(request).map_err(RequestError::Failed)?;
        let (answer, answered) = oneshot::channel();
        self.inner
            .pending
            .borrow_mut()
            .insert(id, Pending { answer, on_event });
        let list: Array = transfer.iter().collect();
        if let Err(e) = self
            .inner
            .worker
            .post_message_with_transfer(&envelope(id, "request", &value, payload), &list)
        {
            self.inner.pending.borrow_mut().remove(&id);
            return Err(RequestError::Failed(format!(
                "could not send to the model's worker: {}",
                js_message(&e)
            )));
        }
        // A dropped sender (the worker gone with the request unanswered) reads as its death.
        let answer = answered
            .await
            .unwrap_or_else(|_| Err(JsValue::from_str("the model's worker stopped")));
        match answer {
            Ok(data) => {
                let reply = field(&data, "reply")
                    .ok_or_else(|| RequestError::Failed("an empty reply".into()))?;
                let reply = from_js::<Reply>(reply).map_err(RequestError::Failed)?;
                Ok((reply, field(&data, "payload")))
            }
            Err(e) => Err(match field(&e, "error").map(from_js::<Failure>) {
                Some(Ok(f)) if f.device_lost => RequestError::DeviceLost(f.message),
                Some(Ok(f)) => RequestError::Failed(f.message),
                Some(Err(m)) => RequestError::Failed(m),
                None => RequestError::WorkerDied(
                    e.as_string()
                        .unwrap_or_else(|| "the model's worker stopped".into()),
                ),
            }),
        }
    }

    /// A request whose reply carries no payload.
    pub async fn ask(&self, request: Request) -> Result<Reply, RequestError> {
        self.request(&request, None, &[], None)
            .await
            .map(|(reply, _)| reply)
    }
}

/// The message of a JS error or value.
pub fn js_message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
