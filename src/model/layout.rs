//! The two layouts activations take, and the layers that care which one they get.
//!
//! Training keeps transformers' layout, tokens as rows (`[batch, seq, width]`), and Burn's own
//! `x · W`: its backward pass was the faster one (BENCHMARKS.md, "Why the code is as it
//! is"). Inference runs the encoder with tokens as columns (`[batch, width, seq]`, see
//! `BertModel::forward`), where a linear layer is `Wᵀ · X + b`: the weight is the left operand,
//! so the long dimension (the layer's width) is the one the matrix-multiply kernels tile,
//! whatever the number of tokens, and the result is already in the layout the next step reads.

use burn::nn::Linear;
use burn::tensor::Tensor;

/// `x · W + b` (transformers' `nn.Linear`) for `x` of `[batch, seq, in]`.
pub fn linear_rows(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    layer.forward(x)
}

/// `Wᵀ · X + b` for `x` of `[batch, in, seq]` (tokens as columns) → `[batch, out, seq]`.
/// The same numbers as [`linear_rows`], transposed: on the wasm CPU backend Burn's gemm
/// otherwise works through a few rows in blocks of 8 (BENCHMARKS.md, "Why the code is as
/// it is"), and on WebGPU no copy kernel runs between layers.
pub fn linear_columns(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    #[cfg(feature = "wgpu")]
    if super::direct_linear::applies_to(&x) {
        return super::direct_linear::linear_columns(layer, x, true);
    }
    let out = matmul_columns(layer, x);
    match &layer.bias {
        Some(b) => {
            let d_out = b.dims()[0];
            out + b.val().reshape([1, d_out, 1])
        }
        None => out,
    }
}

/// [`linear_columns`] without the bias: `Wᵀ · X`.
pub fn matmul_columns(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    #[cfg(feature = "wgpu")]
    if super::direct_linear::applies_to(&x) {
        return super::direct_linear::linear_columns(layer, x, false);
    }
    // `[1, out, in]` broadcasts over the batch; `transpose` is a view, which the matmul
    // kernels read as a column-major operand without copying it.
    layer
        .weight
        .val()
        .transpose()
        .unsqueeze_dim::<3>(0)
        .matmul(x)
}
