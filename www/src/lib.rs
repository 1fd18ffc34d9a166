//! The browser app: bert-burn on WebGPU (or Burn's CPU backend as a fallback) with a
//! thin DOM UI. The model code lives in the `bert-burn` crate. One wasm module plays
//! two parts: on the page it is the UI ([`ui`]) and the JavaScript API ([`api`]), both
//! clients ([`client`]) of the model's Web Worker; in that worker ([`worker`]) the same
//! module holds the backend, the model and fine-tuning. They speak [`protocol`].

pub mod api;
pub mod backend;
pub mod client;
pub mod global_scope;
pub mod heap;
pub mod kernel_count;
pub mod model_files;
pub mod protocol;
pub mod session;
#[cfg(feature = "testing")]
pub mod testing;
pub mod ui;
pub mod worker;
pub mod zip;

use wasm_bindgen::prelude::*;

/// Counts the heap's live bytes (what the soak test and the memory test hold flat).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::CountingAllocator = heap::CountingAllocator;

/// Runs the module's static constructors (Burn's GPU runtime registers its IR dialects
/// in them) once per instance. Calling `__wasm_call_ctors` from our own code also tells
/// the linker that this module is not a run-once "command": otherwise it wraps *every*
/// export in a call to all constructors, which made every message to or from the worker
/// and every promise callback slow (BENCHMARKS.md, "Why the code is as it is").
pub fn run_static_constructors() {
    #[cfg(target_arch = "wasm32")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        static DONE: AtomicBool = AtomicBool::new(false);
        unsafe extern "C" {
            fn __wasm_call_ctors();
        }
        if !DONE.swap(true, Ordering::Relaxed) {
            // SAFETY: the linker's constructor list, run once per instance before any use.
            unsafe { __wasm_call_ctors() }
        }
    }
}

/// Runs when the module loads, on the page and in the worker alike: static constructors,
/// panics to the console with a stack, and the UI when this is the app's page (not the
/// worker, not the tests).
#[wasm_bindgen(start)]
pub fn start() {
    run_static_constructors();
    console_error_panic_hook::set_once();
    if ui::dom::by_id("bert-app").is_some() {
        ui::start();
    }
}
