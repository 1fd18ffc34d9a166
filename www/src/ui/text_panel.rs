//! The text panel: the sentence (and an optional second one) as token chips to mask,
//! Predict, Fill all, and the top-k for every mask.

use web_sys::{Event, KeyboardEvent, MouseEvent};

use super::text_edits;
use super::tokens::{self, TokenState};
use super::{
    AppRef, Phase, Shown, attention_panel, classify_panel, dom, fill_all, model_view, predictions,
    recover_from_lost_gpu, spawn, text_state,
};
use crate::client::{Analyzed, ModelWorker, RequestError};
use crate::event_loop::sleep_ms;
use bert_burn::Task;
use bert_burn::inference::{Analysis, AnalyzeOptions};

fn text_inputs(app: &AppRef) -> (String, Option<String>) {
    let a = app.el.text.value();
    let b = app.el.text_b.value();
    (a, (!b.trim().is_empty()).then_some(b))
}

/// The longest sentence (each box) the page tokenizes: the model reads at most its
/// `max_position_embeddings` tokens anyway; this keeps a pasted book from stalling it.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The most candidates shown per mask (the input's `max`).
pub const MAX_TOP_K: usize = 50;

/// The top-k box, or a message saying what it must be: `abc`, `0`, `-5` and `1e9` are
/// refused, never replaced by something else.
pub fn top_k(app: &AppRef) -> Result<usize, String> {
    let text = app.el.top_k.value();
    match text.trim().parse::<usize>() {
        Ok(k) if (1..=MAX_TOP_K).contains(&k) => Ok(k),
        _ => Err(format!(
            "top-k must be a whole number from 1 to {MAX_TOP_K} (it is \"{}\")",
            text.trim()
        )),
    }
}

/// Refuses a text box longer than [`MAX_TEXT_CHARS`], naming it.
fn check_length(text: &str, what: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(format!(
            "the {what} is {chars} characters long; the page takes up to {MAX_TEXT_CHARS} (the model reads only its first few hundred tokens)"
        ));
    }
    Ok(())
}

/// Tokenizes the text boxes afresh (typed `[MASK]`s become masks). Replies that come
/// back after a newer request was sent are dropped.
pub async fn retokenize(app: &AppRef) {
    let generation = app.tokenize_generation.get() + 1;
    app.tokenize_generation.set(generation);
    app.tokens_stale.set(true);
    let (Some(worker), Some((mask_id, mask_token, positions))) = (
        app.worker(),
        app.info
            .borrow()
            .as_ref()
            .map(|i| (i.mask_id, i.mask_token.clone(), i.max_positions)),
    ) else {
        return;
    };
    let (a, b) = text_inputs(app);
    let checked = check_length(&a, "sentence").and_then(|()| {
        b.as_deref()
            .map_or(Ok(()), |b| check_length(b, "second sentence"))
    });
    if let Err(e) = checked {
        // Nothing of an older text stays to be predicted on in its place.
        *app.tokens.borrow_mut() = TokenState::default();
        dom::clear(&app.el.tokens);
        return app.show_error_in(&app.el.text_error, &e);
    }
    if a.trim().is_empty() {
        // Nothing on screen may belong to a text that is gone.
        *app.tokens.borrow_mut() = TokenState::default();
        for e in [
            &app.el.tokens,
            &app.el.predictions,
            &app.el.layer_predictions,
            &app.el.model_view,
        ] {
            dom::clear(e);
        }
        dom::set_text(&app.el.token_note, "type a sentence to see its tokens");
        *app.shown.borrow_mut() = None;
        attention_panel::draw(app);
        app.tokens_stale.set(false);
        return;
    }
    let result = worker.tokenize(&a, b.as_deref()).await;
    if app.tokenize_generation.get() != generation {
        return;
    }
    match result {
        Ok(enc) => {
            let mut tokens = TokenState::new(&enc, mask_id, &mask_token);
            text_state::mark_filled(app, &mut tokens);
            tokens::render(&app.el.tokens, &tokens);
            let note = if tokens.truncated {
                format!(
                    "{} tokens (cut to the model's {positions} positions)",
                    tokens.len()
                )
            } else {
                format!("{} tokens · click a token to mask it", tokens.len())
            };
            dom::set_text(&app.el.token_note, &note);
            *app.tokens.borrow_mut() = tokens;
            app.tokens_stale.set(false);
        }
        Err(e) => app.show_error_in(&app.el.text_error, e.message()),
    }
}

