use burn::module::Module;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Tensor, activation};

/// Multi-head scaled dot-product self-attention that keeps its probabilities.
#[derive(Module, Debug)]
pub struct BertSelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub num_heads: usize,
    pub head_dim: usize,
}

impl BertSelfAttention {
    /// `[batch, seq, hidden]` → `[batch, heads, seq, head_dim]`.
    fn split_heads(&self, x: Tensor<3>) -> Tensor<4> {
        let [batch, seq, _] = x.dims();
        x.reshape([batch, seq, self.num_heads, self.head_dim])
            .swap_dims(1, 2)
    }

    /// `hidden`: `[batch, seq, hidden]`; `additive_mask`: `[batch, 1, 1, seq]`, 0 where a
    /// key may be attended to and the most negative f32 where it is padding.
    /// Returns the context `[batch, seq, hidden]` and probabilities `[batch, heads, seq, seq]`.
    pub fn forward(&self, hidden: Tensor<3>, additive_mask: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        let [batch, seq, width] = hidden.dims();
        let q = self.split_heads(super::linear::linear(&self.query, hidden.clone()));
        let k = self.split_heads(super::linear::linear(&self.key, hidden.clone()));
        let v = self.split_heads(super::linear::linear(&self.value, hidden));

        let scaling = (self.head_dim as f64).powf(-0.5);
        let scores = q.matmul(k.swap_dims(2, 3)) * scaling + additive_mask;
        let probs = activation::softmax(scores, 3);
        let context = probs
            .clone()
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, seq, width]);
        (context, probs)
    }
}

/// Projection after attention, residual connection and LayerNorm.
#[derive(Module, Debug)]
pub struct BertSelfOutput {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
}

impl BertSelfOutput {
    pub fn forward(&self, hidden: Tensor<3>, input: Tensor<3>) -> Tensor<3> {
        self.layer_norm
            .forward(super::linear::linear(&self.dense, hidden) + input)
    }
}

/// `BertAttention`: self-attention followed by its output block.
#[derive(Module, Debug)]
pub struct BertAttention {
    /// `attention.self` in the checkpoint (`self` is a Rust keyword).
    pub self_attention: BertSelfAttention,
    pub output: BertSelfOutput,
}

impl BertAttention {
    pub fn forward(&self, hidden: Tensor<3>, additive_mask: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        let (context, probs) = self.self_attention.forward(hidden.clone(), additive_mask);
        (self.output.forward(context, hidden), probs)
    }
}
