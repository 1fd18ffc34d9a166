//! The one message protocol between the page and the model's worker.
//!
//! Every message is a plain JS object: `{id, request}` from the page, `{id, reply}`,
//! `{id, error}` or `{id, event}` back (`event`s report progress of a request still
//! running), and `{fatal}` when the worker is about to die. The typed parts below go
//! through `serde_wasm_bindgen`; bulk data never does: attention maps, weights and
//! files travel beside them as `payload` (typed arrays and `File`s, transferred where
//! they can be), so no tensor is ever turned into a JS array of numbers.

use bert_burn::inference::{AnalyzeOptions, FillStep, LabelScore, MaskPredictions, TokenLabel};
use bert_burn::train::classifier_run::ClassifierOptions;
use bert_burn::train::finetune_run::FineTuneOptions;
use bert_burn::{Encoding, Task};
use js_sys::{Object, Reflect};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use wasm_bindgen::JsValue;

use crate::backend::{BackendInfo, MemoryFigures, Preference};
use crate::model_files::Location;

/// What the page asks of the worker.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Load a checkpoint and make it the model (the one loaded before stays until this
    /// one is ready). `cpu_reason`: run on the CPU and say why (after a lost GPU).
    Load {
        source: Source,
        backend: Preference,
        cpu_reason: Option<String>,
    },
    /// WordPiece tokens of a text or pair. Replies [`Reply::Tokens`].
    Tokenize {
        text: String,
        text_b: Option<String>,
    },
    /// Top-k for every `[MASK]` and every attention map in one forward pass. Replies
    /// [`Reply::Analysis`] (with the encoding when the input was text) and the maps as a
    /// `Float32Array` payload.
    Analyze {
        input: Input,
        /// Top-k, each layer's guess too, words only (no special token as a filler).
        options: AnalyzeOptions,
    },
    /// One step of Fill all on the text: the library's `fill_most_confident`. Replies
    /// [`Reply::Filled`] with the encoding the step ran on.
    FillNext {
        text: String,
        text_b: Option<String>,
    },
    /// MLM fine-tuning of the current model on `text`: an [`Event::Step`] per step,
    /// then [`Reply::FineTuned`].
    FineTune {
        text: String,
        options: FineTuneOptions,
    },
    /// Ends the training run under way (fine-tuning or a classifier) after its step.
    StopRun,
    /// Trains a new sequence classifier from the current model on labelled lines
    /// (`label<TAB>text` or `label: text`), holding out every fifth: an
    /// [`Event::ClassifierStep`] per step, then [`Reply::ClassifierTrained`].
    TrainClassifier {
        examples: String,
        options: ClassifierOptions,
    },
    /// Every label's probability (or every token's label) for a text or pair, from the
    /// classifier trained here or the loaded task checkpoint. Replies [`Reply::Classified`]
    /// with the attention maps as a `Float32Array` payload.
    Classify {
        text: String,
        text_b: Option<String>,
    },
    /// The classifier (trained here, or loaded) in Hugging Face layout, as [`Reply::Exported`].
    ExportClassifier,
    /// Back to the weights as loaded.
    Reset,
    /// The current model in Hugging Face layout: [`Reply::Exported`] with the files as payload.
    Export,
    /// What the worker holds: its wasm heap and the device's pools. Replies [`Reply::Memory`].
    Memory,
    /// Destroys the WebGPU device (as a driver reset would). Replies
    /// [`Reply::DeviceDestroyed`] (`false` on the CPU).
    #[cfg(feature = "testing")]
    LoseDeviceForTesting,
    /// Makes the worker trap, as a bug or running out of memory would.
    #[cfg(feature = "testing")]
    CrashForTesting,
}

/// What a forward pass runs on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// Text as typed (and an optional second segment): the worker checks its length
    /// ([`check_texts`]) and tokenizes it, so the page never handles ids.
    Text {
        text: String,
        text_b: Option<String>,
    },
    /// Token ids, as the JavaScript API's `analyze(ids, typeIds, k)` takes them.
    Ids { ids: Vec<u32>, type_ids: Vec<u32> },
}

/// The longest text (each segment) the worker takes: the model reads at most its
/// `max_position_embeddings` tokens anyway; this keeps a pasted book from stalling it.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The most text a training run takes (fine-tuning's lines, a classifier's labelled
/// examples): every line is tokenized up front.
pub const MAX_TRAINING_CHARS: usize = 2_000_000;

/// Refuses `text` when it is longer than `limit` characters, naming it (`what`) and
/// saying `why` the limit is there.
fn check_length(text: &str, what: &str, limit: usize, why: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > limit {
        return Err(format!(
            "the {what} is {chars} characters long; the page takes up to {limit} ({why})"
        ));
    }
    Ok(())
}

/// Checks both segments of a text or pair against [`MAX_TEXT_CHARS`].
pub fn check_texts(text: &str, text_b: Option<&str>) -> Result<(), String> {
    let why = "the model reads only its first few hundred tokens";
    check_length(text, "sentence", MAX_TEXT_CHARS, why)?;
    text_b.map_or(Ok(()), |b| {
        check_length(b, "second sentence", MAX_TEXT_CHARS, why)
    })
}

/// Checks a training run's text (`what` it is) against [`MAX_TRAINING_CHARS`].
pub fn check_training_text(text: &str, what: &str) -> Result<(), String> {
    check_length(text, what, MAX_TRAINING_CHARS, "a few books")
}

