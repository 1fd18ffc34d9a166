//! The text boxes are the state: chip clicks, fills and Fill all edit the text
//! ([`text_edits`]), typing is followed, and every change re-tokenizes and schedules a
//! refresh of the predictions and attention (debounced; until it lands they are marked
//! stale). The text, the second segment and top-k live in the URL, so a link reproduces
//! the view.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::text_edits::{self, TextEdit};
use super::{App, AppRef, dom, param, spawn, text_panel, tokens};
use crate::event_loop::sleep_ms;

/// Quiet time after the last change before the model runs again.
const REFRESH_AFTER_MS: u32 = 250;

fn boxes(app: &App) -> [String; 2] {
    [app.el.text.value(), app.el.text_b.value()]
}

fn set_box(app: &App, segment: usize, text: &str) {
    match segment {
        0 => app.el.text.set_value(text),
        _ => app.el.text_b.set_value(text),
    }
}

/// Applies `edits` to the text boxes (`filled`: words from predictions, else masks and
/// restores), keeps the remembered spans in step, then re-tokenizes and refreshes.
pub async fn edit(app: &AppRef, edits: Vec<TextEdit>, filled: bool) {
    if edits.is_empty() {
        return;
    }
    let old = boxes(app);
    let originals: Vec<String> = edits
        .iter()
        .map(|e| {
            old[e.segment.min(1)]
                .chars()
                .skip(e.start)
                .take(e.end - e.start)
                .collect()
        })
        .collect();
    let mut spans = app.spans.take();
    for (segment, old) in old.iter().enumerate() {
        let mine: Vec<&TextEdit> = edits.iter().filter(|e| e.segment == segment).collect();
        if mine.is_empty() {
            continue;
        }
        let new = text_edits::apply(old, &mine);
        spans = text_edits::follow(spans, segment, old, &new);
        set_box(app, segment, &new);
    }
    spans.extend(text_edits::spans_of(&edits, &originals, filled));
    *app.spans.borrow_mut() = spans;
    *app.texts.borrow_mut() = boxes(app);
    changed(app).await;
}

/// The user typed: the spans follow the text, then as after any change.
pub async fn typed(app: &AppRef) {
    let new = boxes(app);
    let old = app.texts.replace(new.clone());
    let mut spans = app.spans.take();
    for segment in 0..2 {
        spans = text_edits::follow(spans, segment, &old[segment], &new[segment]);
    }
    *app.spans.borrow_mut() = spans;
    changed(app).await;
}

async fn changed(app: &AppRef) {
    // The user acted on the text: an error about the old one no longer stands.
    app.clear_error(&app.el.text_error);
    write_url(app);
    text_panel::retokenize(app).await;
    schedule_refresh(app);
}

/// Marks every token that lies in a filled-in word (the chips' green).
pub fn mark_filled(app: &App, state: &mut tokens::TokenState) {
    let spans = app.spans.borrow();
    for i in 0..state.len() {
        state.filled[i] = text_edits::is_filled(state, &spans, i);
    }
}

/// Runs the model again once the text has been quiet for a moment; a newer change
/// supersedes this one. Until then the views are marked as not yet belonging to the text.
pub fn schedule_refresh(app: &AppRef) {
    let generation = app.refresh_generation.get() + 1;
    app.refresh_generation.set(generation);
    set_stale(app, true);
    spawn(app, async move |app| {
        sleep_ms(REFRESH_AFTER_MS).await;
        if app.refresh_generation.get() == generation {
            text_panel::predict(app).await;
        }
    });
}

/// Drops a refresh still waiting (the caller runs the model itself).
pub fn cancel_refresh(app: &App) {
    app.refresh_generation.set(app.refresh_generation.get() + 1);
}

/// Shows whether the predictions and attention belong to the text on screen.
pub fn set_stale(app: &App, stale: bool) {
    for e in [&app.el.predictions, &app.el.attention_views] {
        let _ = e.class_list().toggle_with_force("stale", stale);
        dom::set_attr(e, "data-stale", if stale { "true" } else { "false" });
    }
}

/// `?text=…&text_b=…&k=…` (the model and backend parameters kept), without a reload.
fn write_url(app: &App) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&window.location().href().unwrap_or_default()) else {
        return;
    };
    let params = url.search_params();
    let [a, b] = boxes(app);
    params.set("text", &a);
    match b.trim().is_empty() {
        true => params.delete("text_b"),
        false => params.set("text_b", &b),
    }
    params.set("k", &app.el.top_k.value());
    // history.replaceState through JS: no new web-sys feature for one call.
    let history = Reflect::get(&window, &"history".into()).unwrap_or(JsValue::NULL);
    if let Ok(replace) =
        Reflect::get(&history, &"replaceState".into()).and_then(|f| f.dyn_into::<Function>())
    {
        let _ = replace.call3(&history, &JsValue::NULL, &"".into(), &url.href().into());
    }
}

/// The view a link describes: its text, second segment and top-k, before the model loads.
pub fn read_url(app: &App) {
    if let Some(text) = param("text") {
        app.el.text.set_value(&text);
    }
    if let Some(text) = param("text_b") {
        app.el.text_b.set_value(&text);
    }
    if let Some(k) = param("k") {
        app.el.top_k.set_value(&k);
    }
    *app.texts.borrow_mut() = boxes(app);
}

/// Top-k changed: the same text, refreshed.
pub fn top_k_changed(app: &AppRef) {
    write_url(app);
    if text_panel::top_k(app).is_ok() {
        schedule_refresh(app);
    }
}
