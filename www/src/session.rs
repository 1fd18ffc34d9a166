//! A loaded model on its backend: what the UI and the JavaScript API drive.

use bert_burn::checkpoint::{
    CheckpointFiles, HeadWeights, StoreDtype, load_sequence_classifier, load_token_classifier,
    load_with_config, named_to_safetensors,
};
use bert_burn::inference::{
    Analysis, AnalyzeOptions, FillStep, LabelScore, TokenLabel, analyze, analyze_with,
    classify_sequence, classify_tokens, fill_most_confident,
};
use bert_burn::model::init::NamedTensor;
use bert_burn::model::precision::{Precision, with_precision};
use bert_burn::pipeline::tokenizer_for;
use bert_burn::{
    BertConfig, BertError, BertForMaskedLM, BertTokenizer, Classifier, Encoding, Task,
};
use burn::tensor::Device;

use crate::backend::{Backend, BackendInfo};
use crate::model_files::ModelFiles;

/// Largest model the page accepts: weights are held in f32 in wasm memory (4 GiB at
/// most, shared with the tokenizer and the downloaded file) before going to the GPU.
pub const MAX_PARAMETER_BYTES: u64 = 1536 * 1024 * 1024;

/// What sits on top of the encoder: the masked-LM head, or a task head (loaded from a
/// task checkpoint, or trained in the page).
pub enum Head {
    MaskedLm(BertForMaskedLM),
    Classifier(Classifier),
}

pub struct Session {
    pub head: Head,
    /// The masked-LM model in f16 for inference, on GPUs with `shader-f16` (made from the
    /// f32 weights in `head`, which fine-tuning and downloads use).
    half: Option<BertForMaskedLM>,
    pub tokenizer: BertTokenizer,
    pub device: Device,
    pub backend: BackendInfo,
}

