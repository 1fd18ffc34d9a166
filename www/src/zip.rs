//! A `.zip` of a checkpoint's files, so a download is one file (browsers ask before a page
//! saves several). Entries are stored, not compressed: safetensors weights barely
//! compress, and storing keeps it one pass over the bytes (CRC-32 only).

/// CRC-32 (IEEE 802.3, as zip uses). crc32fast's slice-by-16 runs 3× faster than a
/// byte-at-a-time table in wasm for 17.5 KB of module (BENCHMARKS.md, "The `.wasm`").
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// A zip archive (no compression, no zip64) of `files`, taken one by one so each file's
/// bytes are dropped once copied in. Refuses what plain zip cannot describe (4 GiB).
pub fn stored_zip(files: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, String> {
    let total: usize = files.iter().map(|(n, b)| 30 + n.len() + b.len()).sum();
    let too_big = || "the checkpoint is over 4 GB: too large for a .zip download".to_string();
    let mut out = Vec::with_capacity(total + 64 * files.len() + 22);
    let mut central = Vec::new();
    let count = u16::try_from(files.len()).map_err(|_| "too many files for a .zip")?;
    for (name, bytes) in files {
        let offset = u32::try_from(out.len()).map_err(|_| too_big())?;
        let size = u32::try_from(bytes.len()).map_err(|_| too_big())?;
        let crc = crc32(&bytes);
        let name_len = name.len() as u16;
        // Version 2.0, flag bit 11 (UTF-8 names), stored, no date (1980-01-01).
        let common = |v: &mut Vec<u8>| {
            for x in [20u16, 0x0800, 0, 0, 0x21] {
                v.extend_from_slice(&x.to_le_bytes());
            }
            for x in [crc, size, size] {
                v.extend_from_slice(&x.to_le_bytes());
            }
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&bytes);
        drop(bytes);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by: version 2.0
        common(&mut central);
        for x in [0u16, 0, 0] {
            central.extend_from_slice(&x.to_le_bytes()); // comment, disk, internal attributes
        }
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = u32::try_from(out.len()).map_err(|_| too_big())?;
    let central_size = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for x in [0u16, 0, count, count] {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{crc32, stored_zip};

    #[test]
    fn crc32_is_the_zip_one() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_stored_zip_lists_every_file_with_its_bytes() {
        let files = vec![
            ("config.json".to_string(), b"{\"a\":1}".to_vec()),
            ("model.safetensors".to_string(), vec![7u8; 1000]),
        ];
        let zip = stored_zip(files.clone()).unwrap();
        // Read back through the central directory, as unzip does.
        let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as usize;
        let end = zip.len() - 22;
        assert_eq!(u32_at(end), 0x0605_4b50);
        assert_eq!(u16_at(end + 10), 2);
        let mut at = u32_at(end + 16);
        for (name, bytes) in &files {
            assert_eq!(u32_at(at), 0x0201_4b50);
            let (crc, size, name_len) = (u32_at(at + 16), u32_at(at + 24), u16_at(at + 28));
            let local = u32_at(at + 42);
            assert_eq!(&zip[at + 46..at + 46 + name_len], name.as_bytes());
            assert_eq!((crc, size), (crc32(bytes) as usize, bytes.len()));
            assert_eq!(u32_at(local), 0x0403_4b50);
            let data = local + 30 + u16_at(local + 26);
            assert_eq!(&zip[data..data + size], &bytes[..]);
            at += 46 + name_len;
        }
        assert_eq!(at, end);
    }
}
