//! Literals CPython's tokenizer and string decoder refuse: `0777`, `7L`,
//! unknown string prefixes, invalid escapes, non-ASCII bytes, and f-string
//! conversions other than `!s`, `!r` and `!a`.

use tree_sitter::Node;

use crate::python::extract::kind_of;

/// A decimal integer with leading zeros, or Python 2's `L` suffix.
pub(super) fn integer(text: &str) -> Option<String> {
    if text.ends_with(['l', 'L']) {
        return Some(format!(
            "invalid decimal literal `{text}` (Python 2's long suffix)"
        ));
    }
    let digits = text.as_bytes();
    let decimal = digits.len() > 1
        && digits[0] == b'0'
        && digits.iter().all(|b| b.is_ascii_digit() || *b == b'_');
    (decimal && digits.iter().any(|b| matches!(b, b'1'..=b'9'))).then(|| {
        "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers".into()
    })
}

/// An f-string replacement field's conversion (`{x!r}`).
pub(super) fn conversion(node: Node<'_>, text: &str) -> Option<(usize, String)> {
    let conversion = node.child_by_field_name("type_conversion")?;
    let written = &text[conversion.byte_range()];
    (!matches!(written, "!s" | "!r" | "!a")).then(|| {
        (
            conversion.start_byte(),
            "f-string: invalid conversion character: expected 's', 'r', or 'a'".into(),
        )
    })
}

/// Prefixes Python 3 accepts (`t` strings are Python 3.14's).
fn valid_prefix(prefix: &str) -> bool {
    let lower = prefix.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "" | "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf" | "t" | "tr" | "rt"
    )
}

/// A string literal's prefix and escapes.
pub(super) fn string(node: Node<'_>, text: &str) -> Option<(usize, String)> {
    let start = node.child(0).filter(|c| kind_of(*c) == "string_start")?;
    let opening = &text[start.byte_range()];
    let prefix = &opening[..opening.find(['"', '\''])?];
    if !valid_prefix(prefix) {
        return Some((
            node.start_byte(),
            format!("invalid syntax: `{prefix}` is not a string prefix in Python 3"),
        ));
    }
    let raw = prefix.contains(['r', 'R']);
    let bytes = prefix.contains(['b', 'B']);
    for i in 0..node.named_child_count() {
        let Some(part) = node.named_child(i as u32) else {
            continue;
        };
        if kind_of(part) != "string_content" {
            continue;
        }
        let content = &text[part.byte_range()];
        if bytes && let Some(at) = content.find(|c: char| !c.is_ascii()) {
            return Some((
                part.start_byte() + at,
                "bytes can only contain ASCII literal characters".into(),
            ));
        }
        if !raw && let Some((at, message)) = escapes(content, bytes) {
            return Some((part.start_byte() + at, message));
        }
    }
    None
}

/// The first escape sequence of a (non-raw) literal's text that Python refuses.
fn escapes(content: &str, bytes: bool) -> Option<(usize, String)> {
    let b = content.as_bytes();
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + found;
        let &kind = b.get(at + 1)?;
        let hex = |n: usize| {
            b.get(at + 2..at + 2 + n)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
        };
        let problem = match kind {
            b'x' if hex(2).is_none() => Some(if bytes {
                "(value error) invalid \\x escape".to_string()
            } else {
                unicode_error("truncated \\xXX escape")
            }),
            b'u' if !bytes && hex(4).is_none() => Some(unicode_error("truncated \\uXXXX escape")),
            b'U' if !bytes => match hex(8) {
                None => Some(unicode_error("truncated \\UXXXXXXXX escape")),
                Some(h) => {
                    let value = std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok());
                    value
                        .is_none_or(|v| v > 0x10FFFF)
                        .then(|| unicode_error("illegal Unicode character"))
                }
            },
            b'N' if !bytes => named(&content[at + 2..]),
            _ => None,
        };
        if let Some(message) = problem {
            return Some((at, message));
        }
        // The escaped character is skipped whole (it may be a backslash).
        i = at + 1 + content[at + 1..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// `\N{NAME}`: `after` is the text after `\N`.
fn named(after: &str) -> Option<String> {
    let Some(rest) = after.strip_prefix('{') else {
        return Some(unicode_error("malformed \\N character escape"));
    };
    let Some(end) = rest.find('}') else {
        return Some(unicode_error("malformed \\N character escape"));
    };
    let name = &rest[..end];
    if name.is_empty() {
        return Some(unicode_error("malformed \\N character escape"));
    }
    if unicode_names2::character(name).is_some() {
        return None;
    }
    Some(format!(
        "{} (`{name}`)",
        unicode_error("unknown Unicode character name")
    ))
}

fn unicode_error(what: &str) -> String {
    format!("(unicode error) 'unicodeescape' codec can't decode bytes: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_with_leading_zeros_are_refused_unless_all_zeros() {
        assert!(integer("0777").is_some());
        assert!(integer("09").is_some());
        assert!(integer("0_7").is_some());
        assert!(integer("00").is_none());
        assert!(integer("0_0").is_none());
        assert!(integer("0").is_none());
        assert!(integer("0o777").is_none());
        assert!(integer("0x0F").is_none());
        assert!(integer("10").is_none());
        assert!(integer("7L").is_some());
    }

    #[test]
    fn escapes_python_refuses() {
        assert!(escapes("\\x4", false).is_some());
        assert!(escapes("\\x41", false).is_none());
        assert!(escapes("\\u12", false).is_some());
        assert!(escapes("\\u1234", false).is_none());
        assert!(escapes("\\U00110000", false).is_some());
        assert!(escapes("\\U0001F600", false).is_none());
        assert!(escapes("\\N{NO SUCH NAME}", false).is_some());
        assert!(escapes("\\N{BULLET}", false).is_none());
        assert!(
            escapes("\\N{bullet}", false).is_none(),
            "names are case-insensitive"
        );
        assert!(escapes("\\N{LINE FEED}", false).is_none(), "aliases count");
        assert!(escapes("\\NBULLET", false).is_some());
        assert!(escapes("\\\\x4", false).is_none(), "an escaped backslash");
        assert!(
            escapes("\\N{NO SUCH NAME}", true).is_none(),
            "no \\N in bytes"
        );
        assert!(escapes("\\x4", true).is_some());
    }
}
