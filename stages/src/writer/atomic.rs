//! Writing a file so that a crash leaves either the old or the new content:
//! a temporary file in the same directory, the original permissions, rename.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` atomically, keeping its permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let permissions = std::fs::metadata(path)?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".docpipe-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), permissions)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Whether the file at `path` still has the blake3 hash `expected` (hex).
pub fn unchanged_since_read(path: &Path, expected: &str) -> std::io::Result<bool> {
    let bytes = std::fs::read(path)?;
    Ok(blake3::hash(&bytes).to_hex().as_str() == expected)
}
