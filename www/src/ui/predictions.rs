//! The top-k list for every mask, with probability bars; a row can be clicked to
//! fill its mask in.

use bert_burn::inference::MaskPredictions;

use wasm_bindgen::JsCast;

use super::dom;
use super::tokens::TokenState;

pub fn render(container: &web_sys::Element, masks: &[MaskPredictions], tokens: &TokenState) {
    dom::clear(container);
    if masks.is_empty() {
        let mask = &tokens.mask_token;
        let hint = dom::el(
            "p",
            "hint",
            &format!(
                "No {mask} in the text: click a token above (or type {mask}) to ask the model."
            ),
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
            let word = dom::el("b", "", &best.text);
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
            dom::set_attr(&row, "data-text", &p.text);
            let (before, after) = filled_sentence(tokens, mask.position);
            let filled = format!("{before}{}{after}", p.text);
            dom::set_attr(&row, "title", &format!("{filled} (click to fill it in)"));
            // WordPiece's `##` says the piece joins the word before; other tokenizers' word
            // markers (`Ġ`, `▁`) are spaces, shown as the text they make.
            let shown = if p.token.starts_with("##") {
                &p.token
            } else {
                &p.text
            };
            let word = dom::el("span", "prediction-token", shown);
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

/// The text around `position` rebuilt from its tokens as they read (tokens the tokenizer
/// added left out, pieces joined where the text has no space between them, other masks as
/// `___`): what comes before the filler (with the space it needs) and after it.
pub fn filled_sentence(tokens: &TokenState, position: usize) -> (String, String) {
    let added = tokens.added();
    // Each shown token, and whether it attaches to what precedes it (no space).
    let shown = |range: std::ops::Range<usize>| {
        range
            // A bare word-start marker (SentencePiece's lone `▁`) is a space, not a word.
            .filter(|&i| !added[i] && tokens.labels[i] != "␣")
            .map(|i| {
                let label = &tokens.labels[i];
                let text = if tokens.is_mask(i) {
                    "___".to_string()
                } else {
                    label.strip_prefix("##").unwrap_or(label).to_string()
                };
                (text, tokens.attached(i))
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
    if !before.is_empty() && !tokens.attached(position) {
        before.push(' ');
    }
    let after = join(shown((position + 1).min(tokens.len())..tokens.len()), true);
    (before, after)
}

/// A few tokens either side of a mask, so each card says which mask it is.
fn context_around(tokens: &TokenState, position: usize) -> String {
    let from = position.saturating_sub(3);
    let to = (position + 4).min(tokens.len());
    (from..to)
        .map(|i| {
            if i == position {
                "___".to_string()
            } else {
                tokens.labels[i].clone()
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
    use bert_burn::BertTokenizer;

    use super::filled_sentence;
    use crate::ui::tokens::TokenState;

    fn state(fixture: &str, text: &str) -> TokenState {
        let path = format!(
            "{}/../tests/fixtures/models/{fixture}/tokenizer.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let tokenizer = BertTokenizer::from_json(&std::fs::read(path).unwrap(), 64).unwrap();
        let enc = tokenizer.encode(text, None).unwrap();
        TokenState::new(&enc, tokenizer.mask_id(), tokenizer.mask_token())
    }

    #[test]
    fn the_filled_sentence_joins_word_pieces_and_punctuation() {
        let t = state("gelu-f32", "she opened the [MASK] and [MASK].");
        let first = t.mask_positions()[0];
        let (before, after) = filled_sentence(&t, first);
        assert_eq!(
            format!("{before}door{after}"),
            "she opened the door and ___."
        );
        let (before, after) = filled_sentence(&t, 1);
        assert_eq!(format!("{before}he{after}"), "he opened the ___ and ___.");
    }

    #[test]
    fn byte_level_and_sentencepiece_sentences_read_as_written() {
        for (fixture, mask) in [
            ("family-roberta", "<mask>"),
            ("family-xlm-roberta", "<mask>"),
        ] {
            let t = state(fixture, &format!("The quick brown {mask} jumps."));
            let m = t.mask_positions()[0];
            let (before, after) = filled_sentence(&t, m);
            assert_eq!(
                format!("{before}fox{after}"),
                "The quick brown fox jumps.",
                "{fixture}: {:?}",
                t.labels
            );
            assert!(
                t.labels
                    .iter()
                    .all(|l| !l.contains('Ġ') && !l.contains('▁')),
                "{fixture}: {:?}",
                t.labels
            );
        }
    }
}
