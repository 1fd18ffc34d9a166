//! Every way loading or running a model can fail, with a message a user can act on.

use thiserror::Error;

/// Errors from configuration, checkpoint, tokenizer and inference code.
#[derive(Debug, Error)]
pub enum BertError {
    #[error("invalid config.json: {0}")]
    Config(String),

    #[error("invalid safetensors file: {0}")]
    Safetensors(String),

    #[error("tensor `{name}` is missing from the checkpoint (looked for {tried})")]
    MissingTensor { name: String, tried: String },

    #[error("tensor `{name}` has shape {actual:?}, expected {expected:?}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        actual: Vec<usize>,
    },

    #[error(
        "tensor `{name}` has dtype {dtype}; only floating-point tensors (F32, F16, BF16, F64) can be weights"
    )]
    UnsupportedDtype { name: String, dtype: String },

    #[error(
        "tensor `{name}` holds a non-finite value ({value}) at index {index}: the checkpoint is damaged"
    )]
    NonFiniteWeight {
        name: String,
        index: usize,
        value: f32,
    },

    #[error(
        "the model's output is not finite (NaN or ±∞){context}: its weights are damaged or fine-tuning diverged (reset or reload the model)"
    )]
    NonFiniteOutput { context: String },

    #[error("invalid tokenizer: {0}")]
    Tokenizer(String),

    #[error("invalid input: {0}")]
    Input(String),

    #[error("device error: {0}")]
    Device(String),

    /// A training run that cannot go on (its loss is no longer a number, it has ended).
    #[error("{0}")]
    Training(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, BertError>;

impl BertError {
    /// Wraps an I/O error with the path or action that caused it.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        BertError::Io {
            context: context.into(),
            source,
        }
    }
}
