//! A BERT masked-language model in Burn that gives the same numbers as Hugging Face
//! transformers, loads published checkpoints as they are, and runs on the CPU or
//! through wgpu (WebGPU in the browser).

pub mod checkpoint;
pub mod config;
pub mod device;
pub mod error;
pub mod eval;
pub mod inference;
pub mod model;
pub mod pipeline;
pub mod tokenizer;
pub mod train;

pub use config::{BertConfig, Task};
pub use error::{BertError, Result};
pub use model::BertForMaskedLM;
pub use pipeline::{Head, Pipeline};
pub use tokenizer::{BertTokenizer, Encoding};
