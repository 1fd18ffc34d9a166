//! Loading a checkpoint in the worker: its files from the network, the user's disk or
//! the JavaScript API, then the model on the chosen backend.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{STATE, post_event};
use crate::backend;
use crate::global_scope::now_ms;
use crate::model_files::{self, ModelFiles};
use crate::protocol::{Event, Failure, ModelInfo, Source, field};
use crate::session::Session;

pub(super) async fn load(
    id: u32,
    source: Source,
    preference: backend::Preference,
    cpu_reason: Option<String>,
    payload: Option<JsValue>,
) -> Result<ModelInfo, Failure> {
    let files = read_files(id, source, payload)
        .await
        .map_err(Failure::new)?;
    post_event(
        id,
        &Event::Building {
            source: files.source.clone(),
        },
    );
    let started = now_ms();
    let backend = match cpu_reason {
        Some(reason) => backend::cpu(Some(reason)),
        None => backend::open(preference).await,
    };
    let session = Rc::new(Session::load(&files, &backend).map_err(Failure::new)?);
    let c = session.config();
    let info = ModelInfo {
        source: files.source.clone(),
        layers: c.layers_run(),
        hidden_size: c.hidden_size,
        heads: c.num_attention_heads,
        vocab_size: c.vocab_size,
        max_positions: c.max_tokens(),
        parameters: session.pipeline.head.parameters(),
        config: serde_json::to_value(c).unwrap_or_default(),
        backend: session.backend.clone(),
        mask_id: session.mask_id(),
        mask_token: session.mask_token().to_string(),
        task: session.task(),
        labels: match session.task() {
            bert_burn::Task::MaskedLm => Vec::new(),
            _ => c.labels().unwrap_or_default(),
        },
        build_ms: now_ms() - started,
    };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.session = Some(session.clone());
        s.loaded = Some(session);
        s.tokenizer = files.tokenizer_files();
        s.finetuned = false;
        // A classifier trained on the previous model does not belong to this one.
        s.classifier = None;
    });
    Ok(info)
}

/// The checkpoint's files, from wherever the request says.
async fn read_files(
    id: u32,
    source: Source,
    payload: Option<JsValue>,
) -> Result<ModelFiles, String> {
    match source {
        Source::Location { location } => {
            // Progress at most every 50 ms: a large file arrives in thousands of chunks.
            let last = Cell::new(f64::NEG_INFINITY);
            let progress = |file: &str, done: f64, total: Option<f64>| {
                let now = now_ms();
                if now - last.get() >= 50.0 || Some(done) == total {
                    last.set(now);
                    post_event(
                        id,
                        &Event::Download {
                            file: file.into(),
                            done,
                            total,
                        },
                    );
                }
            };
            model_files::fetch_model(&location, &progress).await
        }
        Source::Files => {
            let list: Array = payload
                .ok_or("no files were given")?
                .dyn_into()
                .map_err(|_| "the files are not a list")?;
            let files: Vec<web_sys::File> = list.iter().filter_map(|f| f.dyn_into().ok()).collect();
            model_files::from_local_files(&files).await
        }
        Source::Bytes { tokenizer_is_vocab } => {
            let payload = payload.ok_or("no files were given")?;
            let bytes = |name: &str| -> Result<Vec<u8>, String> {
                field(&payload, name)
                    .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                    .map(|a| a.to_vec())
                    .ok_or_else(|| format!("{name} is missing: give it as a Uint8Array"))
            };
            let config_json = field(&payload, "config")
                .and_then(|v| v.as_string())
                .ok_or("the config is missing: give config.json as a string")?;
            let tokenizer = bytes("tokenizer")?;
            let mut files = ModelFiles {
                source: "the given files".into(),
                config_json,
                weights: bytes("weights")?,
                ..ModelFiles::default()
            };
            if tokenizer_is_vocab {
                files.vocab_txt =
                    Some(String::from_utf8(tokenizer).map_err(|_| "vocab.txt is not UTF-8 text")?);
            } else {
                files.tokenizer_json = Some(tokenizer);
            }
            Ok(files)
        }
    }
}
