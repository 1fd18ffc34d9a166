//! The worker's model: the library's [`Pipeline`] (model with its head, tokenizer,
//! device) on the page's backend, with the page's limits and an f16 copy for predictions
//! on GPUs that have `shader-f16`.

use bert_burn::checkpoint::{CheckpointFiles, StoreDtype, named_to_safetensors};
use bert_burn::inference::{
    Analysis, AnalyzeOptions, FillStep, LabelScore, TokenLabel, analyze_with, classify_sequence,
    classify_tokens, fill_most_confident,
};
use bert_burn::model::precision::{Precision, with_precision};
use bert_burn::{BertConfig, BertError, BertForMaskedLM, Encoding, Head, Pipeline, Task};
use burn::tensor::Device;

use crate::backend::{Backend, BackendInfo};
use crate::model_files::ModelFiles;

/// Largest model the page accepts: weights are held in f32 in wasm memory (4 GiB at
/// most, shared with the tokenizer and the downloaded file) before going to the GPU.
pub const MAX_PARAMETER_BYTES: u64 = 1536 * 1024 * 1024;

pub struct Session {
    pub pipeline: Pipeline,
    /// The masked-LM model in f16 for inference, on GPUs with `shader-f16` (made from the
    /// f32 weights in `pipeline`, which fine-tuning and downloads use).
    half: Option<BertForMaskedLM>,
    pub backend: BackendInfo,
}

/// Refuses models the page cannot hold or the GPU cannot bind, before loading them.
pub fn check_fits(config: &BertConfig, backend: &BackendInfo) -> Result<(), String> {
    let parameters = config.parameter_count();
    let bytes = parameters * 4.0;
    let mb = |b: f64| b / (1024.0 * 1024.0);
    if bytes > MAX_PARAMETER_BYTES as f64 {
        return Err(format!(
            "too large for the browser: {:.0} M parameters need {:.0} MB in f32; the page holds at most {:.0} MB",
            parameters / 1e6,
            mb(bytes),
            mb(MAX_PARAMETER_BYTES as f64)
        ));
    }
    if let Some(limit) = backend.max_binding_bytes {
        let largest = (config.vocab_size * config.hidden_size * 4) as u64;
        if largest > limit {
            return Err(format!(
                "too large for this GPU: the word-embedding matrix needs {:.0} MB but the adapter binds at most {:.0} MB per buffer",
                mb(largest as f64),
                mb(limit as f64)
            ));
        }
    }
    Ok(())
}

impl Session {
    /// Builds the model on `backend` from the checkpoint's files: a masked-LM, or the
    /// task model its config names (`BertForSequenceClassification`, `…TokenClassification`).
    pub fn load(files: &ModelFiles, backend: &Backend) -> Result<Self, String> {
        let config = BertConfig::from_json(&files.config_json)
            .map_err(|e| format!("{}: {e}", files.source))?;
        check_fits(&config, &backend.info)?;
        let kind = match config.task() {
            Task::MaskedLm => "masked-LM",
            Task::Sequence => "sequence-classification",
            Task::Token => "token-classification",
        };
        let named = |e: BertError| match e {
            BertError::MissingTensor { .. } | BertError::ShapeMismatch { .. } => {
                let family = &config.model_type;
                format!("{}: not a `{family}` {kind} checkpoint: {e}", files.source)
            }
            e => format!("{}: {e}", files.source),
        };
        let pipeline = Pipeline::with_config(
            &config,
            &files.weights,
            files.tokenizer()?,
            backend.device.clone(),
        )
        .map_err(named)?;
        Ok(Self::new(pipeline, backend.info.clone()))
    }

    fn new(pipeline: Pipeline, mut backend: BackendInfo) -> Self {
        let half = match (&pipeline.head, Precision::best_for(&pipeline.device)) {
            (Head::MaskedLm(m), Precision::F16) => Some(with_precision(m.clone(), Precision::F16)),
            _ => None,
        };
        backend.precision = match half {
            Some(_) => Precision::F16,
            None => Precision::F32,
        };
        Self {
            pipeline,
            half,
            backend,
        }
    }

    /// The same tokenizer and backend with another head (after training).
    pub fn with_head(&self, head: Head) -> Self {
        Self::new(self.pipeline.with_head(head), self.backend.clone())
    }

    pub fn device(&self) -> &Device {
        &self.pipeline.device
    }

    pub fn config(&self) -> &BertConfig {
        self.pipeline.config()
    }

    pub fn task(&self) -> Task {
        self.pipeline.task()
    }

    /// The model predictions run on: the f16 copy where there is one.
    fn inference_model(&self) -> Result<&BertForMaskedLM, String> {
        let full = self.pipeline.masked_lm().map_err(|_| {
            format!(
                "this checkpoint is a {} classifier: it has no masked-LM head, so it cannot fill masks or be fine-tuned as one; use the Classify panel",
                task_name(self.task())
            )
        })?;
        Ok(self.half.as_ref().unwrap_or(full))
    }

