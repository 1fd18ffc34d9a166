use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::activation::tanh;

/// `BertPooler`: dense + tanh on the first token (`[CLS]`), the input of the
/// sequence-classification head.
#[derive(Module, Debug)]
pub struct BertPooler {
    pub dense: Linear,
}

impl BertPooler {
    /// `hidden`: `[batch, seq, hidden]` → `[batch, hidden]`.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<2> {
        let [batch, _, width] = hidden.dims();
        let first = hidden
            .slice([0..batch, 0..1, 0..width])
            .reshape([batch, width]);
        tanh(self.dense.forward(first))
    }
}
