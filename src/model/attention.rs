use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Tensor, activation};

use super::layer_norm::LayerNorm;
use super::layout::{linear_columns, linear_rows, matmul_columns};

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
    fn scaling(&self) -> f64 {
        (self.head_dim as f64).powf(-0.5)
    }

    /// `[batch, seq, hidden]` → `[batch, heads, seq, head_dim]`.
    fn split_heads(&self, x: Tensor<3>) -> Tensor<4> {
        let [batch, seq, _] = x.dims();
        x.reshape([batch, seq, self.num_heads, self.head_dim])
            .swap_dims(1, 2)
    }

    /// `hidden`: `[batch, seq, hidden]`; `additive_mask`: `[batch, 1, 1, seq]`, 0 where a
    /// key may be attended to and the most negative value of the model's float type where
    /// it is padding (`None`: no padding). Returns the context `[batch, seq, hidden]` and probabilities
    /// `[batch, heads, seq, seq]`.
    pub fn forward(
        &self,
        hidden: Tensor<3>,
        additive_mask: Option<Tensor<4>>,
    ) -> (Tensor<3>, Tensor<4>) {
        let [batch, seq, width] = hidden.dims();
        let q = self.split_heads(linear_rows(&self.query, hidden.clone()));
        let k = self.split_heads(linear_rows(&self.key, hidden.clone()));
        let v = self.split_heads(linear_rows(&self.value, hidden));

        let scores = q.matmul(k.swap_dims(2, 3)) * self.scaling();
        let probs = activation::softmax(masked(scores, additive_mask), 3);
        let context = probs
            .clone()
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, seq, width]);
        (context, probs)
    }

    /// [`Self::forward`] at inference, with tokens as columns: `hidden` `[batch, hidden, seq]`
    /// → context `[batch, hidden, seq]`, probabilities `[batch, heads, seq, seq]` as there.
    /// Each head's rows of `Qᵀ`, `Kᵀ`, `Vᵀ` are contiguous in this layout, so `Q·Kᵀ` and
    /// `(P·V)ᵀ = Vᵀ·Pᵀ` read them in place: no head split or merge copies. Two identities
    /// save a GPU kernel each per layer, with the same probabilities:
    /// - the key bias is left out: it adds `q·b_k` to every score of a query's row, and
    ///   softmax does not change when a row is shifted by a constant;
    /// - the scaling is applied to `Q` together with its bias, not to the scores (for the
    ///   usual head sizes, 64 or 32, it is a power of two and the result is bit-identical).
    pub fn forward_columns(
        &self,
        hidden: Tensor<3>,
        additive_mask: Option<Tensor<4>>,
    ) -> (Tensor<3>, Tensor<4>) {
        let [batch, width, seq] = hidden.dims();
        let heads = |x: Tensor<3>| x.reshape([batch, self.num_heads, self.head_dim, seq]);
        let q_t = heads(linear_columns(&self.query, hidden.clone()) * self.scaling());
        let k_t = heads(matmul_columns(&self.key, hidden.clone()));
        let v_t = heads(linear_columns(&self.value, hidden));

        let scores = q_t.swap_dims(2, 3).matmul(k_t);
        let probs = activation::softmax(masked(scores, additive_mask), 3);
        let context_t = v_t.matmul(probs.clone().swap_dims(2, 3));
        (context_t.reshape([batch, width, seq]), probs)
    }
}

fn masked(scores: Tensor<4>, additive_mask: Option<Tensor<4>>) -> Tensor<4> {
    match additive_mask {
        Some(mask) => scores + mask,
        None => scores,
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
            .forward(linear_rows(&self.dense, hidden) + input)
    }

    /// [`Self::forward`] with tokens as columns (`[batch, hidden, seq]`).
    pub fn forward_columns(&self, hidden: Tensor<3>, input: Tensor<3>) -> Tensor<3> {
        self.layer_norm
            .forward_columns(linear_columns(&self.dense, hidden) + input)
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
    pub fn forward(
        &self,
        hidden: Tensor<3>,
        additive_mask: Option<Tensor<4>>,
    ) -> (Tensor<3>, Tensor<4>) {
        let (context, probs) = self.self_attention.forward(hidden.clone(), additive_mask);
        (self.output.forward(context, hidden), probs)
    }

    /// [`Self::forward`] with tokens as columns (`[batch, hidden, seq]`).
    pub fn forward_columns(
        &self,
        hidden: Tensor<3>,
        additive_mask: Option<Tensor<4>>,
    ) -> (Tensor<3>, Tensor<4>) {
        let (context, probs) = self
            .self_attention
            .forward_columns(hidden.clone(), additive_mask);
        (self.output.forward_columns(context, hidden), probs)
    }
}
