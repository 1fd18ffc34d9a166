//! The text boxes are the state: chip clicks, fills and Fill all edit the text
//! ([`text_edits`]), typing is followed, and what masks replaced and where words were
//! filled in follow the text (spans). The text, the second segment and top-k live in the
//! URL, so a link reproduces the view. After any change, the caller hands the text to
//! the refresh loop (`refresh::changed`).

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::app::{App, param};
use super::text_edits::{self, TextEdit};
use super::tokens;

/// The most candidates shown per mask (the input's `max`).
pub const MAX_TOP_K: usize = 50;

/// The top-k box, or a message saying what it must be: `abc`, `0`, `-5` and `1e9` are
/// refused, never replaced by something else.
pub fn top_k(app: &App) -> Result<usize, String> {
    let text = app.el.top_k.value();
    match text.trim().parse::<usize>() {
        Ok(k) if (1..=MAX_TOP_K).contains(&k) => Ok(k),
        _ => Err(format!(
            "top-k must be a whole number from 1 to {MAX_TOP_K} (it is \"{}\")",
            text.trim()
        )),
    }
}

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
/// restores) and keeps the remembered spans in step. Whether anything changed.
pub fn edit(app: &App, edits: &[TextEdit], filled: bool) -> bool {
    if edits.is_empty() {
        return false;
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
    let mut spans = std::mem::take(&mut app.text.borrow_mut().spans);
    for (segment, old) in old.iter().enumerate() {
        let mine: Vec<&TextEdit> = edits.iter().filter(|e| e.segment == segment).collect();
        if mine.is_empty() {
            continue;
        }
        let new = text_edits::apply(old, &mine);
        spans = text_edits::follow(spans, segment, old, &new);
        set_box(app, segment, &new);
    }
    spans.extend(text_edits::spans_of(edits, &originals, filled));
    let mut memory = app.text.borrow_mut();
    memory.spans = spans;
    memory.boxes = boxes(app);
    true
}

/// The user typed: the spans follow the text.
pub fn typed(app: &App) {
    let new = boxes(app);
    let mut memory = app.text.borrow_mut();
    let old = std::mem::replace(&mut memory.boxes, new.clone());
    let mut spans = std::mem::take(&mut memory.spans);
    for segment in 0..2 {
        spans = text_edits::follow(spans, segment, &old[segment], &new[segment]);
    }
    memory.spans = spans;
}

/// New text in both boxes (an example): nothing of the old text's edits applies.
pub fn replace(app: &App, text: &str, text_b: &str) {
    app.el.text.set_value(text);
    app.el.text_b.set_value(text_b);
    let mut memory = app.text.borrow_mut();
    memory.spans.clear();
    memory.boxes = boxes(app);
}

/// Marks every token that lies in a filled-in word (the chips' green).
pub fn mark_filled(app: &App, state: &mut tokens::TokenState) {
    let memory = app.text.borrow();
    for i in 0..state.len() {
        state.filled[i] = text_edits::is_filled(state, &memory.spans, i);
    }
}

/// `?text=…&text_b=…&k=…` (the model and backend parameters kept), without a reload.
pub fn write_url(app: &App) {
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
    app.text.borrow_mut().boxes = boxes(app);
}
