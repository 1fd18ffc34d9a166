//! `modeling_electra.py`'s names: BERT's embeddings and layers under `electra.`,
//! `embeddings_project` when `embedding_size` differs from `hidden_size`, and the generator's
//! head (`generator_predictions.dense/LayerNorm`, `generator_lm_head`).

use super::TensorNames;
use crate::config::Family;

pub(super) fn names(projected: bool) -> TensorNames {
    let e = "electra.embeddings";
    TensorNames {
        family: Family::Electra,
        base: "electra",
        word_embeddings: format!("{e}.word_embeddings.weight"),
        position_embeddings: format!("{e}.position_embeddings.weight"),
        token_type_embeddings: Some(format!("{e}.token_type_embeddings.weight")),
        embeddings_norm: format!("{e}.LayerNorm"),
        projection: projected.then(|| "electra.embeddings_project".into()),
        head_dense: "generator_predictions.dense".into(),
        head_norm: "generator_predictions.LayerNorm".into(),
        head_decoder: "generator_lm_head.weight".into(),
        head_bias: vec!["generator_lm_head.bias".into()],
        inner_group_num: 1,
    }
}