pub async fn retokenize_if_stale(app: &AppRef) {
    if app.tokens_stale.get() {
        retokenize(app).await;
    }
}

/// Runs the model on the current tokens: predictions for every mask, then attentions.
pub async fn predict(app: &AppRef) {
    match app.phase() {
        Phase::Idle => {}
        // A run is under way: run again with the newest tokens when it ends.
        Phase::Predicting => return app.predict_again.set(true),
        _ => return,
    }
    app.set_phase(Phase::Predicting);
    // A change after this point makes this run's result stale on arrival.
    let generation = app.refresh_generation.get();
    retokenize_if_stale(app).await;
    let tokens = app.tokens.borrow().clone();
    let Some(worker) = app.worker().filter(|_| !tokens.is_empty()) else {
        // No text: the views were cleared with it.
        text_state::set_stale(app, false);
        return app.set_phase(Phase::Idle);
    };
    let top_k = match top_k(app) {
        Ok(k) => k,
        Err(e) => {
            app.set_phase(Phase::Idle);
            return app.show_error_in(&app.el.text_error, &e);
        }
    };
    app.set_status("running");
    let task = app.info.borrow().as_ref().map(|i| i.task);
    if task.is_some_and(|t| t != Task::MaskedLm) {
        return classify_text(app, &worker, &tokens, generation).await;
    }
    let started = dom::now_ms();
    // Never a special token as a filler; each layer's guess for the layer-by-layer view.
    let options = AnalyzeOptions {
        top_k,
        by_layer: true,
        words_only: true,
    };
    let result = worker.analyze(&tokens.ids, &tokens.type_ids, options).await;
    let ms = dom::now_ms() - started;
    match result {
        Ok(Analyzed {
            analysis,
            kernels,
            reads,
        }) => {
            let runs = app.runs.get() + 1;
            app.runs.set(runs);
            let note = if runs == 1 {
                " (first run: includes compiling the GPU kernels)"
            } else {
                ""
            };
            let device = if kernels > 0 {
                format!(" · {kernels} GPU kernels, {reads} read")
            } else {
                String::new()
            };
            dom::set_text(
                &app.el.timing,
                &format!("inference {ms:.0} ms{device}{note}"),
            );
            dom::set_attr(&app.el.timing, "data-kernels", &kernels.to_string());
            predictions::render(&app.el.predictions, &analysis.masks, &tokens.tokens);
            warn_of_cut_masks(app, &tokens);
            if app.refresh_generation.get() == generation {
                text_state::set_stale(app, false);
            }
            predictions::render_by_layer(&app.el.layer_predictions, &analysis.masks);
            let (layers, heads) = (analysis.layers, analysis.heads);
            *app.shown.borrow_mut() = Some(Shown::new(
                analysis,
                tokens.tokens.clone(),
                tokens.segment_boundary(),
            ));
            // The predictions are on screen before the maps are drawn.
            sleep_ms(0).await;
            attention_panel::fill_selects(app, layers, heads);
            attention_panel::draw(app);
            model_view::draw(app);
            app.set_status("ready");
            // Lets tests and benchmarks see that a run finished and how long it took.
            dom::set_attr(&app.el.timing, "data-runs", &runs.to_string());
            dom::set_attr(&app.el.timing, "data-ms", &format!("{ms:.1}"));
            app.set_phase(Phase::Idle);
        }
        Err(RequestError::DeviceLost(e)) => {
            app.set_phase(Phase::Idle);
            return Box::pin(recover_from_lost_gpu(app, &e)).await;
        }
        // The worker's death is handled where it is noticed.
        Err(RequestError::WorkerDied(_)) => return,
        Err(RequestError::Failed(e)) => {
            app.set_phase(Phase::Idle);
            app.show_error_in(&app.el.text_error, &e);
        }
    }
    if app.predict_again.replace(false) {
        Box::pin(predict(app)).await;
    }
}

/// Typed masks the tokenizer cut off (past the model's position limit) are named as
/// such, not passed over as if there were none.
fn warn_of_cut_masks(app: &AppRef, tokens: &TokenState) {
    if !tokens.truncated {
        return;
    }
    let (a, b) = text_inputs(app);
    let typed = |t: &str| t.matches(tokens.mask_token.as_str()).count();
    let in_text = typed(&a) + b.as_deref().map_or(0, typed);
    let kept = (0..tokens.len()).filter(|&i| tokens.is_mask(i)).count();
    let cut = in_text.saturating_sub(kept);
    if cut == 0 {
        return;
    }
    let limit = app.info.borrow().as_ref().map_or(0, |i| i.max_positions);
    if tokens.mask_positions().is_empty() {
        dom::clear(&app.el.predictions);
    }
    let warning = dom::el(
        "p",
        "error-inline",
        &format!(
            "{cut} {} past the model's limit of {limit} tokens: the text was cut there, so the model cannot predict {}",
            tokens.mask_token,
            if cut == 1 { "it" } else { "them" }
        ),
    );
    dom::set_attr(&warning, "data-testid", "error");
    let _ = app
        .el
        .predictions
        .insert_before(&warning, app.el.predictions.first_child().as_ref());
}

