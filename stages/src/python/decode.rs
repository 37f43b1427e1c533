//! Reading a Python file from disk into a [`SourceFile`]: UTF-8 with or without
//! a byte order mark, and the PEP 263 codings that matter in practice.
//!
//! Python reads a coding cookie (`# -*- coding: latin-1 -*-`) on line 1 or 2.
//! UTF-8, ASCII, Latin-1 (ISO-8859-1), ISO-8859-15, cp1252 and KOI8-R are decoded here
//! by hand (no codec crate is available); any other coding makes the file
//! skipped with a reason, never guessed.

use std::path::Path;

use docpipe_core::model::{Newline, SourceFile};

/// Why a file could not be turned into a [`SourceFile`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(String),
    /// The file declares a coding docpipe cannot decode.
    #[error(
        "unsupported source coding `{0}` (docpipe decodes utf-8, ascii, latin-1, iso-8859-15, cp1252 and koi8-r); convert the file to UTF-8 to check it"
    )]
    UnsupportedCoding(String),
    /// The bytes are not valid in the declared (or default UTF-8) coding.
    #[error(
        "the file is not valid {coding} at byte {offset} (line {line}); fix the bytes or declare the right coding on line 1 or 2"
    )]
    Invalid {
        /// The coding the bytes were read as.
        coding: String,
        /// Offset of the first bad byte.
        offset: usize,
        /// 1-based line of the first bad byte.
        line: usize,
    },
    /// A byte order mark together with a coding cookie other than UTF-8 (Python refuses this too).
    #[error(
        "the file starts with a UTF-8 byte order mark but declares coding `{0}`; remove one of them"
    )]
    BomConflict(String),
}

impl DecodeError {
    /// The stable file-level finding code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Io(_) => super::codes::UNREADABLE,
            _ => super::codes::UNDECODABLE,
        }
    }

    /// 1-based line the problem is on (1 when it concerns the whole file).
    pub fn line(&self) -> usize {
        match self {
            DecodeError::Invalid { line, .. } => *line,
            _ => 1,
        }
    }
}

/// Reads `path` and decodes it (see the module documentation). The error
/// string says what is wrong and what to do; use [`read_source_detailed`] for
/// the typed error.
pub fn read_source(path: &Path) -> Result<SourceFile, String> {
    read_source_detailed(path).map_err(|e| e.to_string())
}

/// [`read_source`] with a typed error.
pub fn read_source_detailed(path: &Path) -> Result<SourceFile, DecodeError> {
    let bytes = std::fs::read(path).map_err(|e| DecodeError::Io(e.to_string()))?;
    decode_source(path, &bytes)
}

/// Decodes `bytes` read from `path`.
pub fn decode_source(path: &Path, bytes: &[u8]) -> Result<SourceFile, DecodeError> {
    let hash = blake3::hash(bytes).to_hex().to_string();
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let declared = coding_cookie(body);
    let coding = match &declared {
        None => Coding::Utf8,
        Some(name) => match normalise_coding(name) {
            Some(c) => c,
            None => return Err(DecodeError::UnsupportedCoding(name.clone())),
        },
    };
    // With a BOM, Python accepts only a cookie that reads exactly `utf-8` (or `utf-8-...`).
    let cookie_is_utf8 = declared.as_deref().is_none_or(|name| {
        let n = name.to_ascii_lowercase().replace('_', "-");
        n == "utf-8" || n.starts_with("utf-8-")
    });
    if bom && !cookie_is_utf8 {
        return Err(DecodeError::BomConflict(declared.unwrap_or_default()));
    }
    let text = match coding {
        Coding::Utf8 => utf8(body, "UTF-8")?,
        Coding::Ascii => {
            if let Some(offset) = body.iter().position(|b| !b.is_ascii()) {
                return Err(invalid("ascii", body, offset));
            }
            utf8(body, "ascii")?
        }
        Coding::Latin1 => body.iter().map(|&b| char::from(b)).collect(),
        Coding::Latin9 => body.iter().map(|&b| latin9(b)).collect(),
        Coding::Koi8R => body.iter().map(|&b| koi8_r(b)).collect(),
        Coding::Cp1252 => {
            let mut s = String::with_capacity(body.len());
            for (offset, &b) in body.iter().enumerate() {
                match cp1252(b) {
                    Some(c) => s.push(c),
                    None => return Err(invalid("cp1252", body, offset)),
                }
            }
            s
        }
    };
    Ok(SourceFile {
        path: path.to_path_buf(),
        hash,
        newline: Newline::detect(&text),
        bom,
        encoding: coding.name().to_string(),
        final_newline: text.ends_with('\n') || text.ends_with('\r'),
        text,
    })
}

fn utf8(body: &[u8], coding: &str) -> Result<String, DecodeError> {
    match std::str::from_utf8(body) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(invalid(coding, body, e.valid_up_to())),
    }
}

