//! The page: a thin UI over the model's worker. Its state is one [`app::App`] (what it
//! is doing is an explicit [`app::Phase`]); each panel is its own module over elements
//! looked up once ([`elements::Elements`]), and all text flows one way through
//! [`refresh`]: text in, one reply out, every view drawn from it. Nothing here runs the
//! model: a slow step is a message away, so the page keeps painting and taking input.
//!
//! Who imports whom, top to bottom (no file imports one above it):
//! `mod.rs` (start-up) → the panels' events (`model_panel`, `text_panel`, `fill_all`,
//! `finetune_panel`, `classify_panel`, `examples`) → `refresh` (the loop) → the views
//! (`attention_panel`, `model_view`, `classify_view`, `predictions`, `tokens`,
//! `heatmap`, `chart`) and the state (`text_state`, `app`) → `dom`, `elements`.

pub mod app;
pub mod attention_panel;
pub mod chart;
pub mod classify_panel;
pub mod classify_view;
pub mod dom;
mod download;
pub mod elements;
mod examples;
mod fill_all;
mod finetune_panel;
pub mod heatmap;
mod model_panel;
mod model_view;
pub mod predictions;
mod refresh;
mod stop_button;
pub mod text_edits;
mod text_panel;
mod text_state;
pub mod tokens;

use std::rc::Rc;

use app::{App, AppRef, spawn};
use elements::Elements;

/// Where the page looks for its embedded model (relative: works under any sub-path).
pub const EMBEDDED_MODEL: &str = "assets/";

pub fn start() {
    let el = match Elements::find() {
        Ok(el) => el,
        Err(e) => return web_sys::console::error_1(&e.into()),
    };
    let app: AppRef = Rc::new(App::new(el));
    app.set_phase(app::Phase::NoModel);
    text_state::read_url(&app);
    // A lost GPU, wherever a request notices it, ends in the one recovery.
    let weak = Rc::downgrade(&app);
    app.on_device_lost(move |message| {
        if let Some(app) = weak.upgrade() {
            spawn(&app, async move |app| {
                model_panel::recover(app, &message, Some(model_panel::lost_reason())).await
            });
        }
    });
    model_panel::wire(&app);
    text_panel::wire(&app);
    attention_panel::wire(&app);
    examples::wire(&app);
    finetune_panel::wire(&app);
    classify_panel::wire(&app);
    spawn(&app, async |app| model_panel::load_initial(app).await);
}