/// A task checkpoint has no masked-LM head: Predict classifies the text instead (shown in
/// the Classify panel) and the attention panel shows that pass's maps.
async fn classify_text(app: &AppRef, worker: &ModelWorker, tokens: &TokenState, generation: u32) {
    let (text, text_b) = text_inputs(app);
    let result = worker.classify(&text, text_b.as_deref()).await;
    app.set_phase(Phase::Idle);
    match result {
        Ok(c) => {
            dom::clear(&app.el.predictions);
            let hint = dom::el(
                "p",
                "hint",
                "This checkpoint is a classifier: it has no masked-LM head to fill masks. Its labels for the text are in the Classify panel; its attention is below.",
            );
            let _ = app.el.predictions.append_child(&hint);
            app.el.classify_input.set_value(&text);
            classify_panel::render(app, &c);
            if app.refresh_generation.get() == generation {
                text_state::set_stale(app, false);
            }
            let runs = app.runs.get() + 1;
            app.runs.set(runs);
            let (layers, heads, seq) = (c.layers, c.heads, c.seq);
            let analysis = Analysis {
                masks: Vec::new(),
                layers,
                heads,
                seq,
                attentions: c.attentions,
            };
            *app.shown.borrow_mut() = Some(Shown::new(
                analysis,
                tokens.tokens.clone(),
                tokens.segment_boundary(),
            ));
            dom::clear(&app.el.layer_predictions);
            attention_panel::fill_selects(app, layers, heads);
            attention_panel::draw(app);
            model_view::draw(app);
            app.set_status("ready");
            dom::set_attr(&app.el.timing, "data-runs", &runs.to_string());
        }
        Err(RequestError::DeviceLost(e)) => Box::pin(recover_from_lost_gpu(app, &e)).await,
        Err(RequestError::WorkerDied(_)) => {}
        Err(RequestError::Failed(e)) => app.show_error_in(&app.el.text_error, &e),
    }
}

pub fn wire(app: &AppRef) {
    let inputs: [web_sys::Element; 2] = [app.el.text.clone().into(), app.el.text_b.clone().into()];
    for input in inputs {
        let a = app.clone();
        dom::on::<Event>(&input, "input", move |_| {
            spawn(&a, async |a| text_state::typed(a).await)
        });
    }
    let a = app.clone();
    dom::on::<Event>(&app.el.top_k, "input", move |_| {
        text_state::top_k_changed(&a)
    });
    let a = app.clone();
    dom::on::<KeyboardEvent>(&app.el.text, "keydown", move |e| {
        if e.key() == "Enter" && !e.shift_key() {
            e.prevent_default();
            spawn(&a, async |a| predict(a).await);
        }
    });
    let a = app.clone();
    dom::on::<Event>(&app.el.predict, "click", move |_| {
        a.clear_error(&a.el.text_error);
        spawn(&a, async |a| predict(a).await)
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
        // The chip's edit goes into the text; the chips are then the text's tokens again.
        let whole_word = a.el.whole_word.checked() || e.shift_key();
        let edits = {
            let state = a.tokens.borrow();
            if i < state.len() && state.is_mask(i) {
                text_edits::unmask_edit(&state, &a.spans.borrow(), i)
                    .into_iter()
                    .collect()
            } else {
                text_edits::mask_edits(&state, i, whole_word)
            }
        };
        spawn(&a, async move |a| {
            text_state::edit(a, edits, false).await;
            tokens::focus(&a.el.tokens, i);
        });
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
            row.get_attribute("data-token"),
        ) else {
            return;
        };
        let fill = text_edits::fill_edit(&a.tokens.borrow(), position, &token);
        spawn(&a, async move |a| {
            text_state::edit(a, fill.into_iter().collect(), true).await;
            // The row clicked is redrawn: focus goes to the chip it filled.
            tokens::focus(&a.el.tokens, position);
        });
    });
}