    /// The model's weights and config in Hugging Face layout (f32), with `tokenizer`'s files.
    pub async fn export(&self, tokenizer: &CheckpointFiles) -> Result<CheckpointFiles, String> {
        CheckpointFiles::from_named(
            self.config(),
            self.pipeline.head.named_tensors(),
            StoreDtype::F32,
            tokenizer,
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// The weights as safetensors bytes (f32), read back from the device.
    pub async fn weights(&self) -> Result<Vec<u8>, String> {
        named_to_safetensors(self.pipeline.head.named_tensors(), StoreDtype::F32)
            .await
            .map_err(|e| e.to_string())
    }

    /// One step of Fill all (the library's joint fill, one mask at a time).
    pub async fn fill_next(
        &self,
        ids: &[u32],
        type_ids: &[u32],
    ) -> Result<Option<FillStep>, String> {
        // Fill all writes words into the text: never a special token.
        let model = self.inference_model()?;
        let p = &self.pipeline;
        fill_most_confident(model, ids, type_ids, &p.tokenizer, true, &p.device)
            .await
            .map_err(|e| e.to_string())
    }

    pub fn tokenize(&self, text: &str, text_b: Option<&str>) -> Result<Encoding, String> {
        self.pipeline
            .tokenizer
            .encode(text, text_b)
            .map_err(|e| e.to_string())
    }

    /// Top-k at every `[MASK]` in `ids` and every attention map, in one forward pass
    /// (with each layer's guess when `options.by_layer`).
    pub async fn analyze(
        &self,
        ids: &[u32],
        type_ids: &[u32],
        options: AnalyzeOptions,
    ) -> Result<Analysis, String> {
        let model = self.inference_model()?;
        let p = &self.pipeline;
        // Whether a failure was a lost GPU is the worker's to tell (it waits for the signal).
        analyze_with(model, ids, type_ids, &p.tokenizer, options, &p.device)
            .await
            .map_err(|e| e.to_string())
    }

    /// Every label's probability for a text (sequence task), or every token's label
    /// (token task), with the attention maps; `Err` for a masked-LM model.
    pub async fn classify(&self, encoding: &Encoding) -> Result<Classified, String> {
        let p = &self.pipeline;
        let pad = p.tokenizer.pad_id();
        let result = match &p.head {
            Head::MaskedLm(_) => {
                return Err("this model has no classifier: train one in the Classify panel, or load a task checkpoint".into());
            }
            Head::Sequence(m) => classify_sequence(m, encoding, pad, true, &p.device)
                .await
                .map(|c| Classified {
                    labels: c.predictions,
                    token_labels: Vec::new(),
                    attentions: c.attentions,
                }),
            Head::Token(m) => classify_tokens(m, encoding, pad, true, &p.device)
                .await
                .map(|c| Classified {
                    labels: Vec::new(),
                    token_labels: c.predictions,
                    attentions: c.attentions,
                }),
        };
        result.map_err(|e| e.to_string())
    }

    pub fn mask_id(&self) -> u32 {
        self.pipeline.tokenizer.mask_id()
    }

    pub fn mask_token(&self) -> &str {
        self.pipeline.tokenizer.mask_token()
    }
}

/// A classification: every label by probability (sequence) or each token's label
/// (token), and the attention maps `[layer][head][query][key]`.
pub struct Classified {
    pub labels: Vec<LabelScore>,
    pub token_labels: Vec<TokenLabel>,
    pub attentions: Vec<f32>,
}

/// How the page names a task.
pub fn task_name(task: Task) -> &'static str {
    match task {
        Task::MaskedLm => "masked-LM",
        Task::Sequence => "sequence",
        Task::Token => "token",
    }
}

#[cfg(test)]
mod tests {
    use bert_burn::BertConfig;
    use bert_burn::model::precision::Precision;

    use super::{MAX_PARAMETER_BYTES, check_fits};
    use crate::backend::{BackendInfo, BackendKind};

    fn backend(max_binding_bytes: Option<u64>) -> BackendInfo {
        BackendInfo {
            kind: BackendKind::Webgpu,
            adapter: "test".into(),
            fallback_reason: None,
            max_binding_bytes,
            software: false,
            precision: Precision::F32,
        }
    }

    #[test]
    fn size_checks_refuse_what_the_page_or_gpu_cannot_hold() {
        let base = BertConfig::default();
        assert!(check_fits(&base, &backend(None)).is_ok());
        let huge = BertConfig {
            num_hidden_layers: 200,
            ..base.clone()
        };
        assert!(huge.parameter_count() * 4.0 > MAX_PARAMETER_BYTES as f64);
        let err = check_fits(&huge, &backend(None)).unwrap_err();
        assert!(err.contains("too large for the browser"), "{err}");
        // bert-base's word embeddings are 30522 × 768 × 4 bytes = 93.8 MB.
        let err = check_fits(&base, &backend(Some(64 << 20))).unwrap_err();
        assert!(err.contains("too large for this GPU"), "{err}");
        assert!(check_fits(&base, &backend(Some(128 << 20))).is_ok());
    }
}
