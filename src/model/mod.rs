//! BERT for masked language modelling and classification, one struct per module of transformers'
//! `modeling_bert.py` (eager attention), so the two can be read side by side.
//!
//! Weights use Hugging Face's orientation where it matters to a reader
//! (`Linear` stores `[in, out]` as Burn does; checkpoints transpose on load/save).

mod activation;
mod attention;
mod bert;
pub mod checkpoint_tensors;
mod classification;
#[cfg(feature = "wgpu")]
pub mod direct_linear;
mod embeddings;
mod head;
pub mod init;
mod layer;
mod layer_norm;
mod layout;
pub mod names;
mod pooler;
pub mod precision;

pub use activation::apply_activation;
pub use attention::{BertAttention, BertSelfAttention, BertSelfOutput};
pub use bert::{BertForMaskedLM, BertModel, BertModelOutput, MaskedLmOutput, OutputOptions};
pub use classification::{BertForSequenceClassification, BertForTokenClassification};
pub use embeddings::BertEmbeddings;
pub use head::{BertLMPredictionHead, BertOnlyMLMHead, BertPredictionHeadTransform};
pub use layer::{BertEncoder, BertIntermediate, BertLayer, BertOutput};
pub use layer_norm::LayerNorm;
pub use pooler::BertPooler;
