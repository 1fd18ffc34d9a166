use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;

use super::activation::apply_activation;
use super::attention::BertAttention;
use super::layer_norm::LayerNorm;
use super::layout::{linear_columns, linear_rows};
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
        apply_activation(self.act, linear_rows(&self.dense, hidden))
    }

    /// [`Self::forward`] with tokens as columns (`[batch, hidden, seq]`).
    pub fn forward_columns(&self, hidden: Tensor<3>) -> Tensor<3> {
        apply_activation(self.act, linear_columns(&self.dense, hidden))
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
            .forward(linear_rows(&self.dense, hidden) + input)
    }

    /// [`Self::forward`] with tokens as columns (`[batch, hidden, seq]`).
    pub fn forward_columns(&self, hidden: Tensor<3>, input: Tensor<3>) -> Tensor<3> {
        self.layer_norm
            .forward_columns(linear_columns(&self.dense, hidden) + input)
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
    pub fn forward(
        &self,
        hidden: Tensor<3>,
        additive_mask: Option<Tensor<4>>,
    ) -> (Tensor<3>, Tensor<4>) {
        let (attended, probs) = self.attention.forward(hidden, additive_mask);
        let out = self
            .output
            .forward(self.intermediate.forward(attended.clone()), attended);
        (out, probs)
    }

    /// [`Self::forward`] with tokens as columns: `hidden` `[batch, hidden, seq]`.
    pub fn forward_columns(
        &self,
        hidden: Tensor<3>,
        additive_mask: Option<Tensor<4>>,
    ) -> (Tensor<3>, Tensor<4>) {
        let (attended, probs) = self.attention.forward_columns(hidden, additive_mask);
        let out = self.output.forward_columns(
            self.intermediate.forward_columns(attended.clone()),
            attended,
        );
        (out, probs)
    }
}

/// The stack of layers. ALBERT stores fewer layers than it runs (`layer_schedule`).
#[derive(Module, Debug)]
pub struct BertEncoder {
    /// The stored layers.
    pub layer: Vec<BertLayer>,
    /// Which stored layer each step runs, in order (`BertConfig::layer_schedule`).
    #[module(skip)]
    pub schedule: Vec<usize>,
}

impl BertEncoder {
    /// The layers in the order the forward pass runs them.
    pub fn steps(&self) -> impl Iterator<Item = &BertLayer> {
        self.schedule.iter().filter_map(|&n| self.layer.get(n))
    }
}
