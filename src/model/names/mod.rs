//! The Hugging Face name of every tensor, per family: the one table that loading
//! (`init.rs`), saving (`named_tensors`) and the check of a file's header before anything is
//! allocated (`checkpoint_tensors.rs`) all read. One file per family, each holding its
//! names as transformers' modeling file spells them.

mod albert;
mod bert;
mod distilbert;
mod electra;
mod roberta;

use crate::config::{BertConfig, Family};

/// Prefixes (`….weight` / `….bias` follow) of one stored layer's tensors.
#[derive(Clone, Debug)]
pub struct LayerNames {
    pub query: String,
    pub key: String,
    pub value: String,
    /// The projection after attention (`attention.output.dense`, `out_lin`, `attention.dense`).
    pub attention_dense: String,
    /// The LayerNorm after attention and its residual.
    pub attention_norm: String,
    /// The feed-forward expansion (`intermediate.dense`, `ffn.lin1`, `ffn`).
    pub intermediate: String,
    /// The feed-forward contraction (`output.dense`, `ffn.lin2`, `ffn_output`).
    pub output: String,
    /// The LayerNorm after the feed-forward block and its residual.
    pub output_norm: String,
}

/// The names of a masked-LM checkpoint's tensors, outside the layers.
#[derive(Clone, Debug)]
pub struct TensorNames {
    pub family: Family,
    /// The encoder's prefix (`bert`, `roberta`…): a checkpoint saved from the bare encoder
    /// class has its names without it.
    pub base: &'static str,
    pub word_embeddings: String,
    pub position_embeddings: String,
    /// `None` for a family without token types.
    pub token_type_embeddings: Option<String>,
    pub embeddings_norm: String,
    /// ALBERT's `embedding_hidden_mapping_in`, ELECTRA's `embeddings_project`.
    pub projection: Option<String>,
    pub head_dense: String,
    pub head_norm: String,
    /// The decoder's own weight, only for untied checkpoints.
    pub head_decoder: String,
    /// The vocabulary bias as transformers 5 saves it, then the other names it goes by.
    pub head_bias: Vec<String>,
    /// For ALBERT: layers per group (a stored layer `n` is group `n / inner`, layer `n % inner`).
    inner_group_num: usize,
}

impl TensorNames {
    pub fn of(config: &BertConfig) -> Self {
        match config.family() {
            Family::Bert => bert::names(),
            Family::Roberta => roberta::names(),
            Family::DistilBert => distilbert::names(),
            Family::Albert => albert::names(config.inner_group_num.unwrap_or(1).max(1)),
            Family::Electra => electra::names(config.projects_embeddings()),
        }
    }

    /// The name the vocabulary bias is read under: untied, transformers computes with the
    /// decoder's own bias (`….decoder.bias`) where the head has one.
    pub fn vocab_bias(&self, tied: bool) -> &str {
        match self.head_bias.get(1) {
            Some(decoder_bias) if !tied => decoder_bias,
            _ => &self.head_bias[0],
        }
    }

    /// The names of stored layer `n`.
    pub fn layer(&self, n: usize) -> LayerNames {
        match self.family {
            // RoBERTa and ELECTRA keep BERT's layer names under their own prefix.
            Family::Bert | Family::Roberta | Family::Electra => bert::layer(self.base, n),
            Family::DistilBert => distilbert::layer(n),
            Family::Albert => albert::layer(n / self.inner_group_num, n % self.inner_group_num),
        }
    }

    /// The prefix every tensor of stored layer `n` starts with (`bert.encoder.layer.3.`).
    pub fn layer_prefix(&self, n: usize) -> String {
        let names = self.layer(n);
        let (a, b) = (names.query, names.output_norm);
        let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let cut = a[..common].rfind('.').map_or(0, |i| i + 1);
        a[..cut].to_string()
    }
}
