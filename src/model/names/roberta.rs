//! `modeling_roberta.py`'s names (XLM-RoBERTa and CamemBERT use them too): BERT's layers
//! under `roberta.`, and `RobertaLMHead` as `lm_head`.

use super::TensorNames;
use crate::config::Family;

pub(super) fn names() -> TensorNames {
    let e = "roberta.embeddings";
    TensorNames {
        family: Family::Roberta,
        base: "roberta",
        word_embeddings: format!("{e}.word_embeddings.weight"),
        position_embeddings: format!("{e}.position_embeddings.weight"),
        token_type_embeddings: Some(format!("{e}.token_type_embeddings.weight")),
        embeddings_norm: format!("{e}.LayerNorm"),
        projection: None,
        head_dense: "lm_head.dense".into(),
        head_norm: "lm_head.layer_norm".into(),
        head_decoder: "lm_head.decoder.weight".into(),
        head_bias: vec!["lm_head.bias".into(), "lm_head.decoder.bias".into()],
        inner_group_num: 1,
    }
}
