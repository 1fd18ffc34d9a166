use burn::tensor::{Tensor, activation};

use crate::config::HiddenAct;

/// `ACT2FN[config.hidden_act]` of transformers.
pub fn apply_activation<const D: usize>(act: HiddenAct, x: Tensor<D>) -> Tensor<D> {
    match act {
        // Only where a gradient will flow: inference keeps the single fused kernel.
        HiddenAct::Gelu if x.is_tracked() => gelu_for_autodiff(x),
        HiddenAct::Gelu => activation::gelu(x),
        HiddenAct::GeluTanh => activation::gelu_approximate(x),
        HiddenAct::Relu => activation::relu(x),
        HiddenAct::Silu => activation::silu(x),
    }
}

/// Exact GELU, `x · (1 + erf(x / √2)) / 2`, built from `erf` so that autodiff
/// differentiates it exactly. Burn 0.22's fused `gelu` has a backward that is the
/// derivative of the *tanh approximation* on every backend that does not override it
/// (wgpu/WebGPU among them): gradients came out up to 9e-4 off transformers' there,
/// against 1e-6 on the CPU backend, which overrides it exactly.
fn gelu_for_autodiff<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone() * ((x / core::f32::consts::SQRT_2).erf() + 1.0) * 0.5
}
