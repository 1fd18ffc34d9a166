//! Small DOM helpers. Untrusted text (tokens, model names, error messages) only ever
//! goes in through `textContent`, never as HTML.

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement};

pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the app runs in a page with a document")
}

pub fn by_id(id: &str) -> Option<Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// The element with `data-testid="{id}"` (the UI's stable hooks double as its handles).
pub fn by_testid(id: &str) -> Option<Element> {
    document()
        .query_selector(&format!("[data-testid=\"{id}\"]"))
        .ok()
        .flatten()
}

/// Every element of the page matching `selector`.
pub fn all(selector: &str) -> Vec<Element> {
    let Ok(list) = document().query_selector_all(selector) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

/// A new element with a class and text content.
pub fn el(tag: &str, class: &str, text: &str) -> Element {
    let e = document().create_element(tag).expect("valid tag name");
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if !text.is_empty() {
        e.set_text_content(Some(text));
    }
    e
}

pub fn set_text(e: &Element, text: &str) {
    e.set_text_content(Some(text));
}

pub fn clear(e: &Element) {
    e.set_text_content(None);
}

pub fn set_attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

pub fn set_hidden(e: &Element, hidden: bool) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        h.set_hidden(hidden);
    }
}

/// Adds a listener that lives as long as the page (its element does too).
pub fn on<E: JsCast + 'static>(target: &Element, event: &str, handler: impl FnMut(E) + 'static) {
    let mut handler = handler;
    let event = event.to_string();
    gloo_events::EventListener::new(target, event, move |e| {
        if let Ok(e) = e.clone().dyn_into::<E>() {
            handler(e);
        }
    })
    .forget();
}

/// The element matching `selector` at or above the event's target (event delegation,
/// so re-rendered lists need no new listeners).
pub fn closest(event: &web_sys::Event, selector: &str) -> Option<Element> {
    event
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest(selector)
        .ok()
        .flatten()
}

/// A `data-*` attribute parsed as a number.
pub fn data_usize(e: &Element, name: &str) -> Option<usize> {
    e.get_attribute(name)?.parse().ok()
}

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
