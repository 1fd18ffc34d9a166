//! `modeling_albert.py`'s names: embeddings at `embedding_size`,
//! `encoder.embedding_hidden_mapping_in`, layers stored once per group
//! (`albert_layer_groups.{g}.albert_layers.{j}`: `attention.query…dense/LayerNorm`, `ffn`,
//! `ffn_output`, `full_layer_layer_norm`) and `predictions.dense/LayerNorm/decoder`.

use super::{LayerNames, TensorNames};
use crate::config::Family;

pub(super) fn names(inner_group_num: usize) -> TensorNames {
    let e = "albert.embeddings";
    TensorNames {
        family: Family::Albert,
        base: "albert",
        word_embeddings: format!("{e}.word_embeddings.weight"),
        position_embeddings: format!("{e}.position_embeddings.weight"),
        token_type_embeddings: Some(format!("{e}.token_type_embeddings.weight")),
        embeddings_norm: format!("{e}.LayerNorm"),
        projection: Some("albert.encoder.embedding_hidden_mapping_in".into()),
        head_dense: "predictions.dense".into(),
        head_norm: "predictions.LayerNorm".into(),
        head_decoder: "predictions.decoder.weight".into(),
        head_bias: vec!["predictions.bias".into(), "predictions.decoder.bias".into()],
        inner_group_num,
    }
}

pub(super) fn layer(group: usize, inner: usize) -> LayerNames {
    let p = format!("albert.encoder.albert_layer_groups.{group}.albert_layers.{inner}");
    LayerNames {
        query: format!("{p}.attention.query"),
        key: format!("{p}.attention.key"),
        value: format!("{p}.attention.value"),
        attention_dense: format!("{p}.attention.dense"),
        attention_norm: format!("{p}.attention.LayerNorm"),
        intermediate: format!("{p}.ffn"),
        output: format!("{p}.ffn_output"),
        output_norm: format!("{p}.full_layer_layer_norm"),
    }
}
