//! A Stop button of a training run (fine-tuning or a classifier): the run ends after the
//! step under way.

use super::app::{AppRef, spawn};
use super::dom;
use crate::protocol::Request;

pub fn wire(app: &AppRef, button: &web_sys::HtmlButtonElement) {
    let (a, b) = (app.clone(), button.clone());
    dom::on::<web_sys::Event>(button, "click", move |_| {
        b.set_disabled(true);
        spawn(&a, async |a| {
            if let Some(w) = a.worker() {
                let _ = w.ask(Request::StopRun).await;
            }
        });
    });
}
