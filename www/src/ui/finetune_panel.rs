//! The fine-tune panel: Start / Stop (within one step) / Reset / Download, a progress
//! bar, the live loss chart, tokens/s, and predictions for the masked text before and
//! after. The training itself is [`crate::finetune::FineTuner`].

use std::rc::Rc;

use bert_burn::inference::MaskPredictions;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlButtonElement, HtmlCanvasElement, HtmlInputElement, HtmlTextAreaElement};

use super::{Shared, chart, dom, install, predict, preference, set_status, show_error, spawn, top_k};
use crate::finetune::{FineTuneOptions, FineTuner};

pub(super) fn wire(state: &Shared) {
    let s = state.clone();
    dom::on::<Event>(&dom::testid("finetune-start"), "click", move |_| spawn(&s, async |s| run(s).await));
    let s = state.clone();
    dom::on::<Event>(&dom::testid("finetune-stop"), "click", move |_| {
        s.borrow_mut().stop_requested = true;
        dom::testid::<HtmlButtonElement>("finetune-stop").set_disabled(true);
    });
    let s = state.clone();
    dom::on::<Event>(&dom::testid("finetune-reset"), "click", move |_| spawn(&s, async |s| reset(s).await));
    let s = state.clone();
    dom::on::<Event>(&dom::testid("download-weights"), "click", move |_| spawn(&s, async |s| download(s).await));
}

fn read_options() -> Result<FineTuneOptions, String> {
    let value = |id: &str| dom::testid::<HtmlInputElement>(id).value();
    let number = |id: &str, what: &str| {
        value(id)
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("{what} must be a whole number"))
    };
    let options = FineTuneOptions {
        steps: number("finetune-steps", "steps")?,
        lr: value("finetune-lr")
            .trim()
            .parse::<f64>()
            .map_err(|_| "the learning rate must be a number like 3e-4".to_string())?,
        batch: number("finetune-batch", "the batch")?,
        ..FineTuneOptions::default()
    };
    options.validate()?;
    Ok(options)
}

fn set_running(running: bool) {
    dom::testid::<HtmlButtonElement>("finetune-start").set_disabled(running);
    dom::testid::<HtmlButtonElement>("finetune-stop").set_disabled(!running);
    dom::testid::<HtmlButtonElement>("finetune-reset").set_disabled(running);
    dom::testid::<HtmlButtonElement>("download-weights").set_disabled(running);
}

