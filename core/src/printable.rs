//! Text and paths made safe to print on one line of a terminal or a log:
//! control characters (a NUL in a syntax error, a newline or an escape
//! sequence in a file name) are shown escaped, and the bytes of a path that
//! is not UTF-8 are shown as `\xNN` instead of being replaced by U+FFFD.
//!
//! These forms are for people. Machine formats keep what they need to map
//! a path back: [`path_bytes`] gives the raw bytes of a path that is not
//! UTF-8.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// `text` with control characters escaped as Rust writes them (`\n`, `\t`,
/// `\0`, `\x1b`, `\u{85}`); unchanged (and not copied) when it has none.
pub fn text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if (c as u32) < 0x80 && c.is_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// `path` for people: its text with control characters escaped, and bytes
/// that are not UTF-8 shown as `\xNN`.
pub fn path(path: &Path) -> Cow<'_, str> {
    match path.to_str() {
        Some(s) => text(s),
        None => {
            let bytes = path.as_os_str().as_encoded_bytes();
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    push_char(&mut out, c);
                }
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

/// The bytes of `path` when it is not UTF-8 (then no string shows it
/// exactly), `None` when it is.
pub fn path_bytes(path: &Path) -> Option<Vec<u8>> {
    match path.to_str() {
        Some(_) => None,
        None => Some(path.as_os_str().as_encoded_bytes().to_vec()),
    }
}

/// `n` with its noun in the right number: `1 file`, `2 files`, `0 files`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// An amount in US dollars for people: cents, or "under $0.01" for a cost
/// too small to show in cents (`$0.0091` is noise, `0.009087149999999999`
/// worse).
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() {
        return "an unknown amount".into();
    }
    if amount > 0.0 && amount < 0.005 {
        return "under $0.01".into();
    }
    format!("${amount:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1, "file", "files"), "1 file");
        assert_eq!(count(0, "file", "files"), "0 files");
        assert_eq!(count(2, "unit", "units"), "2 units");
    }

    #[test]
    fn dollars_are_rounded_to_cents() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.009087149999999999), "$0.01");
        assert_eq!(usd(0.0004), "under $0.01");
        assert_eq!(usd(12.345), "$12.35");
    }

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(text("plain ü"), Cow::Borrowed("plain ü")));
        assert_eq!(text("a\0b\nc\x1b[31m\u{85}"), "a\\0b\\nc\\x1b[31m\\u{85}");
        assert_eq!(path(Path::new("dir\nname.py")), "dir\\nname.py");
    }

    #[cfg(unix)]
    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_hex_and_kept() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(OsStr::from_bytes(b"caf\xe9/\xff.py"));
        assert_eq!(path(p), "caf\\xe9/\\xff.py");
        assert_eq!(path_bytes(p), Some(b"caf\xe9/\xff.py".to_vec()));
        assert_eq!(path_bytes(Path::new("café.py")), None);
    }
}
