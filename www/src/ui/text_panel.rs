//! The text panel's events: typing, top-k, Predict (or Enter), Fill all, clicks on token
//! chips (mask or restore) and on predictions (fill in), and hovering a chip. Each edits
//! the text ([`text_state`]) and hands it to the refresh loop ([`refresh`]).

use web_sys::{Event, KeyboardEvent, MouseEvent};

use super::app::{AppRef, Phase, spawn};
use super::text_edits::TextEdit;
use super::{attention_panel, dom, fill_all, refresh, text_edits, text_state, tokens};

/// An edit of the text from a click, then the refresh; focus goes back to chip `focus`.
fn edit_then_refresh(app: &AppRef, edits: Vec<TextEdit>, filled: bool, focus: usize) {
    if !text_state::edit(app, &edits, filled) {
        return;
    }
    spawn(app, async move |a| {
        refresh::changed(a).await;
        tokens::focus(&a.el.tokens, focus);
    });
}

pub fn wire(app: &AppRef) {
    let inputs: [web_sys::Element; 2] = [app.el.text.clone().into(), app.el.text_b.clone().into()];
    for input in inputs {
        let a = app.clone();
        dom::on::<Event>(&input, "input", move |_| {
            text_state::typed(&a);
            spawn(&a, async |a| refresh::changed(a).await)
        });
    }
    let a = app.clone();
    dom::on::<Event>(&app.el.top_k, "input", move |_| {
        // The same text, refreshed; a top-k it refuses is said at the next Predict.
        match text_state::top_k(&a) {
            Ok(_) => spawn(&a, async |a| refresh::changed(a).await),
            Err(_) => text_state::write_url(&a),
        }
    });
    let a = app.clone();
    dom::on::<KeyboardEvent>(&app.el.text, "keydown", move |e| {
        if e.key() == "Enter" && !e.shift_key() {
            e.prevent_default();
            spawn(&a, async |a| refresh::now(a).await);
        }
    });
    let a = app.clone();
    dom::on::<Event>(&app.el.predict, "click", move |_| {
        a.clear_error(&a.el.text_error);
        spawn(&a, async |a| refresh::now(a).await)
    });
    let a = app.clone();
    dom::on::<Event>(&app.el.fill_all, "click", move |_| {
        // While filling, the same button stops after the fill under way.
        if a.phase() == Phase::Filling {
            return a.cancel_fill.set(true);
        }
        spawn(&a, async |a| fill_all::fill_all(a).await)
    });

    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.tokens, "click", move |e| {
        let Some(i) = dom::closest(&e, "[data-testid=\"token\"]")
            .and_then(|c| dom::data_usize(&c, "data-index"))
        else {
            return;
        };
        // Chips of an older text would edit the wrong characters: the new ones are a
        // moment away.
        if !a.tokens_current() {
            return;
        }
        // The chip's edit goes into the text; the chips are then the text's tokens again.
        let whole_word = a.el.whole_word.checked() || e.shift_key();
        let edits = {
            let state = a.tokens.borrow();
            if i < state.len() && state.is_mask(i) {
                text_edits::unmask_edit(&state, &a.text.borrow().spans, i)
                    .into_iter()
                    .collect()
            } else {
                text_edits::mask_edits(&state, i, whole_word)
            }
        };
        edit_then_refresh(&a, edits, false, i);
    });
    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.tokens, "mouseover", move |e| {
        let hover = dom::closest(&e, "[data-testid=\"token\"]")
            .and_then(|c| dom::data_usize(&c, "data-index"));
        attention_panel::set_hover(&a, hover);
    });
    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.tokens, "mouseleave", move |_| {
        attention_panel::set_hover(&a, None)
    });

    let a = app.clone();
    dom::on::<MouseEvent>(&app.el.predictions, "click", move |e| {
        let Some(row) = dom::closest(&e, "[data-testid=\"prediction\"]") else {
            return;
        };
        let (Some(position), Some(token)) = (
            dom::data_usize(&row, "data-mask-position"),
            row.get_attribute("data-text"),
        ) else {
            return;
        };
        // The predictions belong to the last pass: its tokens must still be the text's.
        let same =
            a.last_pass.borrow().as_ref().map(|p| &p.labels) == Some(&a.tokens.borrow().labels);
        if !a.tokens_current() || !same {
            return;
        }
        let fill = text_edits::fill_edit(&a.tokens.borrow(), position, &token);
        // The row clicked is redrawn: focus goes to the chip it filled.
        edit_then_refresh(&a, fill.into_iter().collect(), true, position);
    });
}
