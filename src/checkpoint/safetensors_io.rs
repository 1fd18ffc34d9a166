//! Reading and writing `.safetensors` files as host `f32` data.

use std::borrow::Cow;
use std::collections::HashMap;

use half::{bf16, f16};
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView, View};

use crate::error::{BertError, Result};

/// A parsed safetensors file, borrowing the bytes it came from.
pub struct SafetensorsFile<'a> {
    inner: SafeTensors<'a>,
}

impl<'a> SafetensorsFile<'a> {
    /// Parses and validates the header: a truncated file or a header whose offsets
    /// disagree with the tensors' dtypes and shapes is rejected here.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let inner = SafeTensors::deserialize(bytes).map_err(|e| {
            BertError::Safetensors(format!("{e:?} (file of {} bytes)", bytes.len()))
        })?;
        Ok(Self { inner })
    }

    pub fn names(&self) -> Vec<String> {
        self.inner
            .names()
            .into_iter()
            .map(|s| s.to_string())
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.inner.tensor(name).is_ok()
    }

    /// Checks, from the header alone, that `name` has `shape` and a floating-point dtype.
    pub fn check(&self, name: &str, shape: &[usize]) -> Result<()> {
        let view = self.view(name)?;
        if view.shape() != shape {
            return Err(BertError::ShapeMismatch {
                name: name.into(),
                expected: shape.to_vec(),
                actual: view.shape().to_vec(),
            });
        }
        if !is_float(view.dtype()) {
            return Err(BertError::UnsupportedDtype {
                name: name.into(),
                dtype: format!("{:?}", view.dtype()),
            });
        }
        Ok(())
    }

    /// The tensor as `f32`, widening f16/bf16 and narrowing f64; any other dtype is an error.
    pub fn f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let view = self.view(name)?;
        Ok((view.shape().to_vec(), to_f32(name, &view)?))
    }

    fn view(&self, name: &str) -> Result<TensorView<'_>> {
        self.inner
            .tensor(name)
            .map_err(|_| BertError::MissingTensor {
                name: name.into(),
                tried: format!("`{name}`"),
            })
    }
}

fn to_f32(name: &str, view: &TensorView<'_>) -> Result<Vec<f32>> {
    let bytes = view.data();
    let values: Vec<f32> = match view.dtype() {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32)
            .collect(),
        other => {
            return Err(BertError::UnsupportedDtype {
                name: name.into(),
                dtype: format!("{other:?}"),
            });
        }
    };
    // One pass while the values are at hand: a NaN in a weight turns every prediction
    // into NaN, which is far harder to trace than this message. (An f64 beyond f32's
    // range has become ±∞ here, and is refused too.)
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(BertError::NonFiniteWeight {
            name: name.into(),
            index,
            value: values[index],
        });
    }
    Ok(values)
}

/// Whether `dtype` can hold weights (what [`SafetensorsFile::f32`] converts).
fn is_float(dtype: Dtype) -> bool {
    matches!(dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16 | Dtype::F64)
}

/// Floating-point precision to store a file in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreDtype {
    F32,
    F16,
    BF16,
}

impl StoreDtype {
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(Self::F32),
            "f16" | "float16" => Ok(Self::F16),
            "bf16" | "bfloat16" => Ok(Self::BF16),
            other => Err(BertError::Input(format!(
                "dtype `{other}` is not one of f32, f16, bf16"
            ))),
        }
    }
}

/// One tensor to write: host data in f32 plus the precision to store it in.
pub struct HostTensor {
    pub shape: Vec<usize>,
    bytes: Vec<u8>,
    dtype: Dtype,
}

impl HostTensor {
    pub fn new(shape: Vec<usize>, values: &[f32], dtype: StoreDtype) -> Self {
        let (bytes, dtype) = match dtype {
            StoreDtype::F32 => (
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                Dtype::F32,
            ),
            StoreDtype::F16 => (
                values
                    .iter()
                    .flat_map(|v| f16::from_f32(*v).to_le_bytes())
                    .collect(),
                Dtype::F16,
            ),
            StoreDtype::BF16 => (
                values
                    .iter()
                    .flat_map(|v| bf16::from_f32(*v).to_le_bytes())
                    .collect(),
                Dtype::BF16,
            ),
        };
        Self {
            shape,
            bytes,
            dtype,
        }
    }
}

impl View for &HostTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Serialises named tensors with `{"format": "pt"}` metadata, which transformers requires.
pub fn write_safetensors(tensors: &[(String, HostTensor)]) -> Result<Vec<u8>> {
    let metadata: HashMap<String, String> = [("format".to_string(), "pt".to_string())].into();
    safetensors::tensor::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
        .map_err(|e| BertError::Safetensors(format!("could not serialise: {e:?}")))
}
