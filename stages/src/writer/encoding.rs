//! Turning a rewritten text back into the bytes of its file: the byte order
//! mark and the file's own encoding. Every coding the Python source reader
//! decodes can be written back: UTF-8, ASCII, Latin-1, ISO-8859-15,
//! Windows-1252 and KOI8-R.

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
        let n: String = name
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect();
        match n.as_str() {
            "" | "utf8" | "utf8sig" | "u8" | "utf" | "cp65001" => Ok(Encoding::Utf8),
            "ascii" | "usascii" | "646" | "us" => Ok(Encoding::Ascii),
            "latin1" | "latin" | "l1" | "iso88591" | "isolatin1" | "8859" | "cp819" => {
                Ok(Encoding::Latin1)
            }
            "iso885915" | "latin9" | "l9" => Ok(Encoding::Latin9),
            "cp1252" | "windows1252" | "1252" => Ok(Encoding::Cp1252),
            "koi8r" | "cskoi8r" => Ok(Encoding::Koi8R),
            _ => Err(EncodeError::Unsupported(name.to_string())),
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
        let high: &[char; 128] = match self {
            Encoding::Utf8 | Encoding::Ascii => return None,
            Encoding::Latin1 => return (code < 0x100).then_some(code as u8),
            Encoding::Latin9 => &LATIN9_HIGH,
            Encoding::Cp1252 => &CP1252_HIGH,
            Encoding::Koi8R => &KOI8R_HIGH,
        };
        high.iter()
            .position(|&h| h == c && h != '\0')
            .map(|i| 0x80 + i as u8)
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

/// ISO-8859-15 bytes 0x80..=0xFF.
const LATIN9_HIGH: [char; 128] = [
    '\u{0080}', '\u{0081}', '\u{0082}', '\u{0083}', '\u{0084}', '\u{0085}', '\u{0086}', '\u{0087}',
    '\u{0088}', '\u{0089}', '\u{008a}', '\u{008b}', '\u{008c}', '\u{008d}', '\u{008e}', '\u{008f}',
    '\u{0090}', '\u{0091}', '\u{0092}', '\u{0093}', '\u{0094}', '\u{0095}', '\u{0096}', '\u{0097}',
    '\u{0098}', '\u{0099}', '\u{009a}', '\u{009b}', '\u{009c}', '\u{009d}', '\u{009e}', '\u{009f}',
    '\u{00a0}', '\u{00a1}', '\u{00a2}', '\u{00a3}', '\u{20ac}', '\u{00a5}', '\u{0160}', '\u{00a7}',
    '\u{0161}', '\u{00a9}', '\u{00aa}', '\u{00ab}', '\u{00ac}', '\u{00ad}', '\u{00ae}', '\u{00af}',
    '\u{00b0}', '\u{00b1}', '\u{00b2}', '\u{00b3}', '\u{017d}', '\u{00b5}', '\u{00b6}', '\u{00b7}',
    '\u{017e}', '\u{00b9}', '\u{00ba}', '\u{00bb}', '\u{0152}', '\u{0153}', '\u{0178}', '\u{00bf}',
    '\u{00c0}', '\u{00c1}', '\u{00c2}', '\u{00c3}', '\u{00c4}', '\u{00c5}', '\u{00c6}', '\u{00c7}',
    '\u{00c8}', '\u{00c9}', '\u{00ca}', '\u{00cb}', '\u{00cc}', '\u{00cd}', '\u{00ce}', '\u{00cf}',
    '\u{00d0}', '\u{00d1}', '\u{00d2}', '\u{00d3}', '\u{00d4}', '\u{00d5}', '\u{00d6}', '\u{00d7}',
    '\u{00d8}', '\u{00d9}', '\u{00da}', '\u{00db}', '\u{00dc}', '\u{00dd}', '\u{00de}', '\u{00df}',
    '\u{00e0}', '\u{00e1}', '\u{00e2}', '\u{00e3}', '\u{00e4}', '\u{00e5}', '\u{00e6}', '\u{00e7}',
    '\u{00e8}', '\u{00e9}', '\u{00ea}', '\u{00eb}', '\u{00ec}', '\u{00ed}', '\u{00ee}', '\u{00ef}',
    '\u{00f0}', '\u{00f1}', '\u{00f2}', '\u{00f3}', '\u{00f4}', '\u{00f5}', '\u{00f6}', '\u{00f7}',
    '\u{00f8}', '\u{00f9}', '\u{00fa}', '\u{00fb}', '\u{00fc}', '\u{00fd}', '\u{00fe}', '\u{00ff}',
];

/// Windows-1252 bytes 0x80..=0xFF; `\0` marks the five undefined bytes.
const CP1252_HIGH: [char; 128] = [
    '\u{20ac}', '\u{0000}', '\u{201a}', '\u{0192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02c6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{0000}', '\u{017d}', '\u{0000}',
    '\u{0000}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02dc}', '\u{2122}', '\u{0161}', '\u{203a}', '\u{0153}', '\u{0000}', '\u{017e}', '\u{0178}',
    '\u{00a0}', '\u{00a1}', '\u{00a2}', '\u{00a3}', '\u{00a4}', '\u{00a5}', '\u{00a6}', '\u{00a7}',
    '\u{00a8}', '\u{00a9}', '\u{00aa}', '\u{00ab}', '\u{00ac}', '\u{00ad}', '\u{00ae}', '\u{00af}',
    '\u{00b0}', '\u{00b1}', '\u{00b2}', '\u{00b3}', '\u{00b4}', '\u{00b5}', '\u{00b6}', '\u{00b7}',
    '\u{00b8}', '\u{00b9}', '\u{00ba}', '\u{00bb}', '\u{00bc}', '\u{00bd}', '\u{00be}', '\u{00bf}',
    '\u{00c0}', '\u{00c1}', '\u{00c2}', '\u{00c3}', '\u{00c4}', '\u{00c5}', '\u{00c6}', '\u{00c7}',
    '\u{00c8}', '\u{00c9}', '\u{00ca}', '\u{00cb}', '\u{00cc}', '\u{00cd}', '\u{00ce}', '\u{00cf}',
    '\u{00d0}', '\u{00d1}', '\u{00d2}', '\u{00d3}', '\u{00d4}', '\u{00d5}', '\u{00d6}', '\u{00d7}',
    '\u{00d8}', '\u{00d9}', '\u{00da}', '\u{00db}', '\u{00dc}', '\u{00dd}', '\u{00de}', '\u{00df}',
    '\u{00e0}', '\u{00e1}', '\u{00e2}', '\u{00e3}', '\u{00e4}', '\u{00e5}', '\u{00e6}', '\u{00e7}',
    '\u{00e8}', '\u{00e9}', '\u{00ea}', '\u{00eb}', '\u{00ec}', '\u{00ed}', '\u{00ee}', '\u{00ef}',
    '\u{00f0}', '\u{00f1}', '\u{00f2}', '\u{00f3}', '\u{00f4}', '\u{00f5}', '\u{00f6}', '\u{00f7}',
    '\u{00f8}', '\u{00f9}', '\u{00fa}', '\u{00fb}', '\u{00fc}', '\u{00fd}', '\u{00fe}', '\u{00ff}',
];

/// KOI8-R bytes 0x80..=0xFF.
const KOI8R_HIGH: [char; 128] = [
    '\u{2500}', '\u{2502}', '\u{250c}', '\u{2510}', '\u{2514}', '\u{2518}', '\u{251c}', '\u{2524}',
    '\u{252c}', '\u{2534}', '\u{253c}', '\u{2580}', '\u{2584}', '\u{2588}', '\u{258c}', '\u{2590}',
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2320}', '\u{25a0}', '\u{2219}', '\u{221a}', '\u{2248}',
    '\u{2264}', '\u{2265}', '\u{00a0}', '\u{2321}', '\u{00b0}', '\u{00b2}', '\u{00b7}', '\u{00f7}',
    '\u{2550}', '\u{2551}', '\u{2552}', '\u{0451}', '\u{2553}', '\u{2554}', '\u{2555}', '\u{2556}',
    '\u{2557}', '\u{2558}', '\u{2559}', '\u{255a}', '\u{255b}', '\u{255c}', '\u{255d}', '\u{255e}',
    '\u{255f}', '\u{2560}', '\u{2561}', '\u{0401}', '\u{2562}', '\u{2563}', '\u{2564}', '\u{2565}',
    '\u{2566}', '\u{2567}', '\u{2568}', '\u{2569}', '\u{256a}', '\u{256b}', '\u{256c}', '\u{00a9}',
    '\u{044e}', '\u{0430}', '\u{0431}', '\u{0446}', '\u{0434}', '\u{0435}', '\u{0444}', '\u{0433}',
    '\u{0445}', '\u{0438}', '\u{0439}', '\u{043a}', '\u{043b}', '\u{043c}', '\u{043d}', '\u{043e}',
    '\u{043f}', '\u{044f}', '\u{0440}', '\u{0441}', '\u{0442}', '\u{0443}', '\u{0436}', '\u{0432}',
    '\u{044c}', '\u{044b}', '\u{0437}', '\u{0448}', '\u{044d}', '\u{0449}', '\u{0447}', '\u{044a}',
    '\u{042e}', '\u{0410}', '\u{0411}', '\u{0426}', '\u{0414}', '\u{0415}', '\u{0424}', '\u{0413}',
    '\u{0425}', '\u{0418}', '\u{0419}', '\u{041a}', '\u{041b}', '\u{041c}', '\u{041d}', '\u{041e}',
    '\u{041f}', '\u{042f}', '\u{0420}', '\u{0421}', '\u{0422}', '\u{0423}', '\u{0416}', '\u{0412}',
    '\u{042c}', '\u{042b}', '\u{0417}', '\u{0428}', '\u{042d}', '\u{0429}', '\u{0427}', '\u{042a}',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_round_trips_and_refuses_what_it_cannot_hold() {
        let enc = Encoding::from_name("Latin-1");
        assert_eq!(enc, Ok(Encoding::Latin1));
        assert_eq!(
            Encoding::Latin1.encode("café", false, "latin-1"),
            Ok(b"caf\xe9".to_vec())
        );
        assert!(matches!(
            Encoding::Latin1.encode("a → b", false, "latin-1"),
            Err(EncodeError::Unencodable { code: 0x2192, .. })
        ));
    }

    #[test]
    fn single_byte_tables_map_the_high_range() {
        assert_eq!(
            Encoding::Cp1252.encode("€–", false, "cp1252"),
            Ok(vec![0x80, 0x96])
        );
        assert_eq!(
            Encoding::Latin9.encode("€Š", false, "iso-8859-15"),
            Ok(vec![0xa4, 0xa6])
        );
        assert_eq!(
            Encoding::Koi8R.encode("Жж", false, "koi8-r"),
            Ok(vec![0xf6, 0xd6])
        );
        assert_eq!(Encoding::Cp1252.unencodable("a\u{81}"), Some('\u{81}'));
    }

    #[test]
    fn utf8_keeps_the_bom() {
        assert_eq!(
            Encoding::Utf8.encode("x", true, "utf-8"),
            Ok(b"\xef\xbb\xbfx".to_vec())
        );
    }
}
