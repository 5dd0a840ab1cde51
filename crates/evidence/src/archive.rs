//! CI artifact zips, opened in memory with limits. Nothing is written to disk
//! under a name from the archive, and no header is trusted for sizes: every
//! entry is read through a cap, so a lying header cannot get past the limits.

use std::collections::HashSet;
use std::io::{Cursor, Read};

use crate::error::{EvidenceError, Problem};

/// Limits for one archive. The defaults fit real test and coverage reports
/// with a wide margin.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_total_bytes: u64,
    pub max_entry_bytes: u64,
    /// Uncompressed ÷ compressed, per entry. Text reports reach ~20:1.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_total_bytes: 512 * 1024 * 1024,
            max_entry_bytes: 128 * 1024 * 1024,
            max_ratio: 200,
        }
    }
}

/// Windows and POSIX both: a name is safe only if it is relative and never
/// steps up, whichever separator it uses.
fn safe_name(name: &str) -> bool {
    if name.is_empty() || name.contains('\0') {
        return false;
    }
    let b = name.as_bytes();
    let absolute = b[0] == b'/' || b[0] == b'\\' || (b.len() > 1 && b[1] == b':');
    !absolute && !name.split(['/', '\\']).any(|part| part == "..")
}

/// Every regular file of the zip `bytes`, with its path inside the archive.
pub fn extract_zip(
    archive_name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<(String, Vec<u8>)>, EvidenceError> {
    let fail = |p: Problem| EvidenceError::new(archive_name, p);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| fail(Problem::NotAZip(e.to_string())))?;
    if zip.len() > limits.max_entries {
        return Err(fail(Problem::TooManyEntries {
            limit: limits.max_entries,
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| fail(Problem::NotAZip(e.to_string())))?;
        let name = entry
            .name()
            .map_err(|e| fail(Problem::UnsafePath(e.to_string())))?
            .into_owned();
        if !safe_name(&name) || entry.enclosed_name().is_none() {
            return Err(fail(Problem::UnsafePath(name)));
        }
        if entry.is_symlink() {
            return Err(fail(Problem::Symlink(name)));
        }
        if entry.is_dir() {
            continue;
        }
        if entry.encrypted() {
            return Err(fail(Problem::Encrypted(name)));
        }
        if !seen.insert(name.clone()) {
            return Err(fail(Problem::Duplicate(name)));
        }
        let cap = limits
            .max_entry_bytes
            .min(limits.max_total_bytes.saturating_sub(total));
        let compressed = entry.compressed_size().max(1);
        // Read in chunks and stop as soon as a limit is crossed: a bomb costs
        // at most `compressed × max_ratio` bytes of work, not its full size.
        let mut data = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let n = entry
                .read(&mut chunk)
                .map_err(|e| fail(Problem::NotAZip(format!("{name}: {e}"))))?;
            if n == 0 {
                break;
            }
            data.extend_from_slice(&chunk[..n]);
            let size = data.len() as u64;
            if size > cap {
                return Err(fail(Problem::TooLarge {
                    limit: if cap == limits.max_entry_bytes {
                        limits.max_entry_bytes
                    } else {
                        limits.max_total_bytes
                    },
                }));
            }
            // Small entries compress badly or well without meaning anything.
            let ratio = size / compressed;
            if size > 64 * 1024 && ratio > limits.max_ratio {
                return Err(fail(Problem::CompressionRatio {
                    ratio,
                    limit: limits.max_ratio,
                }));
            }
        }
        let size = data.len() as u64;
        total += size;
        out.push((name, data));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn only_relative_names_that_never_step_up_are_safe() {
        for good in ["junit.xml", "reports/junit.xml", "a/b..c/d", "..hidden"] {
            assert!(safe_name(good), "{good}");
        }
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "\\\\server\\share",
            "C:\\x",
            "a\\..\\..\\x",
            "",
            "a\0b",
        ] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }
}
