use burn::module::Module;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

use super::activation::apply_activation;
use super::attention::BertAttention;
use crate::config::HiddenAct;

/// Feed-forward expansion with the configured activation.
#[derive(Module, Debug)]
pub struct BertIntermediate {
    pub dense: Linear,
    #[module(skip)]
    pub act: HiddenAct,
}

impl BertIntermediate {
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        apply_activation(self.act, super::linear::linear(&self.dense, hidden))
    }
}

/// Feed-forward contraction, residual connection and LayerNorm.
#[derive(Module, Debug)]
pub struct BertOutput {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
}

impl BertOutput {
    pub fn forward(&self, hidden: Tensor<3>, input: Tensor<3>) -> Tensor<3> {
        self.layer_norm
            .forward(super::linear::linear(&self.dense, hidden) + input)
    }
}

/// One transformer block.
#[derive(Module, Debug)]
pub struct BertLayer {
    pub attention: BertAttention,
    pub intermediate: BertIntermediate,
    pub output: BertOutput,
}

impl BertLayer {
    /// Returns the layer's output and its attention probabilities.
    pub fn forward(&self, hidden: Tensor<3>, additive_mask: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        let (attended, probs) = self.attention.forward(hidden, additive_mask);
        let out = self
            .output
            .forward(self.intermediate.forward(attended.clone()), attended);
        (out, probs)
    }
}

/// The stack of layers.
#[derive(Module, Debug)]
pub struct BertEncoder {
    pub layer: Vec<BertLayer>,
}
