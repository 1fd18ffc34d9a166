//! Fill all: every mask filled, most confident first, one request per fill so each
//! shows as it lands; the button stops it after the fill under way.

use super::app::{AppRef, Phase, settled};
use super::{dom, refresh, text_edits, text_state};

/// Fills every mask, most confident first, re-running the model after each (the
/// library's joint fill, one step per request: the worker takes the text as it is now
/// and says which mask it filled with what, among the tokens it found).
pub async fn fill_all(app: &AppRef) {
    if !settled(app).await {
        return;
    }
    // Claimed before the next await: another click waiting out the same refresh must not
    // start its own work meanwhile.
    app.set_phase(Phase::Filling);
    app.cancel_fill.set(false);
    app.clear_error(&app.el.text_error);
    let Some(worker) = app.worker() else {
        return app.set_phase(Phase::Idle);
    };
    // Beside the button (the status line is for whatever happens next).
    let progress = |text: &str| {
        dom::set_text(&app.el.fill_progress, text);
        app.set_status(text);
    };
    let (mut done, mut total) = (0, None);
    loop {
        if app.cancel_fill.replace(false) {
            break;
        }
        let (a, b) = app.texts();
        let (step, encoding) = match worker.fill_next(&a, b.as_deref()).await {
            Ok(reply) => reply,
            Err(e) => {
                app.set_phase(Phase::Idle);
                return app.fail(&app.el.text_error, e);
            }
        };
        let tokens = app.token_state(&encoding);
        let total = *total.get_or_insert_with(|| tokens.mask_positions().len());
        if total == 0 {
            app.set_phase(Phase::Idle);
            let mask = &tokens.mask_token;
            return app.show_error_in(
                &app.el.text_error,
                &format!("no {mask} to fill: click a token (or type {mask}) first"),
            );
        }
        if done == 0 {
            progress(&format!("filling: 0 of {total} masks"));
        }
        // Written into the text; the chips follow it (the model runs once, at the end).
        let Some(fill) = step.and_then(|s| text_edits::fill_edit(&tokens, s.position, &s.text))
        else {
            break;
        };
        text_state::edit(app, &[fill], true);
        refresh::changed(app).await;
        done += 1;
        progress(&format!("filling: {done} of {total} masks"));
    }
    let total = total.unwrap_or(0);
    let outcome = match done < total {
        true => format!("stopped filling after {done} of {total} masks"),
        false => format!("filled {total} masks"),
    };
    dom::set_text(&app.el.fill_progress, &outcome);
    app.set_phase(Phase::Idle);
    // One pass on the filled text (the fills' own refreshes found the page busy).
    refresh::now(app).await;
}
