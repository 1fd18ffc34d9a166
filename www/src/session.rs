//! A loaded model on its backend: what the UI and the JavaScript API drive.

use bert_burn::checkpoint::{CheckpointFiles, StoreDtype};
use bert_burn::inference::{Analysis, FillStep, analyze, fill_most_confident};
use bert_burn::{BertConfig, Encoding, Pipeline};

use crate::backend::{Backend, BackendInfo};
use crate::model_files::ModelFiles;

/// Largest model the page accepts: weights are held in f32 in wasm memory (4 GiB at
/// most, shared with the tokenizer and the downloaded file) before going to the GPU.
pub const MAX_PARAMETER_BYTES: u64 = 1536 * 1024 * 1024;

pub struct Session {
    pub pipeline: Pipeline,
    pub backend: BackendInfo,
}

/// Parameters of a BERT masked-LM with this configuration (no pooler).
pub fn parameter_count(c: &BertConfig) -> u64 {
    let (v, h, i, l) = (
        c.vocab_size as u64,
        c.hidden_size as u64,
        c.intermediate_size as u64,
        c.num_hidden_layers as u64,
    );
    let embeddings = (v + c.max_position_embeddings as u64 + c.type_vocab_size as u64) * h + 2 * h;
    // Attention (Q, K, V, output) and its LayerNorm, then the feed-forward pair and its LayerNorm.
    let layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
    let head = h * h + h + 2 * h + v + if c.tie_word_embeddings { 0 } else { v * h };
    embeddings + l * layer + head
}

/// Refuses models the page cannot hold or the GPU cannot bind, before loading them.
pub fn check_fits(config: &BertConfig, backend: &BackendInfo) -> Result<(), String> {
    let bytes = parameter_count(config) * 4;
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    if bytes > MAX_PARAMETER_BYTES {
        return Err(format!(
            "too large for the browser: {:.0} M parameters need {:.0} MB in f32; the page holds at most {:.0} MB",
            parameter_count(config) as f64 / 1e6,
            mb(bytes),
            mb(MAX_PARAMETER_BYTES)
        ));
    }
    if let Some(limit) = backend.max_binding_bytes {
        let largest = (config.vocab_size * config.hidden_size * 4) as u64;
        if largest > limit {
            return Err(format!(
                "too large for this GPU: the word-embedding matrix needs {:.0} MB but the adapter binds at most {:.0} MB per buffer",
                mb(largest),
                mb(limit)
            ));
        }
    }
    Ok(())
}

impl Session {
    /// Builds the model on `backend` from the checkpoint's files.
    pub fn load(files: &ModelFiles, backend: &Backend) -> Result<Self, String> {
        let config = BertConfig::from_json(&files.config_json)
            .map_err(|e| format!("{}: {e}", files.source))?;
        check_fits(&config, &backend.info)?;
        let tokenizer = files.tokenizer()?;
        let pipeline = Pipeline::from_bytes(
            &files.config_json,
            &files.weights,
            tokenizer,
            backend.device.clone(),
        )
        .map_err(|e| match e {
            bert_burn::BertError::MissingTensor { .. }
            | bert_burn::BertError::ShapeMismatch { .. } => {
                format!("{}: not a BERT masked-LM checkpoint: {e}", files.source)
            }
            e => format!("{}: {e}", files.source),
        })?;
        Ok(Self {
            pipeline,
            backend: backend.info.clone(),
        })
    }

    /// The same tokenizer and backend with other weights (after fine-tuning).
    pub fn with_model(&self, model: bert_burn::BertForMaskedLM) -> Self {
        Self {
            pipeline: Pipeline {
                model,
                tokenizer: self.pipeline.tokenizer.clone(),
                device: self.pipeline.device.clone(),
            },
            backend: self.backend.clone(),
        }
    }

    /// The checkpoint as Hugging Face lays it out: `model.safetensors` (f32),
    /// `config.json` and `tokenizer`'s files.
    pub async fn export(&self, tokenizer: &CheckpointFiles) -> Result<CheckpointFiles, String> {
        CheckpointFiles::from_model(&self.pipeline.model, StoreDtype::F32, tokenizer)
            .await
            .map_err(|e| e.to_string())
    }

    /// One step of Fill all (the library's joint fill, one mask at a time).
    pub async fn fill_next(
        &self,
        ids: &[u32],
        type_ids: &[u32],
    ) -> Result<Option<FillStep>, String> {
        let p = &self.pipeline;
        fill_most_confident(&p.model, ids, type_ids, &p.tokenizer, &p.device)
            .await
            .map_err(|e| e.to_string())
    }

    pub fn config(&self) -> &BertConfig {
        self.pipeline.model.config()
    }

    pub fn tokenize(&self, text: &str, text_b: Option<&str>) -> Result<Encoding, String> {
        self.pipeline
            .tokenizer
            .encode(text, text_b)
            .map_err(|e| e.to_string())
    }

    /// Top-k at every `[MASK]` in `ids` and every attention map, in one forward pass.
    pub async fn analyze(
        &self,
        ids: &[u32],
        type_ids: &[u32],
        top_k: usize,
    ) -> Result<Analysis, String> {
        let p = &self.pipeline;
        // Whether a failure was a lost GPU is the worker's to tell (it waits for the signal).
        analyze(&p.model, ids, type_ids, &p.tokenizer, top_k, &p.device)
            .await
            .map_err(|e| e.to_string())
    }

    pub fn mask_id(&self) -> u32 {
        self.pipeline.tokenizer.mask_id()
    }

    pub fn mask_token(&self) -> &str {
        self.pipeline.tokenizer.mask_token()
    }
}

#[cfg(test)]
mod tests {
    use bert_burn::BertConfig;

    use super::{MAX_PARAMETER_BYTES, check_fits, parameter_count};
    use crate::backend::BackendInfo;

    fn backend(max_binding_bytes: Option<u64>) -> BackendInfo {
        BackendInfo {
            kind: "webgpu".into(),
            adapter: "test".into(),
            fallback_reason: None,
            max_binding_bytes,
            software: false,
        }
    }

    #[test]
    fn bert_base_has_its_published_parameter_count() {
        // transformers' BertForMaskedLM of the default config, tied: 109,514,298.
        assert_eq!(parameter_count(&BertConfig::default()), 109_514_298);
    }

    #[test]
    fn size_checks_refuse_what_the_page_or_gpu_cannot_hold() {
        let base = BertConfig::default();
        assert!(check_fits(&base, &backend(None)).is_ok());
        let huge = BertConfig {
            num_hidden_layers: 200,
            ..base.clone()
        };
        assert!(parameter_count(&huge) * 4 > MAX_PARAMETER_BYTES);
        let err = check_fits(&huge, &backend(None)).unwrap_err();
        assert!(err.contains("too large for the browser"), "{err}");
        // bert-base's word embeddings are 30522 × 768 × 4 bytes = 93.8 MB.
        let err = check_fits(&base, &backend(Some(64 << 20))).unwrap_err();
        assert!(err.contains("too large for this GPU"), "{err}");
        assert!(check_fits(&base, &backend(Some(128 << 20))).is_ok());
    }
}
