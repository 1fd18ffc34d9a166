//! `modeling_distilbert.py`'s names: `Embeddings` without token types, `TransformerBlock`s
//! (`MultiHeadSelfAttention` `q_lin…out_lin`, `sa_layer_norm`, `FFN` `lin1/lin2`,
//! `output_layer_norm`) and the head `vocab_transform → vocab_layer_norm → vocab_projector`.

use super::{LayerNames, TensorNames};
use crate::config::Family;

pub(super) fn names() -> TensorNames {
    let e = "distilbert.embeddings";
    TensorNames {
        family: Family::DistilBert,
        base: "distilbert",
        word_embeddings: format!("{e}.word_embeddings.weight"),
        position_embeddings: format!("{e}.position_embeddings.weight"),
        token_type_embeddings: None,
        embeddings_norm: format!("{e}.LayerNorm"),
        projection: None,
        head_dense: "vocab_transform".into(),
        head_norm: "vocab_layer_norm".into(),
        head_decoder: "vocab_projector.weight".into(),
        head_bias: vec!["vocab_projector.bias".into()],
        inner_group_num: 1,
    }
}

pub(super) fn layer(n: usize) -> LayerNames {
    let p = format!("distilbert.transformer.layer.{n}");
    LayerNames {
        query: format!("{p}.attention.q_lin"),
        key: format!("{p}.attention.k_lin"),
        value: format!("{p}.attention.v_lin"),
        attention_dense: format!("{p}.attention.out_lin"),
        attention_norm: format!("{p}.sa_layer_norm"),
        intermediate: format!("{p}.ffn.lin1"),
        output: format!("{p}.ffn.lin2"),
        output_norm: format!("{p}.output_layer_norm"),
    }
}
