//! Turning a rewritten text back into the bytes of its file: the byte order
//! mark and the file's own encoding (UTF-8, Latin-1, Windows-1252, ASCII).

/// The text cannot be written in the file's encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// docpipe does not write this encoding.
    #[error(
        "docpipe cannot write files encoded as `{0}`; convert the file to UTF-8 to document it"
    )]
    Unsupported(String),
    /// A character has no byte in the encoding.
    #[error(
        "`{ch}` (U+{code:04X}) cannot be written in the file's encoding `{encoding}`; convert the file to UTF-8 or reword the docstring"
    )]
    Unencodable {
        /// The character.
        ch: char,
        /// Its code point.
        code: u32,
        /// The encoding.
        encoding: String,
    },
}

/// The encodings the writer can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (with or without BOM).
    Utf8,
    /// ISO-8859-1: one byte per code point up to U+00FF.
    Latin1,
    /// Windows-1252.
    Cp1252,
    /// 7-bit ASCII.
    Ascii,
}

impl Encoding {
    /// The encoding called `name` (PEP 263 spellings, case-insensitive).
    pub fn from_name(name: &str) -> Result<Encoding, EncodeError> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        match n.as_str() {
            "" | "utf-8" | "utf8" | "utf-8-sig" | "u8" => Ok(Encoding::Utf8),
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" | "iso-latin-1" | "8859"
            | "cp819" => Ok(Encoding::Latin1),
            "cp1252" | "windows-1252" | "1252" => Ok(Encoding::Cp1252),
            "ascii" | "us-ascii" | "646" => Ok(Encoding::Ascii),
            _ => Err(EncodeError::Unsupported(name.to_string())),
        }
    }

    /// The first character of `text` this encoding cannot hold.
    pub fn unencodable(self, text: &str) -> Option<char> {
        text.chars()
            .find(|&c| self.byte(c).is_none() && self != Encoding::Utf8)
    }

    fn byte(self, c: char) -> Option<u8> {
        let code = c as u32;
        match self {
            Encoding::Utf8 => None,
            Encoding::Ascii => (code < 0x80).then_some(code as u8),
            Encoding::Latin1 => (code < 0x100).then_some(code as u8),
            Encoding::Cp1252 => {
                if code < 0x80 || (0xa0..0x100).contains(&code) {
                    return Some(code as u8);
                }
                if let Some(i) = CP1252_HIGH.iter().position(|&h| h == c) {
                    return Some(0x80 + i as u8);
                }
                // The five bytes Windows-1252 leaves undefined decode to the
                // same C1 code point; write them back as they were.
                matches!(code, 0x81 | 0x8d | 0x8f | 0x90 | 0x9d).then_some(code as u8)
            }
        }
    }

    /// `text` as bytes, with a UTF-8 byte order mark when `bom`.
    pub fn encode(self, text: &str, bom: bool, name: &str) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(text.len() + 3);
        if bom {
            out.extend_from_slice(b"\xef\xbb\xbf");
        }
        if self == Encoding::Utf8 {
            out.extend_from_slice(text.as_bytes());
            return Ok(out);
        }
        for c in text.chars() {
            match self.byte(c) {
                Some(b) => out.push(b),
                None => {
                    return Err(EncodeError::Unencodable {
                        ch: c,
                        code: c as u32,
                        encoding: name.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Windows-1252 bytes 0x80..=0x9F; `\0` marks the undefined ones.
const CP1252_HIGH: [char; 32] = [
    '\u{20ac}', '\0', '\u{201a}', '\u{0192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02c6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\0', '\u{017d}', '\0', '\0',
    '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02dc}',
    '\u{2122}', '\u{0161}', '\u{203a}', '\u{0153}', '\0', '\u{017e}', '\u{0178}',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_round_trips_and_refuses_what_it_cannot_hold() {
        let enc = Encoding::from_name("Latin-1").unwrap_or(Encoding::Utf8);
        assert_eq!(enc, Encoding::Latin1);
        assert_eq!(
            enc.encode("café", false, "latin-1"),
            Ok(b"caf\xe9".to_vec())
        );
        assert!(matches!(
            enc.encode("a → b", false, "latin-1"),
            Err(EncodeError::Unencodable { code: 0x2192, .. })
        ));
    }

    #[test]
    fn cp1252_maps_the_high_range() {
        assert_eq!(
            Encoding::Cp1252.encode("€–", false, "cp1252"),
            Ok(vec![0x80, 0x96])
        );
    }

    #[test]
    fn utf8_keeps_the_bom() {
        assert_eq!(
            Encoding::Utf8.encode("x", true, "utf-8"),
            Ok(b"\xef\xbb\xbfx".to_vec())
        );
    }
}
