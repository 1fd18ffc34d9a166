//! The attention panel: the chosen layer's and head's map (or the mean of the heads, or
//! the attention rollout up to that layer), the layer's heads as thumbnails, hover to
//! highlight a token's row and column; it also draws the model view of every map
//! ([`model_view`]) and opens a map clicked there.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlCanvasElement, KeyboardEvent, MouseEvent};

use bert_burn::inference::attention_rollout;

use super::app::{App, AppRef, LastPass};
use super::{dom, heatmap, model_view};

/// A new pass to show: the layer and head choices for its shape, the maps, the model view.
pub fn show(app: &App, layers: usize, heads: usize) {
    fill_selects(app, layers, heads);
    draw(app);
    draw_model_view(app);
}

/// Redraws the model view for the last pass (a draw under way stops).
fn draw_model_view(app: &App) {
    let cancel = Rc::new(Cell::new(false));
    app.model_view_cancel.replace(cancel.clone()).set(true);
    let pass = app.last_pass.borrow().clone();
    match pass {
        Some(pass) => {
            let visible = visible_tokens(app, &pass);
            model_view::draw(app.el.model_view.clone(), pass, visible, cancel);
        }
        None => dom::clear(&app.el.model_view),
    }
}

fn fill_selects(app: &App, layers: usize, heads: usize) {
    let (layer, head) = (&app.el.layer, &app.el.head);
    if layer.length() as usize != layers {
        dom::clear(layer);
        for l in 0..layers {
            let o = dom::el("option", "", &format!("layer {}", l + 1));
            dom::set_attr(&o, "value", &l.to_string());
            let _ = layer.append_child(&o);
        }
    }
    if head.length() as usize != heads + 2 {
        dom::clear(head);
        let mean = dom::el("option", "", "mean of heads");
        dom::set_attr(&mean, "value", "mean");
        let _ = head.append_child(&mean);
        let rollout = dom::el("option", "", "attention rollout (through the layers)");
        dom::set_attr(&rollout, "value", ROLLOUT);
        dom::set_attr(&rollout, "data-testid", "rollout-option");
        let _ = head.append_child(&rollout);
        for h in 0..heads {
            let o = dom::el("option", "", &format!("head {}", h + 1));
            dom::set_attr(&o, "value", &h.to_string());
            let _ = head.append_child(&o);
        }
    }
}

/// The head select's value for attention rollout.
const ROLLOUT: &str = "rollout";

fn selected_layer_head(app: &App) -> (usize, Option<usize>) {
    (
        app.el.layer.value().parse().unwrap_or(0),
        app.el.head.value().parse().ok(),
    )
}

/// Visible rows/columns: all tokens, or, when hidden, all but the special tokens the
/// tokenizer added around the text (`[CLS]`/`[SEP]`, `<s>`/`</s>`).
fn visible_tokens(app: &App, pass: &LastPass) -> Vec<usize> {
    let hide = app.el.hide_special.checked();
    (0..pass.labels.len())
        .filter(|&i| !hide || !pass.added.get(i).copied().unwrap_or(false))
        .collect()
}

fn view<'a>(pass: &'a LastPass, visible: &'a [usize], hover: Option<usize>) -> heatmap::View<'a> {
    heatmap::View {
        seq: pass.analysis.seq,
        visible,
        labels: &pass.labels,
        hover,
        boundary: pass.boundary,
        with_labels: true,
    }
}

/// Redraws the big map, its table (when open) and the layer's head thumbnails.
pub fn draw(app: &App) {
    render(app, true);
}

