use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::module::linear;

use super::activation::apply_activation;
use super::layer_norm::LayerNorm;
use crate::config::HiddenAct;

/// Dense + activation + LayerNorm before the vocabulary projection.
#[derive(Module, Debug)]
pub struct BertPredictionHeadTransform {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    #[module(skip)]
    pub act: HiddenAct,
}

impl BertPredictionHeadTransform {
    pub fn forward<const D: usize>(&self, hidden: Tensor<D>) -> Tensor<D> {
        self.layer_norm
            .forward(apply_activation(self.act, self.dense.forward(hidden)))
    }
}

/// Projection onto the vocabulary. The decoder weight is the word-embedding matrix
/// (`tie_word_embeddings`, the default); an untied checkpoint carries its own.
#[derive(Module, Debug)]
pub struct BertLMPredictionHead {
    pub transform: BertPredictionHeadTransform,
    /// `[vocab, hidden]`, only for checkpoints with `tie_word_embeddings: false`.
    pub decoder: Option<Param<Tensor<2>>>,
    /// `cls.predictions.bias`, `[vocab]`.
    pub bias: Param<Tensor<1>>,
}

impl BertLMPredictionHead {
    /// `hidden`: `[.., hidden]`; `word_embeddings`: `[vocab, hidden]` → logits `[.., vocab]`.
    pub fn forward<const D: usize>(
        &self,
        hidden: Tensor<D>,
        word_embeddings: Tensor<2>,
    ) -> Tensor<D> {
        let weight = match &self.decoder {
            Some(decoder) => decoder.val(),
            None => word_embeddings,
        };
        let transformed = self.transform.forward(hidden);
        // Fold the leading dims into rows so one 2-D matmul serves any rank.
        let dims = transformed.dims();
        let width = dims[D - 1];
        let rows: usize = dims[..D - 1].iter().product();
        let flat = transformed.reshape([rows, width]);
        #[cfg(feature = "wgpu")]
        if super::direct_linear::applies_to(&flat) {
            let logits =
                super::direct_linear::rows(weight.transpose(), flat, Some(self.bias.val()));
            let vocab = logits.dims()[1];
            return logits.reshape(with_last(dims, vocab));
        }
        let logits = linear(flat, weight.transpose(), Some(self.bias.val()));
        let vocab = logits.dims()[1];
        logits.reshape(with_last(dims, vocab))
    }
}

/// `dims` with its last entry replaced by `last`.
fn with_last<const D: usize>(mut dims: [usize; D], last: usize) -> [usize; D] {
    dims[D - 1] = last;
    dims
}

/// `cls` in the checkpoint.
#[derive(Module, Debug)]
pub struct BertOnlyMLMHead {
    pub predictions: BertLMPredictionHead,
}
