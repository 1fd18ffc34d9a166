//! Directory I/O for native builds (the browser hands bytes instead).

use std::path::Path;

use burn::tensor::Device;

use super::{StoreDtype, load_from_bytes, to_safetensors};
use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| BertError::io(format!("cannot read {}", path.display()), e))
}

/// Loads `config.json` and `model.safetensors` from a checkpoint directory.
pub fn load_dir(dir: &Path, device: &Device) -> Result<BertForMaskedLM> {
    let config = read(&dir.join("config.json"))?;
    let config = String::from_utf8(config).map_err(|_| {
        BertError::Config(format!(
            "{} is not UTF-8",
            dir.join("config.json").display()
        ))
    })?;
    let weights = read(&dir.join("model.safetensors"))?;
    load_from_bytes(&config, &weights, device)
}

/// Writes `config.json` and `model.safetensors` into `dir` (created if needed).
pub fn save_dir(model: &BertForMaskedLM, dir: &Path, dtype: StoreDtype) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| BertError::io(format!("cannot create {}", dir.display()), e))?;
    let bytes = pollster::block_on(to_safetensors(model, dtype))?;
    let write = |name: &str, data: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, data)
            .map_err(|e| BertError::io(format!("cannot write {}", path.display()), e))
    };
    write("model.safetensors", &bytes)?;
    write("config.json", model.config().to_json().as_bytes())
}
