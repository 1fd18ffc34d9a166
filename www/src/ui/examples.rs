//! Example sentences under the text box, chosen for the loaded model: for the embedded
//! model (trained on old books), blanks it fills right — measured with `bert fill-mask
//! --model assets` (top-1 in brackets); for any other model, everyday ones with its own
//! mask token, in several languages for multilingual XLM-RoBERTa and in French for CamemBERT.

use super::app::{AppRef, spawn};
use super::{dom, refresh, text_state};

/// The embedded model's top-1 for each: know, head, door, night, able, pocket.
const EMBEDDED: &[&str] = &[
    "I do not [MASK] what you mean.",
    "He shook his [MASK].",
    "She opened the [MASK] and went out.",
    "It was a dark and stormy [MASK].",
    "I shall be [MASK] to see you.",
    "She put the letter in her [MASK].",
];

const GENERAL: &[&str] = &[
    "The capital of France is [MASK].",
    "I drink my [MASK] with milk and sugar.",
    "She opened the [MASK] and went out.",
    "The [MASK] barked at the postman.",
    "It was a dark and stormy [MASK].",
];

/// XLM-RoBERTa was trained on a hundred languages.
const MULTILINGUAL: &[&str] = &[
    "The capital of France is [MASK].",
    "La capitale de la France est [MASK].",
    "Die Hauptstadt von Deutschland ist [MASK].",
    "La capital de España es [MASK].",
    "Mi piace mangiare la [MASK].",
    "Я люблю [MASK] чай.",
];

/// CamemBERT reads French.
const FRENCH: &[&str] = &[
    "La capitale de la France est [MASK].",
    "Le camembert est [MASK] !",
    "Elle a ouvert la [MASK] et elle est sortie.",
    "Il fait très [MASK] aujourd'hui.",
];

/// The examples for a model: the embedded one, or another of `model_type`, with its own
/// mask token (`<mask>` for RoBERTa's family) in place of `[MASK]`.
pub fn for_model(embedded: bool, model_type: &str, mask_token: &str) -> Vec<String> {
    let texts = match (embedded, model_type) {
        (true, _) => EMBEDDED,
        (_, "xlm-roberta") => MULTILINGUAL,
        (_, "camembert") => FRENCH,
        _ => GENERAL,
    };
    texts
        .iter()
        .map(|t| t.replace("[MASK]", mask_token))
        .collect()
}

/// Shows the examples as buttons; a click puts one in the text box and predicts.
pub fn render(app: &AppRef, examples: &[String]) {
    let container = &app.el.examples;
    dom::clear(container);
    for text in examples {
        let button = dom::el("button", "example", text);
        dom::set_attr(&button, "type", "button");
        dom::set_attr(&button, "data-testid", "example");
        let _ = container.append_child(&button);
    }
}

pub fn wire(app: &AppRef) {
    let a = app.clone();
    dom::on::<web_sys::MouseEvent>(&app.el.examples, "click", move |e| {
        let Some(text) = dom::closest(&e, "[data-testid=example]").and_then(|b| b.text_content())
        else {
            return;
        };
        text_state::replace(&a, &text, "");
        text_state::write_url(&a);
        spawn(&a, async |a| refresh::now(a).await);
    });
}
