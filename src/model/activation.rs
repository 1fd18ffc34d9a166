use burn::tensor::{Tensor, activation};

use crate::config::HiddenAct;

/// `ACT2FN[config.hidden_act]` of transformers.
pub fn apply_activation<const D: usize>(act: HiddenAct, x: Tensor<D>) -> Tensor<D> {
    match act {
        HiddenAct::Gelu => activation::gelu(x),
        HiddenAct::GeluTanh => activation::gelu_approximate(x),
        HiddenAct::Relu => activation::relu(x),
        HiddenAct::Silu => activation::silu(x),
    }
}
