//! The model view (as bertviz's): every layer × head attention map at once, small,
//! one row per layer; a click opens that map in the large heatmap. Drawn a layer at a
//! time with the event loop given back in between, so a bert-base-sized view (144 maps)
//! never holds up the page.

use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, MouseEvent};

use super::{AppRef, attention_panel, dom, heatmap, spawn};
use crate::event_loop::sleep_ms;

/// Smallest side of a map in pixels (a short input's cells are enlarged to it).
const MIN_SIDE: usize = 48;

/// Redraws the view for the maps on screen; a newer draw supersedes one under way.
pub fn draw(app: &AppRef) {
    let generation = app.model_view_generation.get() + 1;
    app.model_view_generation.set(generation);
    spawn(app, async move |app| {
        let container = &app.el.model_view;
        dom::clear(container);
        let Some((layers, heads)) = app
            .shown
            .borrow()
            .as_ref()
            .map(|s| (s.analysis.layers, s.analysis.heads))
        else {
            return;
        };
        for layer in 0..layers {
            if app.model_view_generation.get() != generation {
                return;
            }
            let row = dom::el("div", "model-row", "");
            let _ = row.append_child(&dom::el(
                "span",
                "model-row-label",
                &format!("L{}", layer + 1),
            ));
            {
                let shown = app.shown.borrow();
                let Some(shown) = shown.as_ref() else { return };
                let visible = attention_panel::visible_tokens(app, &shown.labels);
                let side = visible.len().max(MIN_SIDE) as u32;
                let view = heatmap::View {
                    seq: shown.analysis.seq,
                    visible: &visible,
                    labels: &shown.labels,
                    hover: None,
                    boundary: shown.boundary,
                    with_labels: false,
                };
                for head in 0..heads {
                    let c: HtmlCanvasElement = dom::el("canvas", "model-map", "").unchecked_into();
                    c.set_width(side);
                    c.set_height(side);
                    dom::set_attr(&c, "data-layer", &layer.to_string());
                    dom::set_attr(&c, "data-head", &head.to_string());
                    let label = format!("layer {}, head {}: click to enlarge", layer + 1, head + 1);
                    dom::set_attr(&c, "title", &label);
                    dom::set_attr(&c, "aria-label", &label);
                    dom::set_attr(&c, "role", "button");
                    dom::set_attr(&c, "tabindex", "0");
                    heatmap::draw(
                        &c,
                        &heatmap::matrix(&shown.analysis, layer, Some(head)),
                        &view,
                    );
                    let _ = row.append_child(&c);
                }
            }
            let _ = container.append_child(&row);
            // The next layer in a later task: typing and scrolling go on meanwhile.
            sleep_ms(0).await;
        }
    });
}

fn open(app: &AppRef, e: &web_sys::Event) {
    let Some(map) = dom::closest(e, "canvas[data-layer]") else {
        return;
    };
    let (Some(layer), Some(head)) = (
        dom::data_usize(&map, "data-layer"),
        dom::data_usize(&map, "data-head"),
    ) else {
        return;
    };
    app.el.layer.set_value(&layer.to_string());
    app.el.head.set_value(&head.to_string());
    attention_panel::draw(app);
    app.el.heatmap.scroll_into_view();
}

pub fn wire(app: &AppRef) {
    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.model_view, "click", move |e| open(&a, &e));
    let a = app.clone();
    dom::on::<web_sys::KeyboardEvent>(&app.el.model_view, "keydown", move |e| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            open(&a, &e);
        }
    });
}
