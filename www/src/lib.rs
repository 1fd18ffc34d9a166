//! The browser app: bert-burn on WebGPU (or Burn's CPU backend as a fallback) with a
//! thin DOM UI. The model code lives in the `bert-burn` crate. One wasm module plays
//! two parts: on the page it is the UI ([`ui`]) and the JavaScript API ([`api`]), both
//! clients ([`client`]) of the model's Web Worker; in that worker ([`worker`]) the same
//! module holds the backend, the model and fine-tuning. They speak [`protocol`].

pub mod api;
pub mod backend;
pub mod client;
pub mod event_loop;
pub mod finetune;
pub mod model_files;
pub mod protocol;
pub mod session;
pub mod ui;
pub mod worker;

use wasm_bindgen::prelude::*;

/// Runs when the module loads, on the page and in the worker alike: panics go to the
/// console with a stack, and the UI starts when this is the app's page (not the worker,
/// not the tests).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    if ui::dom::by_id("bert-app").is_some() {
        ui::start();
    }
}