/// Parameters of a BERT model with this configuration and the head its config names
/// (as transformers counts them: a masked-LM or token classifier has no pooler).
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
    let labels = c.labels().map_or(0, |l| l.len() as u64);
    let head = match c.task() {
        Task::MaskedLm => h * h + h + 2 * h + v + if c.tie_word_embeddings { 0 } else { v * h },
        Task::Sequence => (h * h + h) + (h * labels + labels),
        Task::Token => h * labels + labels,
    };
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
                format!("{}: not a BERT {kind} checkpoint: {e}", files.source)
            }
            e => format!("{}: {e}", files.source),
        };
        let tokenizer = tokenizer_for(&config, files.tokenizer()?).map_err(named)?;
        let (weights, device) = (&files.weights[..], &backend.device);
        let from_file = HeadWeights::FromCheckpoint;
        let head = match config.task() {
            Task::MaskedLm => {
                Head::MaskedLm(load_with_config(&config, weights, device).map_err(named)?)
            }
            Task::Sequence => Head::Classifier(Classifier::Sequence(
                load_sequence_classifier(&config, weights, device, from_file).map_err(named)?,
            )),
            Task::Token => Head::Classifier(Classifier::Token(
                load_token_classifier(&config, weights, device, from_file).map_err(named)?,
            )),
        };
        Ok(Self::new(
            head,
            tokenizer,
            device.clone(),
            backend.info.clone(),
        ))
    }

    fn new(head: Head, tokenizer: BertTokenizer, device: Device, mut backend: BackendInfo) -> Self {
        let half = match (&head, Precision::best_for(&device)) {
            (Head::MaskedLm(m), Precision::F16) => Some(with_precision(m.clone(), Precision::F16)),
            _ => None,
        };
        backend.precision = match half {
            Some(_) => Precision::F16,
            None => Precision::F32,
        };
        Self {
            head,
            half,
            tokenizer,
            device,
            backend,
        }
    }

    /// The same tokenizer and backend with another head (after training).
    pub fn with_head(&self, head: Head) -> Self {
        Self::new(
            head,
            self.tokenizer.clone(),
            self.device.clone(),
            self.backend.clone(),
        )
    }

    /// The model predictions run on: the f16 copy where there is one.
    fn inference_model(&self) -> Result<&BertForMaskedLM, String> {
        let full = self.masked_lm()?;
        Ok(self.half.as_ref().unwrap_or(full))
    }

    pub fn config(&self) -> &BertConfig {
        match &self.head {
            Head::MaskedLm(m) => m.config(),
            Head::Classifier(c) => c.config(),
        }
    }

    pub fn task(&self) -> Task {
        match &self.head {
            Head::MaskedLm(_) => Task::MaskedLm,
            Head::Classifier(c) => c.task(),
        }
    }

    /// The masked-LM model, or why this checkpoint cannot fill masks.
    pub fn masked_lm(&self) -> Result<&BertForMaskedLM, String> {
        match &self.head {
            Head::MaskedLm(m) => Ok(m),
            Head::Classifier(c) => Err(format!(
                "this checkpoint is a {} classifier: it has no masked-LM head, so it cannot fill masks or be fine-tuned as one; use the Classify panel",
                task_name(c.task())
            )),
        }
    }

    fn named_tensors(&self) -> Vec<NamedTensor> {
        match &self.head {
            Head::MaskedLm(m) => m.named_tensors(),
            Head::Classifier(Classifier::Sequence(m)) => m.named_tensors(),
            Head::Classifier(Classifier::Token(m)) => m.named_tensors(),
        }
    }

    /// The model's weights and config in Hugging Face layout (f32), with `tokenizer`'s files.
    pub async fn export(&self, tokenizer: &CheckpointFiles) -> Result<CheckpointFiles, String> {
        CheckpointFiles::from_named(
            self.config(),
            self.named_tensors(),
            StoreDtype::F32,
            tokenizer,
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// The weights as safetensors bytes (f32), read back from the device.
    pub async fn weights(&self) -> Result<Vec<u8>, String> {
        named_to_safetensors(self.named_tensors(), StoreDtype::F32)
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
        fill_most_confident(
            self.inference_model()?,
            ids,
            type_ids,
            &self.tokenizer,
            true,
            &self.device,
        )
        .await
        .map_err(|e| e.to_string())
    }

    pub fn tokenize(&self, text: &str, text_b: Option<&str>) -> Result<Encoding, String> {
        self.tokenizer
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
        let model = self.inference_model()?;
        // Whether a failure was a lost GPU is the worker's to tell (it waits for the signal).
        analyze(model, ids, type_ids, &self.tokenizer, top_k, &self.device)
            .await
            .map_err(|e| e.to_string())
    }

    /// [`Self::analyze`] with the layer-by-layer predictions when `options.by_layer`.
    pub async fn analyze_with(
        &self,
        ids: &[u32],
        type_ids: &[u32],
        options: AnalyzeOptions,
    ) -> Result<Analysis, String> {
        let model = self.inference_model()?;
        analyze_with(model, ids, type_ids, &self.tokenizer, options, &self.device)
            .await
            .map_err(|e| e.to_string())
    }

    /// Every label's probability for a text (sequence task), or every token's label
    /// (token task), with the attention maps; `Err` for a masked-LM model.
    pub async fn classify(&self, encoding: &Encoding) -> Result<Classified, String> {
        let Head::Classifier(classifier) = &self.head else {
            return Err("this model has no classifier: train one in the Classify panel, or load a task checkpoint".into());
        };
        let pad = self.tokenizer.pad_id();
        let result = match classifier {
            Classifier::Sequence(m) => classify_sequence(m, encoding, pad, true, &self.device)
                .await
                .map(|c| Classified {
                    labels: c.predictions,
                    token_labels: Vec::new(),
                    attentions: c.attentions,
                }),
            Classifier::Token(m) => classify_tokens(m, encoding, pad, true, &self.device)
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
        self.tokenizer.mask_id()
    }

    pub fn mask_token(&self) -> &str {
        self.tokenizer.mask_token()
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

    use super::{MAX_PARAMETER_BYTES, check_fits, parameter_count};
    use crate::backend::BackendInfo;

    fn backend(max_binding_bytes: Option<u64>) -> BackendInfo {
        BackendInfo {
            kind: "webgpu".into(),
            adapter: "test".into(),
            fallback_reason: None,
            max_binding_bytes,
            software: false,
            precision: Precision::F32,
        }
    }

    #[test]
    fn bert_base_has_its_published_parameter_count() {
        // transformers' BertForMaskedLM of the default config, tied: 109,514,298.
        assert_eq!(parameter_count(&BertConfig::default()), 109_514_298);
    }

    #[test]
    fn task_models_count_their_heads_as_transformers_does() {
        // Measured with torch: BertForSequenceClassification (2 labels, with the pooler) and
        // BertForTokenClassification (9 labels, no pooler) of the default config.
        let sequence = BertConfig {
            architectures: vec!["BertForSequenceClassification".into()],
            ..BertConfig::default()
        };
        assert_eq!(parameter_count(&sequence), 109_483_778);
        let token = BertConfig {
            architectures: vec!["BertForTokenClassification".into()],
            num_labels: Some(9),
            ..BertConfig::default()
        };
        assert_eq!(parameter_count(&token), 108_898_569);
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
