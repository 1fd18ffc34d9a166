use burn::module::Module;
use burn::nn::Embedding;

use super::layer_norm::LayerNorm;
use burn::tensor::{Int, Tensor};

/// Word + absolute position + token type embeddings, then LayerNorm
/// (dropout is the identity at inference and is left out). `BertEmbeddings`,
/// `RobertaEmbeddings` (positions after the padding id), DistilBERT's `Embeddings` (no token
/// types), ALBERT's and ELECTRA's (at `embedding_size`).
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    /// `None` where the family has no token types (DistilBERT).
    pub token_type_embeddings: Option<Embedding>,
    pub layer_norm: LayerNorm,
    /// RoBERTa's `padding_idx`: positions count from it over the non-padding tokens.
    #[module(skip)]
    pub padding_idx: Option<usize>,
}

impl BertEmbeddings {
    /// `input_ids`, `token_type_ids`: `[batch, seq]` → `[batch, seq, width]`.
    /// Positions are `0..seq`, as transformers uses when no `position_ids` are given, or
    /// RoBERTa's `create_position_ids_from_input_ids`.
    pub fn forward(&self, input_ids: Tensor<2, Int>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, seq] = input_ids.dims();
        let words = self.word_embeddings.forward(input_ids.clone());
        let positions = match self.padding_idx {
            // The first `seq` rows of the position table, broadcast over the batch.
            None => self
                .position_embeddings
                .weight
                .val()
                .narrow(0, 0, seq)
                .unsqueeze_dim::<3>(0),
            Some(pad) => {
                let real = input_ids.not_equal_elem(pad as i64).int();
                let ids = real.clone().cumsum(1) * real + pad as i64;
                self.position_embeddings.forward(ids)
            }
        };
        let embedded = match &self.token_type_embeddings {
            Some(types) => words + types.forward(token_type_ids) + positions,
            None => words + positions,
        };
        self.layer_norm.forward(embedded)
    }
}
