use burn::module::Module;
use burn::nn::Embedding;

use super::layer_norm::LayerNorm;
use burn::tensor::{Int, Tensor};

/// Word + absolute position + token type embeddings, then LayerNorm
/// (dropout is the identity at inference and is left out).
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    pub layer_norm: LayerNorm,
}

impl BertEmbeddings {
    /// `input_ids`, `token_type_ids`: `[batch, seq]` → `[batch, seq, hidden]`.
    /// Positions are `0..seq`, as transformers uses when no `position_ids` are given.
    pub fn forward(&self, input_ids: Tensor<2, Int>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, seq] = input_ids.dims();
        let words = self.word_embeddings.forward(input_ids);
        let types = self.token_type_embeddings.forward(token_type_ids);
        // The first `seq` rows of the position table, broadcast over the batch.
        let positions = self
            .position_embeddings
            .weight
            .val()
            .narrow(0, 0, seq)
            .unsqueeze_dim::<3>(0);
        self.layer_norm.forward(words + types + positions)
    }
}