/// `full`: the table and thumbnails too; a hover changes only the big map's highlight.
fn render(app: &App, full: bool) {
    let Some(pass) = app.last_pass.borrow().clone() else {
        return;
    };
    let pass = &*pass;
    let analysis = &pass.analysis;
    let (layer, head) = selected_layer_head(app);
    let layer = layer.min(analysis.layers.saturating_sub(1));
    let visible = visible_tokens(app, pass);
    let big = view(pass, &visible, app.hover.get());
    let rollout = app.el.head.value() == ROLLOUT;
    let caption = if rollout {
        let size = analysis.seq * analysis.seq;
        let all = pass.rollout.get_or_init(|| {
            attention_rollout(
                &analysis.attentions,
                analysis.layers,
                analysis.heads,
                analysis.seq,
            )
            .unwrap_or_default()
        });
        match all.get(layer * size..(layer + 1) * size) {
            Some(map) => {
                let max = heatmap::draw(&app.el.heatmap, map, &big);
                if full {
                    shown_map(app, map, max);
                    table(app, map, &big);
                }
            }
            None => return,
        }
        format!(
            "attention rollout through layers 1–{} (Abnar & Zuidema 2020: the mean of the heads and the residual path, multiplied layer by layer): row = token, column = input token it draws on",
            layer + 1
        )
    } else {
        let map = heatmap::matrix(analysis, layer, head);
        let max = heatmap::draw(&app.el.heatmap, &map, &big);
        if full {
            shown_map(app, &map, max);
            table(app, &map, &big);
        }
        let which = head.map_or("mean of all heads".to_string(), |h| {
            format!("head {}", h + 1)
        });
        format!(
            "layer {}, {which}: row = query token, column = attended token",
            layer + 1
        )
    };
    dom::set_text(&app.el.heatmap_caption, &caption);
    if !full {
        return;
    }

    let grid = &app.el.head_grid;
    dom::clear(grid);
    let thumb_view = heatmap::View {
        with_labels: false,
        hover: None,
        ..big
    };
    for h in 0..analysis.heads {
        let cell = dom::el(
            "button",
            if head == Some(h) {
                "thumb selected"
            } else {
                "thumb"
            },
            "",
        );
        dom::set_attr(&cell, "type", "button");
        dom::set_attr(&cell, "data-head", &h.to_string());
        dom::set_attr(
            &cell,
            "title",
            &format!("layer {}, head {}: click to enlarge", layer + 1, h + 1),
        );
        let c: HtmlCanvasElement = dom::el("canvas", "", "").unchecked_into();
        c.set_width(96);
        c.set_height(96);
        dom::set_attr(
            &c,
            "aria-label",
            &format!("attention of layer {}, head {}", layer + 1, h + 1),
        );
        heatmap::draw(&c, &heatmap::matrix(analysis, layer, Some(h)), &thumb_view);
        let _ = cell.append_child(&c);
        let _ = cell.append_child(&dom::el("span", "", &format!("head {}", h + 1)));
        let _ = grid.append_child(&cell);
    }
}

/// Keeps the map on screen for the hover readout and sets the legend's top value.
fn shown_map(app: &App, map: &[f32], max: f32) {
    *app.drawn_map.borrow_mut() = map.to_vec();
    dom::set_text(&app.el.legend_max, &format!("{max:.3}"));
}

/// "query → key: value" for the cell under the pointer (or nothing off the map).
fn show_value(app: &App, e: &MouseEvent) {
    let text = (|| {
        let pass = app.last_pass.borrow().clone()?;
        let visible = visible_tokens(app, &pass);
        let v = view(&pass, &visible, None);
        let c = &app.el.heatmap;
        let rect = c.get_bounding_client_rect();
        let sx = c.width() as f64 / rect.width().max(1.0);
        let sy = c.height() as f64 / rect.height().max(1.0);
        let (q, k) = heatmap::cell_at(c, e.offset_x() as f64 * sx, e.offset_y() as f64 * sy, &v)?;
        let value = *app.drawn_map.borrow().get(q * pass.analysis.seq + k)?;
        Some(format!(
            "“{}” (row {q}) → “{}” (column {k}): {value:.3}",
            pass.labels[q], pass.labels[k]
        ))
    })();
    dom::set_text(&app.el.heatmap_value, text.as_deref().unwrap_or(""));
}

