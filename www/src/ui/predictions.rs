//! The top-k list for every mask, with probability bars; a row can be clicked to
//! fill its mask in.

use bert_burn::inference::MaskPredictions;

use wasm_bindgen::JsCast;

use super::dom;

pub fn render(container: &web_sys::Element, masks: &[MaskPredictions], tokens: &[String]) {
    dom::clear(container);
    if masks.is_empty() {
        let hint = dom::el(
            "p",
            "hint",
            "No [MASK] in the text: click a token above (or type [MASK]) to ask the model.",
        );
        let _ = container.append_child(&hint);
        return;
    }
    for (n, mask) in masks.iter().enumerate() {
        let card = dom::el("div", "mask-card", "");
        let context = context_around(tokens, mask.position);
        let title = dom::el(
            "h3",
            "",
            &format!("mask {} · position {} · {context}", n + 1, mask.position),
        );
        let _ = card.append_child(&title);
        for p in &mask.predictions {
            let row = dom::el("button", "prediction", "");
            dom::set_attr(&row, "type", "button");
            dom::set_attr(&row, "data-testid", "prediction");
            dom::set_attr(&row, "data-mask-position", &mask.position.to_string());
            dom::set_attr(&row, "data-token-id", &p.id.to_string());
            dom::set_attr(&row, "data-token", &p.token);
            dom::set_attr(&row, "title", "click to fill the mask with this token");
            let word = dom::el("span", "prediction-token", &p.token);
            let bar = dom::el("span", "bar", "");
            let fill = dom::el("span", "bar-fill", "");
            // Through the CSSOM: a `style` attribute would be inline style, which the page's
            // Content-Security-Policy refuses.
            if let Some(fill) = fill.dyn_ref::<web_sys::HtmlElement>() {
                let width = format!("{:.1}%", (p.probability * 100.0).clamp(0.0, 100.0));
                let _ = fill.style().set_property("width", &width);
            }
            let _ = bar.append_child(&fill);
            let prob = dom::el(
                "span",
                "prediction-prob",
                &format!("{:.1}%", p.probability * 100.0),
            );
            let _ = row.append_child(&word);
            let _ = row.append_child(&bar);
            let _ = row.append_child(&prob);
            let _ = card.append_child(&row);
        }
        let _ = container.append_child(&card);
    }
}

/// A few tokens either side of a mask, so each card says which mask it is.
fn context_around(tokens: &[String], position: usize) -> String {
    let from = position.saturating_sub(3);
    let to = (position + 4).min(tokens.len());
    tokens[from..to]
        .iter()
        .enumerate()
        .map(|(k, t)| {
            if from + k == position {
                "___".to_string()
            } else {
                t.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
