//! The JavaScript API (`#[wasm_bindgen]`, `window.wasmBindings` on the page): load from
//! bytes, tokenize, predict and attentions. Each `BertModel` is a client of its own model
//! worker ([`ModelWorker`]), so none of its work runs on the caller's thread; every
//! method that reaches the model returns a Promise. Errors are JS `Error`s with the
//! message the UI shows.

use js_sys::{Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::backend::Preference;
use crate::client::{ModelWorker, RequestError};
use crate::protocol::{Input, ModelInfo, Reply, Request, Source, to_js};
use bert_burn::inference::AnalyzeOptions;

fn js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    to_js(value).map_err(|e| JsError::new(&e))
}

/// A failed request as the JS `Error` a caller sees (the message the UI shows).
pub(crate) fn fail(e: RequestError) -> JsError {
    JsError::new(e.message())
}

/// The model's own top-k, as transformers' fill-mask gives it.
fn plain(top_k: usize) -> AnalyzeOptions {
    AnalyzeOptions {
        top_k,
        by_layer: false,
        words_only: false,
    }
}

/// A model loaded in its own worker.
#[wasm_bindgen]
pub struct BertModel {
    worker: ModelWorker,
    info: ModelInfo,
}

#[wasm_bindgen]
impl BertModel {
    /// Loads a checkpoint from its files' bytes. `tokenizer` is `tokenizer.json`, or
    /// `vocab.txt` when `tokenizer_is_vocab` is true. `backend`: `"auto"` (WebGPU on a
    /// hardware adapter, else the CPU), `"webgpu"` (any adapter, software ones included)
    /// or `"cpu"`.
    pub async fn load(
        config_json: String,
        weights: Uint8Array,
        tokenizer: Uint8Array,
        tokenizer_is_vocab: bool,
        backend: String,
    ) -> Result<BertModel, JsError> {
        let worker = ModelWorker::start().await.map_err(|e| JsError::new(&e))?;
        let payload = Object::new();
        let _ = Reflect::set(&payload, &"config".into(), &config_json.into());
        let _ = Reflect::set(&payload, &"weights".into(), &weights);
        let _ = Reflect::set(&payload, &"tokenizer".into(), &tokenizer);
        let request = Request::Load {
            source: Source::Bytes { tokenizer_is_vocab },
            backend: Preference::parse(&backend),
            cpu_reason: None,
        };
        let info = worker
            .load(request, Some(&payload.into()), |_| {})
            .await
            .map_err(fail)?;
        Ok(BertModel { worker, info })
    }

    /// `{kind: "webgpu"|"cpu", adapter, fallback_reason, max_binding_bytes, software}`.
    pub fn backend(&self) -> Result<JsValue, JsError> {
        js(&self.info.backend)
    }

    /// The model's `config.json` as an object.
    pub fn config(&self) -> Result<JsValue, JsError> {
        js(&self.info.config)
    }

    /// WordPiece tokens of a text or pair: `{tokens, ids, type_ids, offsets, word_ids,
    /// sequence_ids, special, truncated}`.
    pub async fn tokenize(&self, text: String, text_b: Option<String>) -> Result<JsValue, JsError> {
        js(&self
            .worker
            .tokenize(&text, text_b.as_deref())
            .await
            .map_err(fail)?)
    }

    /// Top-k for every `[MASK]` of `ids` and every attention map:
    /// `{masks: [{position, predictions: [{token, id, probability}]}], layers, heads, seq,
    /// attentions}`, `attentions` a `Float32Array` `[layer][head][query][key]`.
    pub async fn analyze(
        &self,
        ids: Vec<u32>,
        type_ids: Vec<u32>,
        top_k: usize,
    ) -> Result<JsValue, JsError> {
        let (reply, maps) = self
            .worker
            .analyze_maps(Input::Ids { ids, type_ids }, plain(top_k))
            .await
            .map_err(fail)?;
        let Reply::Analysis { .. } = &reply else {
            return Err(JsError::new("the model's worker answered out of turn"));
        };
        let value = js(&reply)?;
        let _ = Reflect::delete_property(value.unchecked_ref::<Object>(), &"type".into());
        let _ = Reflect::set(&value, &"attentions".into(), &maps);
        Ok(value)
    }

    /// Tokenizes and predicts every `[MASK]` in the text (one request): `{tokens, masks}`.
    pub async fn predict(
        &self,
        text: String,
        text_b: Option<String>,
        top_k: usize,
    ) -> Result<JsValue, JsError> {
        let analyzed = self
            .worker
            .analyze(&text, text_b.as_deref(), plain(top_k))
            .await
            .map_err(fail)?;
        #[derive(Serialize)]
        struct Out<'a> {
            tokens: &'a [String],
            masks: &'a [bert_burn::inference::MaskPredictions],
        }
        js(&Out {
            tokens: &analyzed.encoding.tokens,
            masks: &analyzed.analysis.masks,
        })
    }
}