/// Where a checkpoint's files come from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// Downloaded by the worker (Hub id or absolute URL), with progress events.
    Location { location: Location },
    /// The user's `File`s, as the payload (an array of `File`).
    Files,
    /// Bytes given to the JavaScript API: the payload is `{config, weights, tokenizer}`
    /// (`Uint8Array`s); `tokenizer` is `vocab.txt` when `tokenizer_is_vocab`.
    Bytes { tokenizer_is_vocab: bool },
}

/// What the worker answers.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Loaded(ModelInfo),
    Tokens(Encoding),
    /// The attention maps, `[layer][head][query][key]`, are the payload. `encoding`: the
    /// tokens the pass ran on, when it was given text. `kernels`: GPU kernels launched for
    /// it (0 on the CPU backend), `kernel_names` by kind ("name ×n"); `reads`:
    /// device-to-host reads.
    Analysis {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoding: Option<Encoding>,
        masks: Vec<MaskPredictions>,
        layers: usize,
        heads: usize,
        seq: usize,
        kernels: usize,
        kernel_names: Vec<String>,
        reads: usize,
    },
    /// The mask filled and its token (`None` when no mask was left), and the tokens of
    /// the text it was filled in (the page writes the word at that token's characters).
    Filled {
        step: Option<FillStep>,
        encoding: Encoding,
    },
    FineTuned(FineTuneSummary),
    ClassifierTrained(ClassifierSummary),
    /// Sequence task: `labels`, every label by probability; token task: `token_labels`,
    /// one per token of `tokens`. The attention maps `[layer][head][query][key]` are the payload.
    Classified {
        task: Task,
        tokens: Vec<String>,
        labels: Vec<LabelScore>,
        token_labels: Vec<TokenLabel>,
        layers: usize,
        heads: usize,
        seq: usize,
    },
    /// The checkpoint's file names and the size of its weights; the payload is one
    /// `Uint8Array`, the `.zip` of those files.
    Exported {
        files: Vec<String>,
        weights_bytes: u64,
        finetuned: bool,
    },
    Done,
    /// Whether [`Request::LoseDeviceForTesting`] found a WebGPU device to destroy.
    #[cfg(feature = "testing")]
    DeviceDestroyed {
        destroyed: bool,
    },
    Memory(MemoryFigures),
}

/// Progress of a request under way.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Bytes of one file downloaded so far (and its size, when the server says).
    Download {
        file: String,
        done: f64,
        total: Option<f64>,
    },
    /// The model is being built from downloaded files.
    Building {
        source: String,
    },
    Step(StepReport),
    ClassifierStep(ClassifierStepReport),
}

/// A failed request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    pub message: String,
    /// The WebGPU device was lost: the model must be reloaded (on the CPU).
    pub device_lost: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            device_lost: false,
        }
    }
}

/// A loaded model, as the page describes it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelInfo {
    pub source: String,
    pub layers: usize,
    pub hidden_size: usize,
    pub heads: usize,
    pub vocab_size: usize,
    pub max_positions: usize,
    pub parameters: u64,
    /// `config.json` as the model read it.
    pub config: serde_json::Value,
    pub backend: BackendInfo,
    pub mask_id: u32,
    pub mask_token: String,
    /// What the checkpoint's head does, and its labels (empty for a masked-LM).
    pub task: Task,
    pub labels: Vec<String>,
    /// From receiving the files to a usable model.
    pub build_ms: f64,
}

/// One fine-tuning step.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StepReport {
    pub step: usize,
    pub steps: usize,
    pub loss: f32,
    pub step_ms: f64,
    pub tokens_per_second: f64,
    pub examples: usize,
    pub memory: MemoryFigures,
}

/// One step of training a classifier; `accuracy` on the held-out examples, measured
/// every few steps and at the last.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClassifierStepReport {
    pub step: usize,
    pub steps: usize,
    pub loss: f32,
    pub accuracy: Option<f64>,
    pub step_ms: f64,
}

/// How a classifier's training ended (a failure is a [`Failure`] instead).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClassifierSummary {
    pub labels: Vec<String>,
    pub train_examples: usize,
    pub held_out: usize,
    pub steps_done: usize,
    pub stopped: bool,
    pub seconds: f64,
    /// On the held-out examples, after the last step.
    pub accuracy: f64,
    pub losses: Vec<f32>,
}

/// How a fine-tuning run ended (a failure is a [`Failure`] instead).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FineTuneSummary {
    pub steps_done: usize,
    pub stopped: bool,
    pub seconds: f64,
    pub losses: Vec<f32>,
}

/// A typed value as a JS value (plain objects, not `Map`s).
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, String> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| format!("could not encode a message: {e}"))
}

pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, String> {
    serde_wasm_bindgen::from_value(value).map_err(|e| format!("could not decode a message: {e}"))
}

/// A message object: `{id, <key>: value, payload?}`.
pub fn envelope(id: u32, key: &str, value: &JsValue, payload: Option<&JsValue>) -> JsValue {
    let message = Object::new();
    let _ = Reflect::set(&message, &"id".into(), &JsValue::from(id));
    let _ = Reflect::set(&message, &key.into(), value);
    if let Some(payload) = payload {
        let _ = Reflect::set(&message, &"payload".into(), payload);
    }
    message.into()
}

/// Field `key` of a message, if present.
pub fn field(message: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(message, &key.into())
        .ok()
        .filter(|v| !v.is_undefined())
}
