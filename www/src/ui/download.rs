//! Saving a checkpoint the worker exports (the model, or a classifier): one `.zip` of its
//! Hugging Face files (`config.json`, `model.safetensors`, the tokenizer's files).

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

use super::app::{AppRef, Phase};
use super::dom;
use crate::protocol::Request;

/// Saves `bytes` (a typed array or string) as a file through a temporary link.
fn save_file(name: &str, bytes: &JsValue, mime: &str) -> Result<(), String> {
    let fail = |_| format!("the browser refused to save {name}");
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&Array::of1(bytes), &options)
        .map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let link: web_sys::HtmlAnchorElement = dom::el("a", "", "").unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    let body = dom::document().body().ok_or("the page has no body")?;
    let _ = body.append_child(&link);
    link.click();
    link.remove();
    // Revoking at once can cancel the download in some browsers: later is enough.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

/// Exports what `request` names (the model, or the classifier) as one `.zip` of its
/// Hugging Face files and saves it; `note` says what was saved, `errors` what failed.
pub async fn save_checkpoint(app: &AppRef, request: &Request, note: &Element, errors: &Element) {
    let Some(worker) = app.worker().filter(|_| app.phase() == Phase::Idle) else {
        return app.show_error("load a model first");
    };
    app.set_status("preparing the download");
    let exported = match worker.export(request).await {
        Ok(x) => x,
        Err(e) => return app.fail(errors, e),
    };
    let (what, name) = match (request, exported.finetuned) {
        (Request::ExportClassifier, _) => ("classifier", "bert-classifier.zip"),
        (_, true) => ("fine-tuned model", "bert-finetuned.zip"),
        (_, false) => ("loaded model", "bert-model.zip"),
    };
    match save_file(name, &exported.zip, "application/zip") {
        Ok(()) => {
            app.set_status("ready");
            dom::set_text(
                note,
                &format!(
                    "downloaded the {what} as {name}: {} ({:.1} MB of weights)",
                    exported.files.join(", "),
                    exported.weights_bytes as f64 / 1e6
                ),
            );
        }
        Err(e) => app.show_error_in(errors, &e),
    }
}
