//! What a `tokenizer.json` must be before the `tokenizers` crate reads it.

use super::precompiled;
use crate::error::{BertError, Result};

/// What the `tokenizers` crate would panic on rather than report, refused first: JSON it
/// cannot parse (a syntax error or a lone-surrogate escape inside the `decoder` section hits
/// an `expect`), a SentencePiece `Precompiled` normaliser whose char map is damaged (another
/// `expect`, and unchecked reads while normalising), and a `TemplateProcessing` post-processor whose
/// template names a special token it does not define (every encode would panic). In the
/// browser a panic kills the page.
pub(super) fn check_json(bytes: &[u8]) -> Result<()> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| BertError::Tokenizer(format!("tokenizer.json is not valid JSON: {e}")))?;
    if let Some(processor) = value.get("post_processor") {
        check_templates(processor)?;
    }
    if let Some(normalizer) = value.get("normalizer") {
        check_precompiled(normalizer)?;
    }
    Ok(())
}

/// Every `Precompiled` normaliser (also inside a `Sequence`) has a charsmap the tokenizers
/// crate can load and use without panicking (`precompiled.rs`).
fn check_precompiled(v: &serde_json::Value) -> Result<()> {
    match v {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some("Precompiled") {
                let charsmap = map
                    .get("precompiled_charsmap")
                    .and_then(|c| c.as_str())
                    .ok_or_else(|| {
                        BertError::Tokenizer(
                            "tokenizer.json's Precompiled normalizer has no precompiled_charsmap"
                                .into(),
                        )
                    })?;
                precompiled::check(charsmap).map_err(|e| {
                    BertError::Tokenizer(format!("tokenizer.json's Precompiled normalizer: {e}"))
                })?;
            }
            map.values().try_for_each(check_precompiled)
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(check_precompiled),
        _ => Ok(()),
    }
}

/// Every special token a `TemplateProcessing` template uses is defined in its
/// `special_tokens`, with as many ids as tokens (also inside a `Sequence` of processors).
fn check_templates(processor: &serde_json::Value) -> Result<()> {
    if let Some(items) = processor.get("processors").and_then(|p| p.as_array()) {
        return items.iter().try_for_each(check_templates);
    }
    if processor.get("type").and_then(|t| t.as_str()) != Some("TemplateProcessing") {
        return Ok(());
    }
    let bad = |what: String| {
        Err(BertError::Tokenizer(format!(
            "tokenizer.json's post_processor {what}"
        )))
    };
    let specials = processor.get("special_tokens").and_then(|s| s.as_object());
    for key in ["single", "pair"] {
        let pieces = processor.get(key).and_then(|t| t.as_array());
        for piece in pieces.into_iter().flatten() {
            let Some(id) = piece.get("SpecialToken").and_then(|s| s.get("id")) else {
                continue;
            };
            let id = id.as_str().unwrap_or_default();
            let Some(special) = specials.and_then(|s| s.get(id)) else {
                return bad(format!(
                    "uses the special token {id:?} but does not define it"
                ));
            };
            let count = |k: &str| special.get(k).and_then(|v| v.as_array()).map(Vec::len);
            if count("ids") != count("tokens") || count("ids").is_none() {
                return bad(format!("defines {id:?} with mismatched ids and tokens"));
            }
        }
    }
    Ok(())
}
