//! A recovery for a tree-sitter-python limitation: its indentation scanner
//! emits a dedent for a line inside brackets that is indented less than the
//! enclosing block, which Python accepts:
//!
//! ```python
//! def f():
//!     (bar.
//! baz)
//! ```
//!
//! [`join_bracketed_lines`] builds a copy of the text of the same length in
//! which every line break (and comment) inside brackets is blanked out, so the
//! bracketed expression sits on one physical line. Byte offsets are unchanged:
//! a tree parsed from the copy indexes the original text.

/// The text with line breaks and comments inside brackets replaced by spaces,
/// with the byte ranges of the comments blanked (the writer compares those
/// apart); `None` when nothing lies inside brackets across lines.
pub(crate) fn join_bracketed_lines(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut comments = Vec::new();
    let mut depth = 0usize;
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .map_or(bytes.len(), |n| i + n);
                if depth > 0 {
                    blank(&mut out[i..end]);
                    comments.push((i, end));
                    changed = true;
                }
                i = end;
            }
            b'\n' | b'\r' if depth > 0 => {
                out[i] = b' ';
                changed = true;
                i += 1;
            }
            b'\\' => i += 2,
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' | b'\'' => i = skip_string(bytes, i),
            _ => i += 1,
        }
    }
    if !changed {
        return None;
    }
    // Only ASCII bytes were replaced by ASCII spaces, and only whole comments
    // (which end at an ASCII line break), so the result is still UTF-8.
    String::from_utf8(out).ok().map(|s| (s, comments))
}

/// Replaces a comment with spaces, keeping its length in bytes.
fn blank(slice: &mut [u8]) {
    for b in slice {
        *b = b' ';
    }
}

/// Index just past the string literal whose opening quote is at `start`.
/// Prefixes (`r`, `b`, `f`) are plain letters before it and need no care,
/// except that a raw string's backslash still escapes a quote for the tokenizer.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let q = bytes[start];
    let triple = bytes.get(start + 1) == Some(&q) && bytes.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == q => {
                if !triple {
                    return i + 1;
                }
                if bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q) {
                    return i + 3;
                }
                i += 1;
            }
            b'\n' | b'\r' if !triple => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_lines_inside_brackets_and_blanks_their_comments() {
        let text = "def f():\n    (bar.  # c\nbaz)\n    s = '(\\''\n";
        let (joined, _) = join_bracketed_lines(text).unwrap();
        assert_eq!(joined.len(), text.len());
        assert_eq!(joined, "def f():\n    (bar.      baz)\n    s = '(\\''\n");
    }

    #[test]
    fn strings_are_opaque() {
        assert_eq!(join_bracketed_lines("x = '''(\n'''\ny = 1\n"), None);
    }
}
