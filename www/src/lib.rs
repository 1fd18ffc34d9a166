//! The browser app: bert-burn on WebGPU (or Burn's CPU backend as a fallback) with a
//! thin DOM UI. The model code lives in the `bert-burn` crate; this crate only gets
//! files into the page, picks the backend, and draws.

pub mod api;
pub mod backend;
pub mod event_loop;
pub mod finetune;
pub mod model_files;
pub mod session;
pub mod ui;

use wasm_bindgen::prelude::*;

/// Runs when the module loads: panics go to the console with a stack, and the UI
/// starts when the page is the app (tests load the module without it).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    if ui::dom::by_id("bert-app").is_some() {
        ui::start();
    }
}