fn invalid(coding: &str, body: &[u8], offset: usize) -> DecodeError {
    DecodeError::Invalid {
        coding: coding.to_string(),
        offset,
        line: body[..offset].iter().filter(|&&b| b == b'\n').count() + 1,
    }
}

/// A coding docpipe can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Utf8,
    Ascii,
    Latin1,
    Latin9,
    Cp1252,
    Koi8R,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Utf8 => "utf-8",
            Coding::Ascii => "ascii",
            Coding::Latin1 => "latin-1",
            Coding::Latin9 => "iso-8859-15",
            Coding::Cp1252 => "cp1252",
            Coding::Koi8R => "koi8-r",
        }
    }
}

/// Maps a cookie's coding name to a [`Coding`], the way Python's codec lookup
/// normalises names (case, `_` and `-` do not matter). The writer reads the
/// names of the codings it writes back through this function too.
pub(crate) fn normalise_coding(name: &str) -> Option<Coding> {
    let n: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_' && *c != ' ')
        .flat_map(char::to_lowercase)
        .collect();
    // Python's tokenizer treats "utf-8-xxx" and "latin-1-xxx" as their base coding.
    let lower = name.to_ascii_lowercase().replace('_', "-");
    if lower.starts_with("utf-8-") {
        return Some(Coding::Utf8);
    }
    if lower.starts_with("latin-1-")
        || lower.starts_with("iso-8859-1-")
        || lower.starts_with("iso-latin-1-")
    {
        return Some(Coding::Latin1);
    }
    match n.as_str() {
        "utf8" | "u8" | "utf" | "utf8sig" | "cp65001" => Some(Coding::Utf8),
        "ascii" | "usascii" | "646" | "us" | "ansix3.41968" => Some(Coding::Ascii),
        "latin1" | "latin" | "l1" | "iso88591" | "iso885911987" | "isolatin1" | "8859"
        | "cp819" => Some(Coding::Latin1),
        "iso885915" | "latin9" | "l9" => Some(Coding::Latin9),
        "cp1252" | "windows1252" | "1252" => Some(Coding::Cp1252),
        "koi8r" | "cskoi8r" => Some(Coding::Koi8R),
        _ => None,
    }
}

/// The coding named by a PEP 263 cookie on line 1, or on line 2 when line 1
/// is blank or a comment.
fn coding_cookie(body: &[u8]) -> Option<String> {
    let mut lines = body
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next()?;
    if let Some(c) = cookie_in_line(first) {
        return Some(c);
    }
    let trimmed = first
        .iter()
        .skip_while(|b| matches!(b, b' ' | b'\t' | b'\x0c'))
        .copied()
        .collect::<Vec<u8>>();
    if !(trimmed.is_empty() || trimmed.starts_with(b"#")) {
        return None;
    }
    lines.next().and_then(cookie_in_line)
}

