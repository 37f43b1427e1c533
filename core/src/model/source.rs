use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The newline convention of a file, kept when the file is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Newline {
    /// `\n`
    #[default]
    Lf,
    /// `\r\n`
    CrLf,
    /// `\r` (old Mac files; rare but valid Python)
    Cr,
}

impl Newline {
    /// The newline's bytes as text.
    pub fn as_str(self) -> &'static str {
        match self {
            Newline::Lf => "\n",
            Newline::CrLf => "\r\n",
            Newline::Cr => "\r",
        }
    }

    /// The convention of the first line ending in `text`; `Lf` when there is none.
    pub fn detect(text: &str) -> Newline {
        let bytes = text.as_bytes();
        match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => Newline::CrLf,
            Some(i) if bytes[i] == b'\r' => Newline::Cr,
            _ => Newline::Lf,
        }
    }
}

/// One Python file as read from disk.
///
/// `text` is the decoded content without the byte order mark; newlines are
/// kept exactly as in the file, so byte offsets in [`CodeUnit`](super::CodeUnit)
/// index into `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Path as discovered (relative to the working directory when the user gave a relative path).
    pub path: PathBuf,
    /// Decoded text, BOM removed.
    pub text: String,
    /// blake3 of the bytes on disk, hex; the writer refuses to write when the file changed since.
    pub hash: String,
    /// Newline convention of the first line ending.
    pub newline: Newline,
    /// The file started with a UTF-8 byte order mark.
    pub bom: bool,
    /// Encoding the bytes were decoded from (`utf-8`, or a PEP 263 coding such as `latin-1`).
    pub encoding: String,
    /// The file ends with a newline.
    pub final_newline: bool,
}

impl SourceFile {
    /// A UTF-8 file from text, as tests and plugins build them.
    pub fn from_text(path: impl Into<PathBuf>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        SourceFile {
            path: path.into(),
            hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
            newline: Newline::detect(&text),
            bom: false,
            encoding: "utf-8".into(),
            final_newline: text.ends_with('\n') || text.ends_with('\r'),
            text,
        }
    }
}
