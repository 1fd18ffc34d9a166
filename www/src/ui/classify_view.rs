//! How a classification looks: every label's probability as a bar (or a token
//! checkpoint's labels as coloured chips), and what the `[CLS]` row attends to in each
//! layer. Drawn for the Classify panel, and in place of predictions when the loaded
//! model is a task checkpoint.

use bert_burn::Task;
use bert_burn::inference::{LabelScore, TokenLabel};
use wasm_bindgen::JsCast;
use web_sys::Element;

use super::app::App;
use super::dom;
use crate::client::Classification;

/// Mean over heads of the `[CLS]` row (query 0) of every layer: `[layer][key]`, from
/// maps laid out `[layer][head][query][key]`.
pub fn cls_attention(maps: &[f32], layers: usize, heads: usize, seq: usize) -> Vec<Vec<f32>> {
    if maps.len() != layers * heads * seq * seq || heads == 0 {
        return Vec::new();
    }
    (0..layers)
        .map(|l| {
            (0..seq)
                .map(|k| {
                    let sum: f32 = (0..heads)
                        .map(|h| maps[((l * heads + h) * seq) * seq + k])
                        .sum();
                    sum / heads as f32
                })
                .collect()
        })
        .collect()
}

/// A colour per label, apart for neighbouring ids; `O` (outside any entity) is grey.
pub fn label_colour(label: &str, id: usize) -> String {
    if label == "O" {
        return "hsl(0, 0%, 90%)".into();
    }
    format!("hsl({:.0}, 70%, 82%)", (id as f64 * 137.5) % 360.0)
}

fn set_style(e: &Element, property: &str, value: &str) {
    // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
    if let Some(e) = e.dyn_ref::<web_sys::HtmlElement>() {
        let _ = e.style().set_property(property, value);
    }
}

fn percent(p: f32) -> String {
    format!("{:.1}%", (p * 100.0).clamp(0.0, 100.0))
}

/// Every label with its probability, most likely first, as bars.
fn render_labels(container: &Element, labels: &[LabelScore]) {
    for s in labels {
        let row = dom::el("div", "prediction label-score", "");
        dom::set_attr(&row, "data-testid", "classify-label");
        dom::set_attr(&row, "data-label", &s.label);
        dom::set_attr(&row, "data-probability", &format!("{:.6}", s.probability));
        let bar = dom::el("span", "bar", "");
        let fill = dom::el("span", "bar-fill", "");
        set_style(&fill, "width", &percent(s.probability));
        let _ = bar.append_child(&fill);
        for part in [
            dom::el("span", "prediction-token", &s.label),
            bar,
            dom::el("span", "prediction-prob", &percent(s.probability)),
        ] {
            let _ = row.append_child(&part);
        }
        let _ = container.append_child(&row);
    }
}

/// Each token as a chip coloured by its label.
fn render_token_labels(container: &Element, labels: &[TokenLabel]) {
    let chips = dom::el("div", "tokens", "");
    for t in labels {
        let chip = dom::el("span", "token labelled", &t.token);
        dom::set_attr(&chip, "data-testid", "classify-token");
        dom::set_attr(&chip, "data-label", &t.label);
        dom::set_attr(&chip, "data-probability", &format!("{:.6}", t.probability));
        dom::set_attr(
            &chip,
            "title",
            &format!("{} {}", t.label, percent(t.probability)),
        );
        set_style(&chip, "background", &label_colour(&t.label, t.id));
        let tag = dom::el("small", "chip-label", &t.label);
        let _ = chip.append_child(&tag);
        let _ = chips.append_child(&chip);
    }
    let _ = container.append_child(&chips);
}

/// One row per layer: the tokens shaded by how much `[CLS]` attends to each (mean of the heads).
fn render_cls_rows(container: &Element, c: &Classification) {
    dom::clear(container);
    for (layer, row) in cls_attention(&c.attentions, c.layers, c.heads, c.seq)
        .iter()
        .enumerate()
    {
        let line = dom::el("div", "cls-row", "");
        dom::set_attr(&line, "data-layer", &layer.to_string());
        let _ = line.append_child(&dom::el("span", "cls-layer", &format!("layer {layer}")));
        let max = row.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
        for (token, weight) in c.tokens.iter().zip(row) {
            let chip = dom::el("span", "token", token);
            dom::set_attr(&chip, "data-weight", &format!("{weight:.4}"));
            dom::set_attr(&chip, "title", &format!("{token}: {}", percent(*weight)));
            let alpha = (weight / max).clamp(0.0, 1.0);
            set_style(
                &chip,
                "background",
                &format!("rgba(47, 95, 208, {alpha:.2})"),
            );
            if alpha > 0.55 {
                set_style(&chip, "color", "white");
            }
            let _ = line.append_child(&chip);
        }
        let _ = container.append_child(&line);
    }
}

/// Draws a classification: the labels (or token chips) and the `[CLS]` rows.
pub fn render(app: &App, c: &Classification) {
    let result = &app.el.classify_result;
    dom::clear(result);
    match c.task {
        Task::Token => render_token_labels(result, &c.token_labels),
        _ => render_labels(result, &c.labels),
    }
    render_cls_rows(&app.el.classify_attention, c);
}

/// A task checkpoint's pass of the text on screen: it has no masked-LM head, so its
/// labels stand in the Classify panel and the predictions say where to look.
pub fn show_as_prediction(app: &App, c: &Classification) {
    dom::clear(&app.el.predictions);
    let hint = dom::el(
        "p",
        "hint",
        "This checkpoint is a classifier: it has no masked-LM head to fill masks. Its labels for the text are in the Classify panel; its attention is below.",
    );
    let _ = app.el.predictions.append_child(&hint);
    let (text, _) = app.texts();
    app.el.classify_input.set_value(&text);
    render(app, c);
}

#[cfg(test)]
mod tests {
    use super::{cls_attention, label_colour};

    #[test]
    fn the_cls_row_is_the_mean_of_the_heads_first_query_row() {
        // 2 layers, 2 heads, 3 tokens: value = layer*100 + head*10 + query*3 + key.
        let (layers, heads, seq) = (2, 2, 3);
        let maps: Vec<f32> = (0..layers * heads * seq * seq)
            .map(|i| {
                let (l, h) = (i / (heads * seq * seq), (i / (seq * seq)) % heads);
                let (q, k) = ((i / seq) % seq, i % seq);
                (l * 100 + h * 10 + q * 3 + k) as f32
            })
            .collect();
        let rows = cls_attention(&maps, layers, heads, seq);
        assert_eq!(rows, vec![vec![5.0, 6.0, 7.0], vec![105.0, 106.0, 107.0]]);
        // Maps of the wrong size give nothing rather than a wrong picture.
        assert!(cls_attention(&maps[1..], layers, heads, seq).is_empty());
    }

    #[test]
    fn labels_get_distinct_colours_and_o_is_neutral() {
        assert_eq!(label_colour("O", 0), "hsl(0, 0%, 90%)");
        let colours: Vec<String> = (0..9).map(|i| label_colour("B-PER", i)).collect();
        for (i, a) in colours.iter().enumerate() {
            assert!(!colours[i + 1..].contains(a), "{a} repeats");
        }
    }
}