/// A compact list (not the clickable rows above): "position 6: paris 41.2 %, …".
fn render_compact(id: &str, masks: &[MaskPredictions]) {
    let Some(container) = dom::by_id(id) else { return };
    dom::clear(&container);
    if masks.is_empty() {
        dom::set_text(&container, "no [MASK] in the text above");
        return;
    }
    for m in masks {
        let text = m
            .predictions
            .iter()
            .map(|p| format!("{} {:.1}%", p.token, p.probability * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        let line = dom::el("p", "compact", &format!("position {}: {text}", m.position));
        dom::set_attr(&line, "data-mask-position", &m.position.to_string());
        if let Some(best) = m.predictions.first() {
            dom::set_attr(&line, "data-top-token", &best.token);
        }
        let _ = container.append_child(&line);
    }
}

async fn masks_now(state: &Shared) -> Option<Vec<MaskPredictions>> {
    let session = state.borrow().session.clone()?;
    let tokens = state.borrow().tokens.clone();
    if tokens.is_empty() {
        return None;
    }
    session.analyze(&tokens.ids, &tokens.type_ids, top_k()).await.ok().map(|a| a.masks)
}

async fn run(state: &Shared) {
    let Some(session) = state.borrow().session.clone() else {
        return show_error("load a model before fine-tuning");
    };
    if state.borrow().training {
        return;
    }
    let options = match read_options() {
        Ok(o) => o,
        Err(e) => return show_error(&e),
    };
    let text = dom::testid::<HtmlTextAreaElement>("finetune-text").value();
    {
        let mut s = state.borrow_mut();
        s.training = true;
        s.stop_requested = false;
    }
    set_running(true);
    if let Some(before) = masks_now(state).await {
        render_compact("predictions-before", &before);
    }
    set_status("fine-tuning: preparing");
    let mut tuner = match FineTuner::new(&session, &text, &options).await {
        Ok(t) => t,
        Err(e) => {
            state.borrow_mut().training = false;
            set_running(false);
            return show_error(&e);
        }
    };
    let bar = dom::testid::<web_sys::HtmlProgressElement>("finetune-progress");
    let stats = dom::by_id("finetune-stats").expect("#finetune-stats");
    // A previous run's outcome must not read as this one's.
    for name in ["data-finished", "data-steps", "data-first-step-ms", "data-warm-step-ms", "data-losses"] {
        let _ = stats.remove_attribute(name);
    }
    let canvas = dom::testid::<HtmlCanvasElement>("loss-chart");
    bar.set_max(options.steps as f64);
    bar.set_value(0.0);
    let started = dom::now_ms();
    let mut losses = Vec::with_capacity(options.steps);
    let mut step_ms = Vec::with_capacity(options.steps);
    let mut failure = None;
    set_status("fine-tuning");
    for step in 0..options.steps {
        if state.borrow().stop_requested {
            break;
        }
        let step_started = dom::now_ms();
        match tuner.step().await {
            Ok(loss) => {
                losses.push(loss);
                step_ms.push(dom::now_ms() - step_started);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        let seconds = (dom::now_ms() - started) / 1000.0;
        bar.set_value((step + 1) as f64);
        // Shown so a user sees the run holds steady (a leak would climb step over step).
        let memory = crate::backend::memory(&session.pipeline.device);
        let gpu = memory
            .gpu_bytes_reserved
            .map(|b| format!(" · GPU {:.1} MB", b as f64 / 1e6))
            .unwrap_or_default();
        dom::set_text(
            &stats,
            &format!(
                "step {}/{} · loss {:.3} · {:.0} tokens/s · {} examples · wasm heap {:.1} MB{gpu}",
                step + 1,
                options.steps,
                losses.last().copied().unwrap_or(f32::NAN),
                tuner.tokens_seen as f64 / seconds.max(1e-3),
                tuner.examples(),
                memory.wasm_heap_bytes as f64 / 1e6,
            ),
        );
        dom::set_attr(&stats, "data-steps", &(step + 1).to_string());
        chart::draw_losses(&canvas, &losses, options.steps);
        // Lets the browser paint and handle input between steps.
        crate::event_loop::sleep_ms(0).await;
    }
    let done = tuner.steps_done();
    let seconds = (dom::now_ms() - started) / 1000.0;
    let stopped = state.borrow().stop_requested;
    if failure.is_none() && done > 0 {
        if let Some(model) = tuner.into_model() {
            state.borrow_mut().session = Some(Rc::new(session.with_model(model)));
            state.borrow_mut().finetuned = true;
        }
    }
    state.borrow_mut().training = false;
    set_running(false);
    let lost = failure.is_some() && crate::backend::lost_after_failure(1000).await;
    match failure {
        Some(e) if lost => {
            // The steps done so far lived on the lost GPU: they are gone, the loaded weights are not.
            // The first line says what failed; wgpu's chain of causes and backtrace follow.
            let cause = e.lines().next().unwrap_or_default();
            let message = format!("the WebGPU device was lost after {done} steps ({cause}); continuing on the CPU with the loaded weights");
            dom::set_text(&stats, &message);
            dom::set_attr(&stats, "data-finished", "lost");
            show_error(&format!("fine-tuning stopped: {message}"));
            let files = state.borrow().files.clone();
            if let Some(files) = files {
                install(state, files, preference(), true).await;
            }
        }
        Some(e) => {
            dom::set_attr(&stats, "data-finished", "error");
            show_error(&format!("fine-tuning stopped after {done} steps: {e}"));
        }
        None => {
            let verb = if stopped { "stopped" } else { "done" };
            // The first step compiles the GPU kernels: shown apart from the steady pace.
            let first = step_ms.first().copied().unwrap_or(0.0);
            let warm = median(&step_ms[step_ms.len().min(1)..]);
            let pace = match warm {
                Some(ms) => format!("first step {first:.0} ms, then {ms:.0} ms/step"),
                None => format!("{first:.0} ms/step"),
            };
            let trend = match (losses.first(), losses.last()) {
                (Some(a), Some(b)) => format!(", loss {a:.3} → {b:.3}"),
                _ => String::new(),
            };
            dom::set_text(&stats, &format!("{verb}: {done} steps in {seconds:.1} s{trend} ({pace})"));
            // Every step's loss, for tests and for whoever inspects the page.
            let all: Vec<String> = losses.iter().map(|l| format!("{l:.4}")).collect();
            dom::set_attr(&stats, "data-losses", &all.join(","));
            dom::set_attr(&stats, "data-first-step-ms", &format!("{first:.1}"));
            if let Some(ms) = warm {
                dom::set_attr(&stats, "data-warm-step-ms", &format!("{ms:.1}"));
            }
            dom::set_attr(&stats, "data-steps", &done.to_string());
            dom::set_attr(&stats, "data-finished", "true");
            if let Some(after) = masks_now(state).await {
                render_compact("predictions-after", &after);
            }
            set_status("ready");
            predict(state).await;
        }
    }
}

/// The median of `values`, `None` when there are none.
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

async fn reset(state: &Shared) {
    if state.borrow().training {
        return;
    }
    let files = state.borrow().files.clone();
    let Some(files) = files else { return };
    state.borrow_mut().finetuned = false;
    install(state, files, preference(), true).await;
    for id in ["predictions-before", "predictions-after", "finetune-stats"] {
        if let Some(e) = dom::by_id(id) {
            dom::clear(&e);
        }
    }
    dom::testid::<web_sys::HtmlProgressElement>("finetune-progress").set_value(0.0);
    chart::draw_losses(&dom::testid::<HtmlCanvasElement>("loss-chart"), &[], 1);
}

/// Saves `bytes` as a file through a temporary link.
fn save_file(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let fail = |_| format!("the browser refused to save {name}");
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(fail)?;
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
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

async fn download(state: &Shared) {
    let (Some(session), Some(files)) = (state.borrow().session.clone(), state.borrow().files.clone()) else {
        return show_error("load a model first");
    };
    set_status("preparing the download");
    let (weights, config) = match session.export().await {
        Ok(x) => x,
        Err(e) => return show_error(&e),
    };
    let mut result = save_file("model.safetensors", &weights, "application/octet-stream")
        .and_then(|_| save_file("config.json", config.as_bytes(), "application/json"));
    if let Some(tok) = &files.tokenizer_json {
        result = result.and_then(|_| save_file("tokenizer.json", tok, "application/json"));
    } else if let Some(vocab) = &files.vocab_txt {
        result = result.and_then(|_| save_file("vocab.txt", vocab.as_bytes(), "text/plain"));
    }
    match result {
        Ok(()) => {
            let what = if state.borrow().finetuned { "fine-tuned" } else { "loaded" };
            set_status("ready");
            if let Some(e) = dom::by_id("finetune-stats") {
                dom::set_text(&e, &format!("downloaded the {what} model ({:.1} MB of weights)", weights.len() as f64 / 1e6));
            }
        }
        Err(e) => show_error(&e),
    }
}
