//! Waiting on the browser's event loop from async Rust.

use js_sys::Promise;
use wasm_bindgen_futures::JsFuture;

/// Resolves after `ms` milliseconds on the event loop. `sleep_ms(0)` hands the turn back
/// to the browser, so it can paint and handle input between two pieces of long work.
pub async fn sleep_ms(ms: i32) {
    let timer = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(timer).await;
}
