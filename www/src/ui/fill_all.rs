//! Fill all: every mask filled, most confident first, one request per fill so each
//! shows as it lands; the button stops it after the fill under way.

use super::text_panel::{predict, retokenize_if_stale};
use super::{AppRef, Phase, recover_from_lost_gpu, text_edits, text_state};
use crate::client::RequestError;

/// Fills every mask, most confident first, re-running the model after each (the
/// library's joint fill, one step per request so each fill shows as it lands).
pub async fn fill_all(app: &AppRef) {
    if app.phase() != Phase::Idle {
        return;
    }
    app.clear_error(&app.el.text_error);
    retokenize_if_stale(app).await;
    let Some(worker) = app.worker() else { return };
    let total = app.tokens.borrow().mask_positions().len();
    if total == 0 {
        return app.show_error_in(
            &app.el.text_error,
            "no [MASK] to fill: click a token (or type [MASK]) first",
        );
    }
    app.cancel_fill.set(false);
    app.set_phase(Phase::Filling);
    app.set_status(&format!("filling: 0 of {total} masks"));
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
                app.set_status(&format!("filling: {done} of {total} masks"));
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
    app.set_phase(Phase::Idle);
    predict(app).await;
    // Said after the predictions of the filled text, so it stays on screen.
    if done < total && app.phase() == Phase::Idle {
        app.set_status(&format!("stopped filling after {done} of {total} masks"));
    }
}
