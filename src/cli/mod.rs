//! The `bert` commands that train and evaluate (the others live in `main.rs`).

pub mod eval;
pub mod pretrain;
pub mod progress;
pub mod train_tokenizer;

use std::path::Path;

use bert_burn::{BertError, Result};

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

pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| BertError::io(format!("cannot read {}", path.display()), e))
}
