//! Turning a rewritten text back into the bytes of its file: the byte order
//! mark and the file's own encoding. Every coding the Python source reader
//! decodes can be written back: UTF-8, ASCII, Latin-1, ISO-8859-15,
//! Windows-1252 and KOI8-R.

use crate::python::decode::{self, Coding};

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
    /// 7-bit ASCII.
    Ascii,
    /// ISO-8859-1: one byte per code point up to U+00FF.
    Latin1,
    /// ISO-8859-15 (Latin-9).
    Latin9,
    /// Windows-1252.
    Cp1252,
    /// KOI8-R.
    Koi8R,
}

impl Encoding {
    /// The encoding called `name` (PEP 263 spellings, case-insensitive).
    pub fn from_name(name: &str) -> Result<Encoding, EncodeError> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(Encoding::Utf8);
        }
        // The reader's table of names: what it decodes, the writer encodes.
        match decode::normalise_coding(name) {
            Some(Coding::Utf8) => Ok(Encoding::Utf8),
            Some(Coding::Ascii) => Ok(Encoding::Ascii),
            Some(Coding::Latin1) => Ok(Encoding::Latin1),
            Some(Coding::Latin9) => Ok(Encoding::Latin9),
            Some(Coding::Cp1252) => Ok(Encoding::Cp1252),
            Some(Coding::Koi8R) => Ok(Encoding::Koi8R),
            None => Err(EncodeError::Unsupported(name.to_string())),
        }
    }

    /// The first character of `text` this encoding cannot hold.
    pub fn unencodable(self, text: &str) -> Option<char> {
        if self == Encoding::Utf8 {
            return None;
        }
        text.chars().find(|&c| self.byte(c).is_none())
    }

    /// The byte of `c` in a single-byte encoding.
    fn byte(self, c: char) -> Option<u8> {
        let code = c as u32;
        if code < 0x80 {
            return Some(code as u8);
        }
        // The reader's byte-to-character tables, searched backwards: one
        // charmap per coding serves both directions.
        let decode: fn(u8) -> Option<char> = match self {
            Encoding::Utf8 | Encoding::Ascii => return None,
            Encoding::Latin1 => return (code < 0x100).then_some(code as u8),
            Encoding::Latin9 => |b| Some(decode::latin9(b)),
            Encoding::Cp1252 => decode::cp1252,
            Encoding::Koi8R => |b| Some(decode::koi8_r(b)),
        };
        (0x80..=0xFF_u8).find(|&b| decode(b) == Some(c))
    }

    /// `text` as bytes, with a UTF-8 byte order mark when `bom`.
    pub fn encode<'t>(
        self,
        text: &'t str,
        bom: bool,
        name: &str,
    ) -> Result<std::borrow::Cow<'t, [u8]>, EncodeError> {
        if self == Encoding::Utf8 && !bom {
            // The text's own bytes: no copy of a file that may be large.
            return Ok(std::borrow::Cow::Borrowed(text.as_bytes()));
        }
        let mut out = Vec::with_capacity(text.len() + 3);
        if bom {
            out.extend_from_slice(b"\xef\xbb\xbf");
        }
        if self == Encoding::Utf8 {
            out.extend_from_slice(text.as_bytes());
            return Ok(std::borrow::Cow::Owned(out));
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
        Ok(std::borrow::Cow::Owned(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn latin1_round_trips_and_refuses_what_it_cannot_hold() {
        let enc = Encoding::from_name("Latin-1");
        assert_eq!(enc, Ok(Encoding::Latin1));
        assert_eq!(
            Encoding::Latin1
                .encode("café", false, "latin-1")
                .map(Cow::into_owned),
            Ok(b"caf\xe9".to_vec())
        );
        assert!(matches!(
            Encoding::Latin1.encode("a → b", false, "latin-1"),
            Err(EncodeError::Unencodable { code: 0x2192, .. })
        ));
    }

    #[test]
    fn names_are_read_as_the_reader_reads_them() {
        for (name, enc) in [
            ("", Encoding::Utf8),
            ("UTF_8", Encoding::Utf8),
            ("utf-8-unix", Encoding::Utf8),
            ("ANSI_X3.4-1968", Encoding::Ascii),
            ("iso-8859-1-windows", Encoding::Latin1),
            ("ISO_8859-15", Encoding::Latin9),
            ("1252", Encoding::Cp1252),
            ("KOI8_R", Encoding::Koi8R),
        ] {
            assert_eq!(Encoding::from_name(name), Ok(enc), "{name}");
        }
        assert_eq!(
            Encoding::from_name(" euc-jp "),
            Err(EncodeError::Unsupported("euc-jp".into()))
        );
    }

    #[test]
    fn single_byte_tables_map_the_high_range() {
        assert_eq!(
            Encoding::Cp1252
                .encode("€–", false, "cp1252")
                .map(Cow::into_owned),
            Ok(vec![0x80, 0x96])
        );
        assert_eq!(
            Encoding::Latin9
                .encode("€Š", false, "iso-8859-15")
                .map(Cow::into_owned),
            Ok(vec![0xa4, 0xa6])
        );
        assert_eq!(
            Encoding::Koi8R
                .encode("Жж", false, "koi8-r")
                .map(Cow::into_owned),
            Ok(vec![0xf6, 0xd6])
        );
        assert_eq!(Encoding::Cp1252.unencodable("a\u{81}"), Some('\u{81}'));
    }

    #[test]
    fn utf8_keeps_the_bom() {
        assert_eq!(
            Encoding::Utf8
                .encode("x", true, "utf-8")
                .map(Cow::into_owned),
            Ok(b"\xef\xbb\xbfx".to_vec())
        );
        // Without one, the text's own bytes, not a copy.
        assert!(matches!(
            Encoding::Utf8.encode("x", false, "utf-8"),
            Ok(Cow::Borrowed(b"x"))
        ));
    }
}
