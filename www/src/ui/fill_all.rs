//! Fill all: every mask filled, most confident first, one request per fill so each
//! shows as it lands; the button stops it after the fill under way.

use super::text_panel::{predict, retokenize_if_stale};
use super::{AppRef, Phase, dom, recover_from_lost_gpu, text_edits, text_state};
use crate::client::RequestError;

/// Fills every mask, most confident first, re-running the model after each (the
/// library's joint fill, one step per request so each fill shows as it lands).
pub async fn fill_all(app: &AppRef) {
    if !super::settled(app).await {
        return;
    }
    // Claimed before the first await: another click waiting out the same refresh must not
    // start its own work meanwhile.
    app.set_phase(Phase::Filling);
    app.cancel_fill.set(false);
    app.clear_error(&app.el.text_error);
    retokenize_if_stale(app).await;
    let Some(worker) = app.worker() else {
        return app.set_phase(Phase::Idle);
    };
    let total = app.tokens.borrow().mask_positions().len();
    if total == 0 {
        app.set_phase(Phase::Idle);
        return app.show_error_in(
            &app.el.text_error,
            "no [MASK] to fill: click a token (or type [MASK]) first",
        );
    }
    // Beside the button (the status line is for whatever happens next).
    let progress = |text: &str| {
        dom::set_text(&app.el.fill_progress, text);
        app.set_status(text);
    };
    progress(&format!("filling: 0 of {total} masks"));
    let mut done = 0;
    loop {
        if app.cancel_fill.replace(false) {
            break;
        }
        let (ids, type_ids) = {
            let tokens = app.tokens.borrow();
            (tokens.ids.clone(), tokens.type_ids.clone())
        };
        match worker.fill_next(&ids, &type_ids).await {
            Ok(Some(step)) => {
                // Written into the text (which is re-tokenized for the next step).
                let fill = text_edits::fill_edit(&app.tokens.borrow(), step.position, &step.token);
                let Some(fill) = fill else { break };
                text_state::edit(app, vec![fill], true).await;
                done += 1;
                progress(&format!("filling: {done} of {total} masks"));
            }
            Ok(None) => break,
            Err(RequestError::DeviceLost(e)) => {
                app.set_phase(Phase::Idle);
                return Box::pin(recover_from_lost_gpu(app, &e)).await;
            }
            Err(e) => {
                app.set_phase(Phase::Idle);
                return app.show_error_in(&app.el.text_error, e.message());
            }
        }
    }
    let outcome = match done < total {
        true => format!("stopped filling after {done} of {total} masks"),
        false => format!("filled {total} masks"),
    };
    dom::set_text(&app.el.fill_progress, &outcome);
    app.set_phase(Phase::Idle);
    // The fills' own refreshes are superseded by this one run on the filled text.
    text_state::cancel_refresh(app);
    predict(app).await;
}
