//! Hugging Face checkpoints: `config.json` + `model.safetensors`, loaded from bytes
//! (the browser's case) or a directory, and saved back in the same layout.

pub mod files;
mod safetensors_io;
mod task;

pub use files::{CheckpointFiles, TOKENIZER_FILES};
pub use safetensors_io::{HostTensor, SafetensorsFile, StoreDtype, write_safetensors};
pub use task::{HeadWeights, load_sequence_classifier, load_token_classifier};

use burn::tensor::{Device, Tensor, TensorData};

use crate::config::BertConfig;
use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;
use crate::model::checkpoint_tensors::checkpoint_tensors;
use crate::model::init::{NamedTensor, ParamKind, WeightSource};
use crate::model::names::TensorNames;

/// Serves tensors from a safetensors file to [`BertForMaskedLM::from_source`],
/// accepting the spellings checkpoints use in the wild.
pub(crate) struct CheckpointSource<'a> {
    file: &'a SafetensorsFile<'a>,
    names: TensorNames,
    device: Device,
}

/// Names under which `name` (our canonical HF name) may be stored.
fn candidates(name: &str, table: &TensorNames) -> Vec<String> {
    let mut names = vec![name.to_string()];
    // A checkpoint saved from the bare encoder (`BertModel`) has no `bert.` prefix.
    if let Some(rest) = name
        .strip_prefix(table.base)
        .and_then(|r| r.strip_prefix('.'))
    {
        names.push(rest.to_string());
    }
    // The MLM bias is stored under either name (transformers 4 wrote both, tied).
    if table.head_bias.iter().any(|b| b == name) {
        names.extend(table.head_bias.iter().filter(|b| *b != name).cloned());
    }
    // The original TF-converted checkpoints name LayerNorm parameters gamma/beta.
    let legacy: Vec<String> = names
        .iter()
        .filter(|n| n.contains("LayerNorm."))
        .filter_map(|n| {
            n.strip_suffix(".weight")
                .map(|s| format!("{s}.gamma"))
                .or_else(|| n.strip_suffix(".bias").map(|s| format!("{s}.beta")))
        })
        .collect();
    names.extend(legacy);
    names
}

