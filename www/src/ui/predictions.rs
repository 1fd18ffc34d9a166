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
        if let Some(best) = mask.predictions.first() {
            // The sentence as the top candidate makes it, the candidate in bold.
            let (before, after) = filled_sentence(tokens, mask.position);
            let line = dom::el("p", "filled", "");
            dom::set_attr(&line, "data-testid", "filled-sentence");
            let word = dom::el("b", "", &best.token.replace("##", ""));
            let _ = line.append_with_str_1(&before);
            let _ = line.append_child(&word);
            let _ = line.append_with_str_1(&after);
            let _ = card.append_child(&line);
        }
        for p in &mask.predictions {
            let row = dom::el("button", "prediction", "");
            dom::set_attr(&row, "type", "button");
            dom::set_attr(&row, "data-testid", "prediction");
            dom::set_attr(&row, "data-mask-position", &mask.position.to_string());
            dom::set_attr(&row, "data-token-id", &p.id.to_string());
            dom::set_attr(&row, "data-token", &p.token);
            let (before, after) = filled_sentence(tokens, mask.position);
            let filled = format!("{before}{}{after}", p.token.replace("##", ""));
            dom::set_attr(&row, "title", &format!("{filled} (click to fill it in)"));
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

/// The text around `position` rebuilt from its word pieces (special tokens left out,
/// `##` pieces joined to their word, other masks as `___`): what comes before the filler
/// (with the space it needs) and after it.
pub fn filled_sentence(tokens: &[String], position: usize) -> (String, String) {
    // Each shown token, and whether it attaches to what precedes it (no space).
    let shown = |range: std::ops::Range<usize>| {
        tokens[range]
            .iter()
            .filter(|t| !matches!(t.as_str(), "[CLS]" | "[SEP]" | "[PAD]"))
            .map(|t| match (t.as_str(), t.strip_prefix("##")) {
                ("[MASK]", _) => ("___".to_string(), false),
                (_, Some(piece)) => (piece.to_string(), true),
                (t, None) => (t.to_string(), t.chars().all(|c| ".,;:!?)'".contains(c))),
            })
            .collect::<Vec<_>>()
    };
    let join = |words: Vec<(String, bool)>, leading: bool| {
        let mut out = String::new();
        for (word, attached) in words {
            if !attached && (leading || !out.is_empty()) {
                out.push(' ');
            }
            out.push_str(&word);
        }
        out
    };
    let position = position.min(tokens.len());
    let mut before = join(shown(0..position), false);
    if !before.is_empty() {
        before.push(' ');
    }
    let after = join(shown((position + 1).min(tokens.len())..tokens.len()), true);
    (before, after)
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

/// How the guess at the first mask forms: one row per hidden state (the embeddings, then
/// each layer) with the MLM head's top candidates there. Empty without a mask.
pub fn render_by_layer(container: &web_sys::Element, masks: &[MaskPredictions]) {
    dom::clear(container);
    let Some(mask) = masks.first().filter(|m| !m.by_layer.is_empty()) else {
        return;
    };
    let title = dom::el(
        "h3",
        "",
        &format!(
            "Layer by layer: the MLM head on each layer's hidden state at mask 1 (position {})",
            mask.position
        ),
    );
    let _ = container.append_child(&title);
    let last = mask.by_layer.len() - 1;
    for (layer, candidates) in mask.by_layer.iter().enumerate() {
        let row = dom::el("div", "layer-row", "");
        dom::set_attr(&row, "data-layer", &layer.to_string());
        if let Some(top) = candidates.first() {
            dom::set_attr(&row, "data-token-id", &top.id.to_string());
            dom::set_attr(&row, "data-token", &top.token);
        }
        let name = match layer {
            0 => "embeddings".to_string(),
            l if l == last => format!("layer {l} (output)"),
            l => format!("layer {l}"),
        };
        let _ = row.append_child(&dom::el("span", "layer-name", &name));
        for (k, c) in candidates.iter().take(3).enumerate() {
            let class = if k == 0 {
                "layer-guess top"
            } else {
                "layer-guess"
            };
            let text = format!("{} {:.1}%", c.token, c.probability * 100.0);
            let _ = row.append_child(&dom::el("span", class, &text));
        }
        let _ = container.append_child(&row);
    }
}

#[cfg(test)]
mod tests {
    use super::filled_sentence;

    #[test]
    fn the_filled_sentence_joins_word_pieces_and_punctuation() {
        let t: Vec<String> = [
            "[CLS]", "she", "open", "##ed", "the", "[MASK]", "and", "[MASK]", ".", "[SEP]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (before, after) = filled_sentence(&t, 5);
        assert_eq!(
            format!("{before}door{after}"),
            "she opened the door and ___."
        );
        let (before, after) = filled_sentence(&t, 1);
        assert_eq!(format!("{before}he{after}"), "he opened the ___ and ___.");
    }
}
