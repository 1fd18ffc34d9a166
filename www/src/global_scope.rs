//! What the global scope this code runs in offers — the page's window or the model's
//! worker (`DedicatedWorkerGlobalScope`) — so the same code serves both: its event loop
//! and clock, `fetch`, the Cache API and `navigator.gpu`.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};

/// Resolves after `ms` milliseconds on the event loop (gloo's timer, which works in the
/// page and in the worker alike). `sleep_ms(0)` hands the turn back to the browser, so it
/// can paint, handle input or deliver a message between two pieces of long work.
pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// `performance.now()` of the current global, in milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}

/// `fetch(url)` on the current global, without credentials: model files are public, and
/// no cookie or HTTP login of the user's goes to whatever server a model URL names.
pub fn fetch(url: &str) -> Option<Promise> {
    let init = web_sys::RequestInit::new();
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let global = js_sys::global();
    if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        Some(w.fetch_with_str_and_init(url, &init))
    } else {
        global
            .dyn_ref::<web_sys::WorkerGlobalScope>()
            .map(|w| w.fetch_with_str_and_init(url, &init))
    }
}

/// The Cache API of the current global, where the browser offers it.
pub fn caches() -> Option<web_sys::CacheStorage> {
    let global = js_sys::global();
    if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        w.caches().ok()
    } else {
        global
            .dyn_ref::<web_sys::WorkerGlobalScope>()
            .and_then(|w| w.caches().ok())
    }
}

/// `navigator.gpu` of the current global (WebGPU), if the browser has it.
pub fn navigator_gpu() -> Option<JsValue> {
    let navigator =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let gpu = js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")).ok()?;
    (!gpu.is_undefined() && !gpu.is_null()).then_some(gpu)
}
