//! The tests' hooks into the page (built with the `testing` feature only, so the shipped
//! app has none): destroy the page's WebGPU device, make its model worker trap, read
//! what the worker holds in memory. They reach the page's worker through the one global
//! the page registers for them ([`register_page_worker`]).

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::api::fail;
use crate::client::{ModelWorker, RequestError};
use crate::protocol::{Reply, Request, to_js};

thread_local! {
    static PAGE_WORKER: RefCell<Option<ModelWorker>> = const { RefCell::new(None) };
}

/// The page's current model worker (a new one replaces it after a crash).
pub fn register_page_worker(worker: &ModelWorker) {
    PAGE_WORKER.with(|w| *w.borrow_mut() = Some(worker.clone()));
}

fn page_worker() -> Result<ModelWorker, JsError> {
    PAGE_WORKER
        .with(|w| w.borrow().clone())
        .ok_or_else(|| JsError::new("the page has no model worker"))
}

/// Destroys the page's WebGPU device (as a driver reset would) so a test can check the
/// recovery. Resolves to false when the page's model is not on WebGPU.
#[wasm_bindgen(js_name = loseWebGpuDeviceForTesting)]
pub async fn lose_webgpu_device_for_testing() -> Result<bool, JsError> {
    let worker = page_worker()?;
    match worker
        .ask(Request::LoseDeviceForTesting)
        .await
        .map_err(fail)?
    {
        Reply::DeviceDestroyed { destroyed } => Ok(destroyed),
        _ => Err(JsError::new("the model's worker answered out of turn")),
    }
}

/// What the page's model worker holds (`{wasm_heap_bytes, gpu_allocations,
/// gpu_bytes_in_use, gpu_bytes_reserved}`), for soak tests and benchmarks.
#[wasm_bindgen(js_name = modelWorkerMemory)]
pub async fn model_worker_memory() -> Result<JsValue, JsError> {
    let worker = page_worker()?;
    match worker.ask(Request::Memory).await.map_err(fail)? {
        Reply::Memory(m) => to_js(&m).map_err(|e| JsError::new(&e)),
        _ => Err(JsError::new("the model's worker answered out of turn")),
    }
}

/// Makes the page's model worker trap (as a bug or running out of memory would), so a
/// test can check that the page recovers. Resolves once the worker is gone.
#[wasm_bindgen(js_name = crashModelWorkerForTesting)]
pub async fn crash_model_worker_for_testing() -> Result<bool, JsError> {
    let worker = page_worker()?;
    match worker.ask(Request::CrashForTesting).await {
        Err(RequestError::WorkerDied(_)) => Ok(true),
        Err(e) => Err(fail(e)),
        Ok(_) => Ok(false),
    }
}