/// The name under which `name` is stored in `file`, or the error naming every spelling tried.
fn find<'n>(file: &SafetensorsFile<'_>, name: &str, tried: &'n [String]) -> Result<&'n String> {
    tried
        .iter()
        .find(|n| file.contains(n))
        .ok_or_else(|| BertError::MissingTensor {
            name: name.into(),
            tried: tried
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Checks the file's header against the config before a single tensor is built: every
/// tensor the config implies exists, with the implied shape and a floating-point dtype.
/// A config that disagrees with its checkpoint (a wrong `num_hidden_layers`, `hidden_size`,
/// `vocab_size`…) is an error naming the field, not an allocation of whatever it claims.
fn check_header(
    config: &BertConfig,
    file: &SafetensorsFile<'_>,
    expected: impl Iterator<Item = (String, Vec<usize>)>,
) -> Result<()> {
    let table = TensorNames::of(config);
    for (name, shape) in expected {
        let tried = candidates(&name, &table);
        let found = match find(file, &name, &tried) {
            Ok(found) => found,
            Err(missing) => return Err(explain_missing(config, &table, file, &name, missing)),
        };
        file.check(found, &shape)?;
    }
    Ok(())
}

/// A whole layer missing past the first means the config claims more layers than the
/// file has; one tensor missing from a layer that is there is just that.
fn explain_missing(
    config: &BertConfig,
    table: &TensorNames,
    file: &SafetensorsFile<'_>,
    name: &str,
    missing: BertError,
) -> BertError {
    // The stored layer the missing tensor belongs to, if any.
    let layer = (0..config.stored_layers())
        .take(100_000)
        .find(|&n| name.starts_with(&table.layer_prefix(n)));
    let absent = |n: usize| {
        let prefix = table.layer_prefix(n);
        let bare = prefix
            .strip_prefix(table.base)
            .unwrap_or(&prefix)
            .to_string();
        !file.names().iter().any(|t| t.contains(&bare))
    };
    let setting = if config.family() == crate::config::Family::Albert {
        "num_hidden_groups × inner_group_num"
    } else {
        "num_hidden_layers"
    };
    // Weights of another family under this family's config (a RoBERTa config beside BERT
    // weights): say so, rather than name the first tensor that is not there.
    let other_family = ["bert", "roberta", "distilbert", "albert", "electra"]
        .into_iter()
        .filter(|base| *base != table.base)
        .find(|base| {
            let prefix = format!("{base}.embeddings.");
            file.names().iter().any(|t| t.starts_with(&prefix))
        });
    if let Some(base) = other_family {
        return BertError::Config(format!(
            "config.json says model_type `{}` but the weights are named as a `{base}` \
             checkpoint's ({base}.embeddings…): is config.json from another model? ({missing})",
            config.model_type
        ));
    }
    match layer {
        Some(n) if n > 0 && absent(n) => BertError::Config(format!(
            "{setting} is {} but the checkpoint has {n} layer(s) ({missing})",
            config.stored_layers()
        )),
        _ => missing,
    }
}

impl WeightSource for CheckpointSource<'_> {
    fn tensor<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        _kind: ParamKind,
    ) -> Result<Tensor<D>> {
        let tried = candidates(name, &self.names);
        let found = find(self.file, name, &tried)?;
        let (actual, values) = self.file.f32(found)?;
        if actual != shape {
            return Err(BertError::ShapeMismatch {
                name: found.clone(),
                expected: shape.to_vec(),
                actual,
            });
        }
        Ok(Tensor::from_data(
            TensorData::new(values, shape),
            &self.device,
        ))
    }
}

/// Builds a model from the contents of `config.json` and `model.safetensors`.
pub fn load_from_bytes(
    config_json: &str,
    safetensors: &[u8],
    device: &Device,
) -> Result<BertForMaskedLM> {
    let config = BertConfig::from_json(config_json)?;
    load_with_config(&config, safetensors, device)
}

/// Builds a model from an already parsed config and the safetensors bytes.
pub fn load_with_config(
    config: &BertConfig,
    safetensors: &[u8],
    device: &Device,
) -> Result<BertForMaskedLM> {
    let file = SafetensorsFile::parse(safetensors)?;
    check_header(config, &file, checkpoint_tensors(config))?;
    let mut source = CheckpointSource {
        file: &file,
        names: TensorNames::of(config),
        device: device.clone(),
    };
    BertForMaskedLM::from_source(config, &mut source)
}

/// Reads every parameter back to the host (asynchronously, as WebGPU requires) and
/// serialises it in Hugging Face's layout, loadable by `BertForMaskedLM.from_pretrained`.
pub async fn to_safetensors(model: &BertForMaskedLM, dtype: StoreDtype) -> Result<Vec<u8>> {
    named_to_safetensors(model.named_tensors(), dtype).await
}

/// Serialises named parameters (any model's `named_tensors`), read back in one transaction.
pub async fn named_to_safetensors(named: Vec<NamedTensor>, dtype: StoreDtype) -> Result<Vec<u8>> {
    // One read for every tensor: on a GPU each read waits for the device.
    let mut read = burn::tensor::Transaction::default();
    let mut names = Vec::with_capacity(named.len());
    for (name, shape, tensor) in named {
        read = read.register(tensor);
        names.push((name, shape));
    }
    let data = read.execute_async().await.map_err(|e| {
        BertError::Device(format!("reading the weights from the device failed: {e:?}"))
    })?;
    let mut tensors = Vec::with_capacity(names.len());
    for ((name, shape), data) in names.into_iter().zip(data) {
        tensors.push((name, HostTensor::new(shape, &data_to_f32(data)?, dtype)));
    }
    write_safetensors(&tensors)
}

/// One asynchronous device → host read of a float tensor.
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    let data = tensor.into_data_async().await.map_err(|e| {
        BertError::Device(format!("reading a tensor from the device failed: {e:?}"))
    })?;
    data_to_f32(data)
}

/// Host data read from the device, as f32 values.
pub fn data_to_f32(data: burn::tensor::TensorData) -> Result<Vec<f32>> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| BertError::Device(format!("unexpected tensor data: {e:?}")))
}

#[cfg(not(target_arch = "wasm32"))]
mod fs;
#[cfg(not(target_arch = "wasm32"))]
pub use fs::{load_dir, write_atomic};
