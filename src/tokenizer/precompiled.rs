//! SentencePiece's `Precompiled` normaliser (XLM-RoBERTa, CamemBERT, ALBERT, DeBERTa-v3
//! tokenizer.json files carry it) checked before the `tokenizers` crate sees it: that crate
//! `expect`s the base64 blob to parse, and its trie walk (`spm_precompiled`) indexes the
//! double array without bounds checks and slices the normalised strings at whatever offset a
//! leaf holds. A damaged map would panic, mid-sentence, in the page. This walks every state a
//! lookup can reach, with exactly the reads a lookup makes, and refuses the map if one of
//! them would fall outside the array or the strings.

use base64::Engine;

/// `Ok` when the tokenizers crate can load `charsmap` (base64) and normalise any text with it.
pub fn check(charsmap_base64: &str) -> Result<(), String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(charsmap_base64)
        .map_err(|e| format!("its precompiled_charsmap is not base64: {e}"))?;
    let (trie, normalized) = parse(&bytes)?;
    check_trie(&trie, normalized)
}

/// The blob: a little-endian u32 byte count, that many bytes of u32 trie units, then the
/// normalised strings (`spm_precompiled::parse`).
fn parse(bytes: &[u8]) -> Result<(Vec<usize>, &[u8]), String> {
    let bad = || "its precompiled_charsmap is cut short".to_string();
    let size = bytes.get(..4).ok_or_else(bad)?;
    let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
    let units = size / 4;
    let body = bytes.get(4..4 + units * 4).ok_or_else(bad)?;
    let trie = body
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let normalized = &bytes[4 + units * 4..];
    std::str::from_utf8(normalized)
        .map_err(|_| "its precompiled_charsmap's strings are not UTF-8".to_string())?;
    Ok((trie, normalized))
}

// The unit layout of `spm_precompiled::DoubleArray` (Darts).
fn has_leaf(unit: usize) -> bool {
    (unit >> 8) & 1 == 1
}
fn value(unit: usize) -> usize {
    unit & ((1usize << 31) - 1)
}
fn label(unit: usize) -> usize {
    unit & ((1usize << 31) | 0xFF)
}
fn offset(unit: usize) -> usize {
    (unit >> 10) << ((unit & (1usize << 9)) >> 6)
}

/// Every node reachable by `common_prefix_search`, read as it reads them.
fn check_trie(trie: &[usize], normalized: &[u8]) -> Result<(), String> {
    let outside =
        || "its precompiled_charsmap is damaged (a trie entry points outside it)".to_string();
    let root = *trie.first().ok_or_else(outside)?;
    let mut stack = vec![offset(root)];
    let mut seen = std::collections::HashSet::new();
    while let Some(base) = stack.pop() {
        if !seen.insert(base) {
            continue;
        }
        for byte in 1..=255usize {
            let at = base ^ byte;
            let unit = *trie.get(at).ok_or_else(outside)?;
            if label(unit) != byte {
                continue;
            }
            let next = at ^ offset(unit);
            if has_leaf(unit) {
                let start = value(*trie.get(next).ok_or_else(outside)?);
                // The normalised string runs from `start` to the next NUL; the slice is taken
                // on a `str`, so `start` must be a character boundary inside it.
                let ok = start <= normalized.len()
                    && (start == normalized.len() || (normalized[start] & 0xC0) != 0x80);
                if !ok {
                    return Err(outside());
                }
            }
            stack.push(next);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn encode(trie: &[u32], normalized: &[u8]) -> String {
        let mut bytes = ((trie.len() * 4) as u32).to_le_bytes().to_vec();
        for unit in trie {
            bytes.extend(unit.to_le_bytes());
        }
        bytes.extend(normalized);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn refuses_what_would_panic_and_accepts_an_empty_map() {
        assert!(check("not base64 !").is_err());
        assert!(check(&encode(&[], b"")).is_err(), "no root");
        // A root whose children lie past the end of the array.
        assert!(check(&encode(&[1 << 10], b"")).is_err());
        // An array wide enough for every byte from the root, none labelled: no mapping.
        let empty = vec![0u32; 256];
        assert!(check(&encode(&empty, b"a\0")).is_ok());
        // A leaf whose string starts past the strings.
        let mut leaf = vec![0u32; 512];
        leaf[0] = 0; // root, offset 0: byte b lives at index b
        leaf[b'a' as usize] = b'a' as u32 | (1 << 8) | (256 << 10); // child base at 'a' ^ 256
        leaf[b'a' as usize ^ 256] = 99; // value: offset 99 in the strings
        assert!(check(&encode(&leaf, b"x\0")).is_err());
        leaf[b'a' as usize ^ 256] = 0;
        assert!(check(&encode(&leaf, b"x\0")).is_ok());
    }
}
