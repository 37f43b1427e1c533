//! The value of a Python string literal as the interpreter sees it: prefix and
//! quotes removed, escapes processed (unless raw), newlines normalised to `\n`.

use docpipe_core::model::QuoteStyle;

/// The parts of one literal's opening token (`rb"""` and the like).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opening<'a> {
    /// Prefix letters as written.
    pub prefix: &'a str,
    /// Quote style.
    pub quote: QuoteStyle,
}

/// Splits a literal's opening token into prefix and quotes.
pub(crate) fn opening(start_token: &str) -> Option<Opening<'_>> {
    let q = start_token.find(['"', '\''])?;
    let (prefix, quotes) = start_token.split_at(q);
    let quote = match quotes {
        "\"\"\"" => QuoteStyle::TripleDouble,
        "'''" => QuoteStyle::TripleSingle,
        "\"" => QuoteStyle::Double,
        "'" => QuoteStyle::Single,
        _ => return None,
    };
    Some(Opening { prefix, quote })
}

/// Whether a prefix makes a `str` literal that can be a docstring (not bytes, not an f-string).
pub(crate) fn is_plain_str(prefix: &str) -> bool {
    !prefix
        .chars()
        .any(|c| matches!(c, 'b' | 'B' | 'f' | 'F' | 't' | 'T'))
}

/// The value of the literal body `raw` (between the quotes).
pub(crate) fn value(raw: &str, prefix: &str, out: &mut String) {
    let is_raw = prefix.chars().any(|c| c == 'r' || c == 'R');
    out.reserve(raw.len());
    let mut rest = raw;
    // Text up to the next backslash or CR is copied as it is, in one piece.
    while let Some(at) = memchr::memchr2(b'\\', b'\r', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let mut chars = rest[at..].chars();
        match chars.next() {
            Some('\r') => {
                // Python reads CRLF and lone CR as `\n` inside literals.
                if peek(&chars) == Some('\n') {
                    chars.next();
                }
                out.push('\n');
            }
            _ if is_raw => {
                out.push('\\');
                // A raw string keeps the backslash, but the next character cannot end the string.
                match chars.next() {
                    Some('\r') => {
                        if peek(&chars) == Some('\n') {
                            chars.next();
                        }
                        out.push('\n');
                    }
                    Some(n) => out.push(n),
                    None => {}
                }
            }
            _ => escape(&mut chars, out),
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
}

fn peek(chars: &std::str::Chars<'_>) -> Option<char> {
    chars.clone().next()
}

fn escape(chars: &mut std::str::Chars<'_>, out: &mut String) {
    let Some(c) = chars.next() else {
        out.push('\\');
        return;
    };
    match c {
        '\n' => {}
        '\r' => {
            if peek(chars) == Some('\n') {
                chars.next();
            }
        }
        '\\' => out.push('\\'),
        '\'' => out.push('\''),
        '"' => out.push('"'),
        'a' => out.push('\u{07}'),
        'b' => out.push('\u{08}'),
        'f' => out.push('\u{0c}'),
        'n' => out.push('\n'),
        'r' => out.push('\r'),
        't' => out.push('\t'),
        'v' => out.push('\u{0b}'),
        '0'..='7' => {
            let mut n = c.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match peek(chars).and_then(|d| d.to_digit(8)) {
                    Some(d) => {
                        n = n * 8 + d;
                        chars.next();
                    }
                    None => break,
                }
            }
            out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
        }
        'x' => hex(chars, 2, 'x', out),
        'u' => hex(chars, 4, 'u', out),
        'U' => hex(chars, 8, 'U', out),
        'N' if peek(chars) == Some('{') => {
            // Without the Unicode name table the escape stays as written.
            out.push_str("\\N");
            for n in chars.by_ref() {
                out.push(n);
                if n == '}' {
                    break;
                }
            }
        }
        other => {
            out.push('\\');
            out.push(other);
        }
    }
}

fn hex(chars: &mut std::str::Chars<'_>, digits: usize, letter: char, out: &mut String) {
    let mut text = String::new();
    for _ in 0..digits {
        match peek(chars) {
            Some(d) if d.is_ascii_hexdigit() => {
                text.push(d);
                chars.next();
            }
            _ => break,
        }
    }
    match u32::from_str_radix(&text, 16).ok().and_then(char::from_u32) {
        Some(ch) if text.len() == digits => out.push(ch),
        _ => {
            out.push('\\');
            out.push(letter);
            out.push_str(&text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str, prefix: &str) -> String {
        let mut s = String::new();
        value(raw, prefix, &mut s);
        s
    }

    #[test]
    fn escapes_are_processed() {
        assert_eq!(
            v(r#"a\nb\t\\ \' \" \x41\u00e9\U0001F600\101"#, ""),
            "a\nb\t\\ ' \" A\u{e9}\u{1F600}A"
        );
    }

    #[test]
    fn raw_strings_keep_backslashes() {
        assert_eq!(v(r"a\nb\\", "r"), r"a\nb\\");
    }

    #[test]
    fn line_continuation_and_crlf() {
        assert_eq!(v("a\\\r\nb\r\nc", ""), "ab\nc");
    }

    #[test]
    fn text_between_escapes_is_kept_whole() {
        assert_eq!(v("é \\t\r\nnäh\\x41\rend", ""), "é \t\nnähA\nend");
        assert_eq!(v("raw \\\r\nend\\", "r"), "raw \\\nend\\");
        assert_eq!(v("no escapes at all", ""), "no escapes at all");
        assert_eq!(v("trailing \\", ""), "trailing \\");
    }

    #[test]
    fn named_escape_kept_and_unknown_escape_kept() {
        assert_eq!(v(r"\N{BULLET} \d", ""), r"\N{BULLET} \d");
    }

    #[test]
    fn opening_splits_prefix_and_quote() {
        assert_eq!(
            opening("Rb'''"),
            Some(Opening {
                prefix: "Rb",
                quote: QuoteStyle::TripleSingle
            })
        );
        assert!(!is_plain_str("Rb"));
        assert!(is_plain_str("u"));
    }
}
