//! The one way through the page: text in, views out. Every change of the text or top-k
//! comes here ([`changed`]): the chips follow at once (the worker tokenizes), and once the
//! text has been quiet for a moment the model runs on it — one request that sends the
//! text and gets back its tokens, the predictions for every mask and every attention map
//! ([`now`]). That last pass is then drawn by every view: the predictions, the layer by
//! layer guesses, the heatmap and the model view (or, for a task checkpoint, its labels).
//! One generation counter says which change a reply belongs to.

use std::rc::Rc;

use bert_burn::Task;
use bert_burn::inference::{Analysis, AnalyzeOptions};

use super::app::{App, AppRef, LastPass, Phase, spawn};
use super::tokens::{self, TokenState};
use super::{attention_panel, classify_view, dom, predictions, text_state};
use crate::client::{Analyzed, Classification, RequestError};
use crate::global_scope::sleep_ms;

/// Quiet time after the last change before the model runs again.
const REFRESH_AFTER_MS: u32 = 250;

/// The text (or top-k) changed: the views are marked stale, the chips redrawn for the
/// new text, and the model runs again once the text has been quiet for a moment (a
/// newer change supersedes this one).
pub async fn changed(app: &AppRef) {
    let generation = bump(app);
    app.clear_error(&app.el.text_error);
    text_state::write_url(app);
    set_stale(app, true);
    if !app.tokens_current() {
        show_tokens(app).await;
    }
    spawn(app, async move |app| {
        sleep_ms(REFRESH_AFTER_MS).await;
        if app.refresh.generation.get() == generation {
            run(app).await;
        }
    });
}

/// Runs the model on the text now (Predict, Enter, a model loaded or trained), dropping a
/// refresh still waiting.
pub async fn now(app: &AppRef) {
    bump(app);
    // After a model loads, the chips are its tokenizer's to redraw.
    if !app.tokens_current() {
        show_tokens(app).await;
    }
    run(app).await;
}

fn bump(app: &App) -> u32 {
    let generation = app.refresh.generation.get().wrapping_add(1);
    app.refresh.generation.set(generation);
    generation
}

/// Shows whether the predictions and attention belong to the text on screen.
fn set_stale(app: &App, stale: bool) {
    for e in [&app.el.predictions, &app.el.attention_views] {
        let _ = e.class_list().toggle_with_force("stale", stale);
        dom::set_attr(e, "data-stale", if stale { "true" } else { "false" });
    }
}

/// The chips of the text boxes as they are now; a reply for an older text is dropped.
async fn show_tokens(app: &AppRef) {
    let (a, b) = app.texts();
    if a.trim().is_empty() {
        return clear_views(app);
    }
    let Some(worker) = app.worker() else { return };
    let result = worker.tokenize(&a, b.as_deref()).await;
    if app.texts() != (a, b) {
        return;
    }
    match result {
        Ok(encoding) => set_tokens(app, app.token_state(&encoding)),
        Err(e) => {
            // Nothing of an older text stays to be clicked in its place.
            set_tokens(app, TokenState::default());
            app.fail(&app.el.text_error, e);
        }
    }
}

/// Makes `tokens` the chips of the text boxes as they are now.
fn set_tokens(app: &App, mut tokens: TokenState) {
    text_state::mark_filled(app, &mut tokens);
    tokens::render(&app.el.tokens, &tokens);
    let note = match (tokens.is_empty(), tokens.truncated) {
        (true, _) => String::new(),
        (false, true) => format!(
            "{} tokens (cut to the model's {} positions)",
            tokens.len(),
            app.info.borrow().as_ref().map_or(0, |i| i.max_positions)
        ),
        (false, false) => format!("{} tokens · click a token to mask it", tokens.len()),
    };
    dom::set_text(&app.el.token_note, &note);
    *app.tokens.borrow_mut() = tokens;
    *app.tokens_text.borrow_mut() = [app.el.text.value(), app.el.text_b.value()];
}

/// No text: nothing on screen may belong to a text that is gone.
fn clear_views(app: &App) {
    // A model-view draw under way would add rows of the old text's maps.
    app.model_view_cancel.borrow().set(true);
    set_tokens(app, TokenState::default());
    for e in [
        &app.el.predictions,
        &app.el.layer_predictions,
        &app.el.model_view,
    ] {
        dom::clear(e);
    }
    dom::set_text(&app.el.token_note, "type a sentence to see its tokens");
    *app.last_pass.borrow_mut() = None;
    attention_panel::draw(app);
    set_stale(app, false);
}

/// What one pass brought back: a masked-LM analysis, or a task checkpoint's labels.
enum Pass {
    Masked(Analyzed),
    Classified(Classification),
}