/// The map on screen as a table (the canvas's text alternative), while its box is open.
fn table(app: &App, map: &[f32], view: &heatmap::View<'_>) {
    let container = &app.el.heatmap_table;
    dom::clear(container);
    if !app.el.heatmap_table_box.has_attribute("open") {
        return;
    }
    let table = dom::el("table", "", "");
    let header = dom::el("tr", "", "");
    let _ = header.append_child(&dom::el("th", "", "query \\ key"));
    for &k in view.visible {
        let _ = header.append_child(&dom::el("th", "", &view.labels[k]));
    }
    let _ = table.append_child(&header);
    for &q in view.visible {
        let row = dom::el("tr", "", "");
        let _ = row.append_child(&dom::el("th", "", &view.labels[q]));
        for &k in view.visible {
            let value = format!("{:.3}", map[q * view.seq + k]);
            let _ = row.append_child(&dom::el("td", "", &value));
        }
        let _ = table.append_child(&row);
    }
    let _ = container.append_child(&table);
}

pub fn set_hover(app: &App, hover: Option<usize>) {
    if app.hover.get() == hover {
        return;
    }
    app.hover.set(hover);
    if let Ok(chips) = app.el.tokens.query_selector_all("[data-testid=\"token\"]") {
        for i in 0..chips.length() {
            if let Some(chip) = chips
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let on = hover.is_some() && dom::data_usize(&chip, "data-index") == hover;
                let _ = chip.class_list().toggle_with_force("hover", on);
            }
        }
    }
    render(app, false);
}

/// The token under the pointer on the big map.
fn token_under(app: &App, e: &MouseEvent) -> Option<usize> {
    let pass = app.last_pass.borrow().clone()?;
    let visible = visible_tokens(app, &pass);
    let v = heatmap::View {
        hover: None,
        ..view(&pass, &visible, None)
    };
    // The canvas may be scaled by CSS: map client pixels to canvas pixels.
    let c = &app.el.heatmap;
    let rect = c.get_bounding_client_rect();
    let sx = c.width() as f64 / rect.width().max(1.0);
    let sy = c.height() as f64 / rect.height().max(1.0);
    heatmap::token_at(c, e.offset_x() as f64 * sx, e.offset_y() as f64 * sy, &v)
}

/// Opens the model view's map under `e` in the large heatmap.
fn open(app: &App, e: &web_sys::Event) {
    let Some((layer, head)) = model_view::map_at(e) else {
        return;
    };
    app.el.layer.set_value(&layer.to_string());
    app.el.head.set_value(&head.to_string());
    draw(app);
    app.el.heatmap.scroll_into_view();
}

pub fn wire(app: &AppRef) {
    let controls: [web_sys::Element; 3] = [
        app.el.layer.clone().into(),
        app.el.head.clone().into(),
        app.el.hide_special.clone().into(),
    ];
    for select in controls {
        let a = app.clone();
        dom::on::<Event>(&select, "change", move |_| draw(&a));
    }
    let a = app.clone();
    dom::on::<Event>(&app.el.heatmap_table_box, "toggle", move |_| draw(&a));
    // Hiding [CLS]/[SEP] changes every map of the model view too.
    let a = app.clone();
    dom::on::<Event>(&app.el.hide_special, "change", move |_| draw_model_view(&a));
    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.model_view, "click", move |e| open(&a, &e));
    let a = app.clone();
    dom::on::<KeyboardEvent>(&app.el.model_view, "keydown", move |e| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            open(&a, &e);
        }
    });
    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.head_grid, "click", move |e| {
        let Some(h) =
            dom::closest(&e, "[data-head]").and_then(|c| dom::data_usize(&c, "data-head"))
        else {
            return;
        };
        a.el.head.set_value(&h.to_string());
        draw(&a);
    });
    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.heatmap, "mousemove", move |e| {
        let hover = token_under(&a, &e);
        set_hover(&a, hover);
        show_value(&a, &e);
    });
    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.heatmap, "mouseleave", move |_| set_hover(&a, None));
}
