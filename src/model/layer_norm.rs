use burn::module::{Module, Param};
use burn::tensor::{DType, Tensor};

/// `torch.nn.LayerNorm` over the hidden dimension: `(x − mean) / √(var + eps) · γ + β`, with
/// the biased variance. Burn's own `LayerNorm` only normalises the last dimension and keeps
/// its epsilon private; this one serves both activation layouts (`layout.rs`), and is
/// written so that Burn's GPU fusion makes three kernels of it after the two reductions'
/// inputs: γ and β are reshaped before the arithmetic starts (a reshape in the middle of the
/// chain ends a fused kernel: the gain and shift then ran as two lone kernels).
#[derive(Module, Debug)]
pub struct LayerNorm {
    /// `weight` in the checkpoint, `[hidden]`.
    pub gamma: Param<Tensor<1>>,
    /// `bias` in the checkpoint, `[hidden]`.
    pub beta: Param<Tensor<1>>,
    /// `config.layer_norm_eps`.
    #[module(skip)]
    pub eps: f64,
}

impl LayerNorm {
    pub fn new(gamma: Tensor<1>, beta: Tensor<1>, eps: f64) -> Self {
        Self {
            gamma: Param::from_tensor(gamma),
            beta: Param::from_tensor(beta),
            eps,
        }
    }

    /// Normalises the last dimension (tokens as rows, `[.., hidden]`).
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.normalize(x, D - 1)
    }

    /// Normalises dimension 1 of `[batch, hidden, seq]` (tokens as columns).
    pub fn forward_columns(&self, x: Tensor<3>) -> Tensor<3> {
        self.normalize(x, 1)
    }

    fn normalize<const D: usize>(&self, x: Tensor<D>, dim: usize) -> Tensor<D> {
        // In half precision the statistics are taken in f32, as PyTorch does: squares of
        // activations past 256 overflow f16, and an epsilon like 1e-12 rounds to 0 there.
        let dtype = x.dtype();
        if matches!(dtype, DType::F16 | DType::BF16) {
            let up = |t: Tensor<1>| t.cast(DType::F32);
            let (gamma, beta) = (up(self.gamma.val()), up(self.beta.val()));
            return Self::normalized(x.cast(DType::F32), gamma, beta, self.eps, dim).cast(dtype);
        }
        Self::normalized(x, self.gamma.val(), self.beta.val(), self.eps, dim)
    }

    fn normalized<const D: usize>(
        x: Tensor<D>,
        gamma: Tensor<1>,
        beta: Tensor<1>,
        eps: f64,
        dim: usize,
    ) -> Tensor<D> {
        let mut shape = [1; D];
        shape[dim] = x.dims()[dim];
        let gamma = gamma.reshape(shape);
        let beta = beta.reshape(shape);
        let centered = x.clone() - x.mean_dim(dim);
        let var = (centered.clone() * centered.clone()).mean_dim(dim);
        centered / (var + eps).sqrt() * gamma + beta
    }
}