/// One forward pass of the text on screen, drawn by every view. Only an idle page runs
/// one; asked for during one, it runs again when that one ends.
async fn run(app: &AppRef) {
    match app.phase() {
        Phase::Idle => {}
        Phase::Predicting => return app.refresh.again.set(true),
        _ => return,
    }
    // A change after this point makes this pass stale on arrival.
    let generation = app.refresh.generation.get();
    let (a, b) = app.texts();
    if a.trim().is_empty() {
        return clear_views(app);
    }
    let Some(worker) = app.worker() else { return };
    let top_k = match text_state::top_k(app) {
        Ok(k) => k,
        Err(e) => return app.show_error_in(&app.el.text_error, &e),
    };
    app.set_phase(Phase::Predicting);
    app.set_status("running");
    let task = app
        .info
        .borrow()
        .as_ref()
        .map_or(Task::MaskedLm, |i| i.task);
    let started = dom::now_ms();
    let result = match task {
        Task::MaskedLm => {
            // Never a special token as a filler; each layer's guess for the layer-by-layer view.
            let options = AnalyzeOptions {
                top_k,
                by_layer: true,
                words_only: true,
            };
            worker
                .analyze(&a, b.as_deref(), options)
                .await
                .map(Pass::Masked)
        }
        // A task checkpoint has no masked-LM head: it classifies the text instead.
        _ => worker
            .classify(&a, b.as_deref())
            .await
            .map(Pass::Classified),
    };
    let ms = dom::now_ms() - started;
    app.set_phase(Phase::Idle);
    match result {
        Ok(pass) => {
            let current = app.refresh.generation.get() == generation;
            show(app, pass, ms, current).await;
        }
        Err(e) => {
            let lost = matches!(e, RequestError::DeviceLost(_));
            app.fail(&app.el.text_error, e);
            if lost {
                return;
            }
        }
    }
    if app.refresh.again.replace(false) {
        Box::pin(run(app)).await;
    }
}

/// Draws a pass in every view. `current`: no change came after it started (else it
/// stays marked stale, and the refresh under way replaces it).
async fn show(app: &AppRef, pass: Pass, ms: f64, current: bool) {
    let runs = app.refresh.runs.get() + 1;
    app.refresh.runs.set(runs);
    let (analysis, tokens) = match pass {
        Pass::Masked(analyzed) => {
            let tokens = app.token_state(&analyzed.encoding);
            if current && !app.tokens_current() {
                set_tokens(app, tokens.clone());
            }
            show_masked(app, &analyzed, &tokens, ms, runs);
            (analyzed.analysis, tokens)
        }
        Pass::Classified(c) => {
            classify_view::show_as_prediction(app, &c);
            let tokens = TokenState {
                tokens: c.tokens.clone(),
                ..TokenState::default()
            };
            let analysis = Analysis {
                masks: Vec::new(),
                layers: c.layers,
                heads: c.heads,
                seq: c.seq,
                attentions: c.attentions,
            };
            dom::clear(&app.el.layer_predictions);
            (analysis, tokens)
        }
    };
    if current {
        set_stale(app, false);
    }
    let (layers, heads) = (analysis.layers, analysis.heads);
    let boundary = tokens.segment_boundary();
    *app.last_pass.borrow_mut() = Some(Rc::new(LastPass::new(
        analysis,
        tokens.labels.clone(),
        tokens.added(),
        boundary,
    )));
    // The predictions are on screen before the maps are drawn.
    sleep_ms(0).await;
    attention_panel::show(app, layers, heads);
    app.set_status("ready");
    // Lets tests and benchmarks see that a run finished and how long it took.
    dom::set_attr(&app.el.timing, "data-runs", &runs.to_string());
    dom::set_attr(&app.el.timing, "data-ms", &format!("{ms:.1}"));
}

fn show_masked(app: &App, analyzed: &Analyzed, tokens: &TokenState, ms: f64, runs: u32) {
    let note = if runs == 1 {
        " (first run: includes compiling the GPU kernels)"
    } else {
        ""
    };
    let device = match analyzed.kernels {
        0 => String::new(),
        k => format!(" · {k} GPU kernels, {} read", analyzed.reads),
    };
    dom::set_text(
        &app.el.timing,
        &format!("inference {ms:.0} ms{device}{note}"),
    );
    dom::set_attr(
        &app.el.timing,
        "data-kernels",
        &analyzed.kernels.to_string(),
    );
    let masks = &analyzed.analysis.masks;
    predictions::render(&app.el.predictions, masks, tokens);
    warn_of_cut_masks(app, tokens);
    predictions::render_by_layer(&app.el.layer_predictions, masks);
}

/// Typed masks the tokenizer cut off (past the model's position limit) are named as
/// such, not passed over as if there were none.
fn warn_of_cut_masks(app: &App, tokens: &TokenState) {
    if !tokens.truncated {
        return;
    }
    let (a, b) = app.texts();
    let typed = |t: &str| t.matches(tokens.mask_token.as_str()).count();
    let in_text = typed(&a) + b.as_deref().map_or(0, typed);
    let kept = tokens.mask_positions().len();
    let cut = in_text.saturating_sub(kept);
    if cut == 0 {
        return;
    }
    let limit = app.info.borrow().as_ref().map_or(0, |i| i.max_positions);
    if kept == 0 {
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
