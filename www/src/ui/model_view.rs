//! The model view (as bertviz's): every layer × head attention map at once, small, one
//! row per layer. A pure view of a pass: it draws into its container and knows nothing
//! of the page (a click on a map is the attention panel's to handle). Drawn a layer at a
//! time with the event loop given back in between, so a bert-base-sized view (144 maps)
//! never holds up the page.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlCanvasElement};

use super::app::LastPass;
use super::{dom, heatmap};
use crate::global_scope::sleep_ms;

/// Smallest side of a map in pixels (a short input's cells are enlarged to it).
const MIN_SIDE: usize = 48;

/// Draws every map of `pass` into `container`, showing the tokens `visible`; stops
/// (leaving what it drew) once `cancel` is set. Returns at once: the layers are drawn
/// in later tasks.
pub fn draw(container: Element, pass: Rc<LastPass>, visible: Vec<usize>, cancel: Rc<Cell<bool>>) {
    dom::clear(&container);
    wasm_bindgen_futures::spawn_local(async move {
        let analysis = &pass.analysis;
        let side = visible.len().max(MIN_SIDE) as u32;
        let view = heatmap::View {
            seq: analysis.seq,
            visible: &visible,
            labels: &pass.labels,
            hover: None,
            boundary: pass.boundary,
            with_labels: false,
        };
        for layer in 0..analysis.layers {
            if cancel.get() {
                return;
            }
            let row = dom::el("div", "model-row", "");
            let _ = row.append_child(&dom::el(
                "span",
                "model-row-label",
                &format!("L{}", layer + 1),
            ));
            for head in 0..analysis.heads {
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
                heatmap::draw(&c, &heatmap::matrix(analysis, layer, Some(head)), &view);
                let _ = row.append_child(&c);
            }
            let _ = container.append_child(&row);
            // The next layer in a later task: typing and scrolling go on meanwhile.
            sleep_ms(0).await;
        }
    });
}

/// The map (layer, head) an event on the view landed on.
pub fn map_at(e: &web_sys::Event) -> Option<(usize, usize)> {
    let map = dom::closest(e, "canvas[data-layer]")?;
    Some((
        dom::data_usize(&map, "data-layer")?,
        dom::data_usize(&map, "data-head")?,
    ))
}
