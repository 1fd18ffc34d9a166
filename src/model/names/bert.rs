//! `modeling_bert.py`'s names (RoBERTa and ELECTRA keep its layer names under their prefix).

use super::{LayerNames, TensorNames};
use crate::config::Family;

pub(super) fn names() -> TensorNames {
    let e = "bert.embeddings";
    TensorNames {
        family: Family::Bert,
        base: "bert",
        word_embeddings: format!("{e}.word_embeddings.weight"),
        position_embeddings: format!("{e}.position_embeddings.weight"),
        token_type_embeddings: Some(format!("{e}.token_type_embeddings.weight")),
        embeddings_norm: format!("{e}.LayerNorm"),
        projection: None,
        head_dense: "cls.predictions.transform.dense".into(),
        head_norm: "cls.predictions.transform.LayerNorm".into(),
        head_decoder: "cls.predictions.decoder.weight".into(),
        // transformers 4 wrote both, tied; untied, 5 writes the decoder's own.
        head_bias: vec![
            "cls.predictions.bias".into(),
            "cls.predictions.decoder.bias".into(),
        ],
        inner_group_num: 1,
    }
}

/// `{base}.encoder.layer.{n}.…`: `BertLayer` and the families that copy it.
pub(super) fn layer(base: &str, n: usize) -> LayerNames {
    let p = format!("{base}.encoder.layer.{n}");
    LayerNames {
        query: format!("{p}.attention.self.query"),
        key: format!("{p}.attention.self.key"),
        value: format!("{p}.attention.self.value"),
        attention_dense: format!("{p}.attention.output.dense"),
        attention_norm: format!("{p}.attention.output.LayerNorm"),
        intermediate: format!("{p}.intermediate.dense"),
        output: format!("{p}.output.dense"),
        output_norm: format!("{p}.output.LayerNorm"),
    }
}
