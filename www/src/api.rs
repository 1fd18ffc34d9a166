//! The JavaScript API (`#[wasm_bindgen]`): load from bytes, tokenize, predict and
//! attentions. Everything that touches the GPU is async; errors are JS `Error`s with
//! the message the UI shows.

use js_sys::Uint8Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::backend::{self, Preference};
use crate::model_files::ModelFiles;
use crate::session::Session;

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

/// A model loaded in the page.
#[wasm_bindgen]
pub struct BertModel {
    session: Session,
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
        let tokenizer = tokenizer.to_vec();
        let mut files = ModelFiles {
            source: "the given files".into(),
            config_json,
            weights: weights.to_vec(),
            ..ModelFiles::default()
        };
        if tokenizer_is_vocab {
            files.vocab_txt = Some(
                String::from_utf8(tokenizer)
                    .map_err(|_| JsError::new("vocab.txt is not UTF-8 text"))?,
            );
        } else {
            files.tokenizer_json = Some(tokenizer);
        }
        let backend = backend::open(Preference::parse(&backend)).await;
        let session = Session::load(&files, &backend).map_err(|e| JsError::new(&e))?;
        Ok(BertModel { session })
    }

    /// `{kind: "webgpu"|"cpu", adapter, fallback_reason, max_binding_bytes, software}`.
    pub fn backend(&self) -> Result<JsValue, JsError> {
        to_js(&self.session.backend)
    }

    /// The model's `config.json` as an object.
    pub fn config(&self) -> Result<JsValue, JsError> {
        to_js(self.session.config())
    }

    /// WordPiece tokens of a text or pair: `{tokens, ids, type_ids, offsets, word_ids,
    /// sequence_ids, special, truncated}`.
    pub fn tokenize(&self, text: &str, text_b: Option<String>) -> Result<JsValue, JsError> {
        to_js(
            &self
                .session
                .tokenize(text, text_b.as_deref())
                .map_err(|e| JsError::new(&e))?,
        )
    }

    /// Top-k for every `[MASK]` of `ids` and every attention map:
    /// `{masks: [{position, predictions: [{token, id, probability}]}], layers, heads, seq,
    /// attentions: [layer][head][query][key] flattened}`.
    pub async fn analyze(
        &self,
        ids: Vec<u32>,
        type_ids: Vec<u32>,
        top_k: usize,
    ) -> Result<JsValue, JsError> {
        let analysis = self
            .session
            .analyze(&ids, &type_ids, top_k)
            .await
            .map_err(|e| JsError::new(&e))?;
        to_js(&analysis)
    }

    /// Tokenizes and predicts every `[MASK]` in the text: `{tokens, masks}`.
    pub async fn predict(
        &self,
        text: String,
        text_b: Option<String>,
        top_k: usize,
    ) -> Result<JsValue, JsError> {
        let enc = self
            .session
            .tokenize(&text, text_b.as_deref())
            .map_err(|e| JsError::new(&e))?;
        let analysis = self
            .session
            .analyze(&enc.ids, &enc.type_ids, top_k)
            .await
            .map_err(|e| JsError::new(&e))?;
        #[derive(Serialize)]
        struct Out<'a> {
            tokens: &'a [String],
            masks: &'a [bert_burn::inference::MaskPredictions],
        }
        to_js(&Out {
            tokens: &enc.tokens,
            masks: &analysis.masks,
        })
    }
}

/// Destroys the page's WebGPU device (as a driver reset would) so a test can check the
/// fallback to the CPU. Returns false when the page is not on WebGPU.
#[wasm_bindgen(js_name = loseWebGpuDeviceForTesting)]
pub fn lose_webgpu_device_for_testing() -> bool {
    backend::lose_webgpu_device()
}