/// `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` as PEP 263 specifies.
fn cookie_in_line(line: &[u8]) -> Option<String> {
    let start = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\x0c'))?;
    if line[start] != b'#' {
        return None;
    }
    let comment = &line[start..];
    let mut from = 0;
    while let Some(i) = find(&comment[from..], b"coding") {
        let after = from + i + "coding".len();
        if matches!(comment.get(after), Some(b':' | b'=')) {
            let rest = &comment[after + 1..];
            let rest = &rest[rest
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t'))
                .unwrap_or(rest.len())..];
            let len = rest
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
                .unwrap_or(rest.len());
            if len > 0 {
                return Some(String::from_utf8_lossy(&rest[..len]).into_owned());
            }
        }
        from = after;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// ISO-8859-15: Latin-1 with eight code points replaced.
pub(crate) fn latin9(b: u8) -> char {
    match b {
        0xA4 => '\u{20AC}',
        0xA6 => '\u{0160}',
        0xA8 => '\u{0161}',
        0xB4 => '\u{017D}',
        0xB8 => '\u{017E}',
        0xBC => '\u{0152}',
        0xBD => '\u{0153}',
        0xBE => '\u{0178}',
        _ => char::from(b),
    }
}

/// KOI8-R (RFC 1489), the upper half as Python's codec maps it.
pub(crate) fn koi8_r(b: u8) -> char {
    match b {
        0x80..=0xFF => {
            char::from_u32(u32::from(KOI8_R[usize::from(b - 0x80)])).unwrap_or('\u{fffd}')
        }
        _ => char::from(b),
    }
}

const KOI8_R: [u16; 128] = [
    0x2500, 0x2502, 0x250C, 0x2510, 0x2514, 0x2518, 0x251C, 0x2524, 0x252C, 0x2534, 0x253C, 0x2580,
    0x2584, 0x2588, 0x258C, 0x2590, 0x2591, 0x2592, 0x2593, 0x2320, 0x25A0, 0x2219, 0x221A, 0x2248,
    0x2264, 0x2265, 0x00A0, 0x2321, 0x00B0, 0x00B2, 0x00B7, 0x00F7, 0x2550, 0x2551, 0x2552, 0x0451,
    0x2553, 0x2554, 0x2555, 0x2556, 0x2557, 0x2558, 0x2559, 0x255A, 0x255B, 0x255C, 0x255D, 0x255E,
    0x255F, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565, 0x2566, 0x2567, 0x2568, 0x2569,
    0x256A, 0x256B, 0x256C, 0x00A9, 0x044E, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435, 0x0444, 0x0433,
    0x0445, 0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F, 0x044F, 0x0440, 0x0441,
    0x0442, 0x0443, 0x0436, 0x0432, 0x044C, 0x044B, 0x0437, 0x0448, 0x044D, 0x0449, 0x0447, 0x044A,
    0x042E, 0x0410, 0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413, 0x0425, 0x0418, 0x0419, 0x041A,
    0x041B, 0x041C, 0x041D, 0x041E, 0x041F, 0x042F, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412,
    0x042C, 0x042B, 0x0417, 0x0428, 0x042D, 0x0429, 0x0427, 0x042A,
];

/// Windows-1252; the five undefined bytes are an error, as in Python.
pub(crate) fn cp1252(b: u8) -> Option<char> {
    const HIGH: [Option<char>; 32] = [
        Some('\u{20AC}'),
        None,
        Some('\u{201A}'),
        Some('\u{0192}'),
        Some('\u{201E}'),
        Some('\u{2026}'),
        Some('\u{2020}'),
        Some('\u{2021}'),
        Some('\u{02C6}'),
        Some('\u{2030}'),
        Some('\u{0160}'),
        Some('\u{2039}'),
        Some('\u{0152}'),
        None,
        Some('\u{017D}'),
        None,
        None,
        Some('\u{2018}'),
        Some('\u{2019}'),
        Some('\u{201C}'),
        Some('\u{201D}'),
        Some('\u{2022}'),
        Some('\u{2013}'),
        Some('\u{2014}'),
        Some('\u{02DC}'),
        Some('\u{2122}'),
        Some('\u{0161}'),
        Some('\u{203A}'),
        Some('\u{0153}'),
        None,
        Some('\u{017E}'),
        Some('\u{0178}'),
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => Some(char::from(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<SourceFile, DecodeError> {
        decode_source(Path::new("m.py"), bytes)
    }

    #[test]
    fn utf8_with_bom_drops_the_bom_and_remembers_it() {
        let f = decode(b"\xEF\xBB\xBFx = '\xC3\xA9'\n").unwrap();
        assert!(f.bom);
        assert_eq!(f.text, "x = '\u{e9}'\n");
        assert_eq!(f.encoding, "utf-8");
    }

    #[test]
    fn bom_with_a_cookie_other_than_utf_8_is_refused_like_python_does() {
        assert!(decode(b"\xEF\xBB\xBF# coding: utf-8\nx = 1\n").is_ok());
        let e = decode(b"\xEF\xBB\xBF# coding: utf8\nx = 1\n").unwrap_err();
        assert!(matches!(e, DecodeError::BomConflict(_)), "{e:?}");
    }

    #[test]
    fn latin1_cookie_on_line_two_is_honoured() {
        let f = decode(b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nx = '\xE9'\n").unwrap();
        assert_eq!(f.encoding, "latin-1");
        assert!(f.text.ends_with("x = '\u{e9}'\n"));
    }

    #[test]
    fn cookie_on_line_two_is_ignored_after_code_on_line_one() {
        let e = decode(b"x = 1\n# coding: latin-1\ny = '\xE9'\n").unwrap_err();
        assert!(matches!(e, DecodeError::Invalid { line: 3, .. }), "{e:?}");
    }

    #[test]
    fn cp1252_maps_the_high_range_and_rejects_undefined_bytes() {
        let f = decode(b"# coding: cp1252\nx = '\x80\x93'\n").unwrap();
        assert!(f.text.contains("\u{20AC}\u{201C}"));
        assert!(decode(b"# coding: windows-1252\nx = '\x81'\n").is_err());
    }

    #[test]
    fn unknown_coding_is_unsupported_with_its_name() {
        let e = decode(b"# coding: shift_jis\nx = 1\n").unwrap_err();
        assert_eq!(e, DecodeError::UnsupportedCoding("shift_jis".into()));
        assert_eq!(e.code(), "DP002");
    }

    #[test]
    fn koi8_r_decodes_cyrillic() {
        let f = decode(b"# coding: koi8-r\nx = '\xF0\xD2\xC9'\n").unwrap();
        assert!(f.text.contains("\u{41F}\u{440}\u{438}"), "{}", f.text);
    }

    #[test]
    fn invalid_utf8_reports_line() {
        let e = decode(b"a = 1\nb = '\xFF'\n").unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::Invalid {
                    line: 2,
                    offset: 11,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn crlf_and_missing_final_newline_are_detected() {
        let f = decode(b"a = 1\r\nb = 2").unwrap();
        assert_eq!(f.newline, Newline::CrLf);
        assert!(!f.final_newline);
    }
}
