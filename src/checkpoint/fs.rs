//! Directory I/O for native builds (the browser hands bytes instead).

use std::path::Path;

use burn::tensor::Device;

use super::CheckpointFiles;
use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;

pub(super) fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| BertError::io(format!("cannot read {}", path.display()), e))
}

/// Writes `data` to `path` through a temporary file and a rename, so an interrupted
/// write never leaves a half-written file under the real name.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, data)
        .map_err(|e| BertError::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| BertError::io(format!("cannot move {} into place", path.display()), e))
}

/// Loads the model (not the tokenizer) of a checkpoint directory.
pub fn load_dir(dir: &Path, device: &Device) -> Result<BertForMaskedLM> {
    CheckpointFiles::read_dir(dir)?.masked_lm(device)
}
