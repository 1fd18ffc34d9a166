//! Half precision for inference on GPUs that compute in it (WebGPU's `shader-f16`): half the
//! bytes of every weight and activation to move, which is what a forward pass of a few
//! tokens waits on. Training keeps f32 (AdamW's updates are smaller than f16's resolution
//! near 1), so a session that fine-tunes holds its f32 weights and makes the f16 copy from
//! them.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

/// The float type a model's inference runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    F16,
}

impl Precision {
    /// The best the device offers for inference: f16 on a hardware GPU that has it, else
    /// f32. The CPU backends gain nothing from f16, nor do software adapters (they emulate
    /// it on the CPU, and f16 would also leave our direct kernel, which is f32 only).
    pub fn best_for(device: &Device) -> Self {
        match hardware_gpu(device) && device.supports_dtype(DType::F16) {
            true => Self::F16,
            false => Self::F32,
        }
    }

    pub fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F16 => DType::F16,
        }
    }
}

/// A wgpu device whose adapter is not a software one (those run the direct kernel).
#[cfg(feature = "wgpu")]
fn hardware_gpu(device: &Device) -> bool {
    super::direct_linear::on_wgpu(device) && !super::direct_linear::enabled()
}

#[cfg(not(feature = "wgpu"))]
fn hardware_gpu(_device: &Device) -> bool {
    false
}

/// `module` with every float parameter in `precision`.
pub fn with_precision<M: Module>(module: M, precision: Precision) -> M {
    struct Cast(DType);
    impl ModuleMapper for Cast {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let dtype = self.0;
            param.map(|t| t.cast(dtype))
        }
    }
    module.map(&mut Cast(precision.dtype()))
}

/// The most negative finite value of `dtype`: what a padded key adds to the attention
/// scores (transformers adds `finfo(dtype).min`; f32's would be −∞ in f16, and 0 · −∞ a NaN).
pub fn most_negative(dtype: DType) -> f32 {
    match dtype {
        DType::F16 => half::f16::MIN.to_f32(),
        DType::BF16 => half::bf16::MIN.to_f32(),
        _ => f32::MIN,
    }
}
