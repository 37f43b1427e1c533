//! Turning docstring text into a Python string literal that cannot end early.
//!
//! The literal always uses `"""`. Text with backslashes gets an `r` prefix when
//! a raw literal can hold it unchanged; otherwise backslashes, quotes that
//! could close the literal, NUL and other control characters are escaped.

/// The value Python reads from the literal [`docstring_literal`] writes for
/// `body` indented by `indent`: the body's lines, every line after the first
/// indented (blank lines stay empty), and for a multi-line body a final line
/// holding only the indentation, where the closing quotes go.
pub fn docstring_value(body: &str, indent: &str) -> String {
    let mut value = String::with_capacity(body.len() + 16);
    let mut lines = body.split('\n');
    let mut multi_line = false;
    if let Some(first) = lines.next() {
        value.push_str(first);
    }
    for line in lines {
        multi_line = true;
        value.push('\n');
        if !line.is_empty() {
            value.push_str(indent);
        }
        value.push_str(line);
    }
    if multi_line {
        value.push('\n');
        value.push_str(indent);
    }
    value
}

/// The docstring body a style rendered, made ready for a literal: trailing
/// whitespace of the whole text and leading blank lines removed (the quotes
/// and the closing line are the writer's to lay out).
pub fn normalize_body(rendered: &str) -> String {
    let trimmed = rendered.trim_end();
    let start = trimmed
        .char_indices()
        .find(|&(_, c)| c != '\n' && c != '\r')
        .map_or(trimmed.len(), |(i, _)| i);
    // Drop only whole blank lines, never the first line's own indentation.
    let head = &trimmed[..start];
    let cut = head.rfind('\n').map_or(0, |i| i + 1);
    trimmed[cut..].to_string()
}

/// Whether `c` must be written as an escape: NUL and other control characters
/// (a raw `\r` or form feed would end the line for Python or for editors),
/// line and paragraph separators, and the byte order mark. Tabs and newlines
/// stay as they are.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A `"""` literal whose value is exactly [`docstring_value`]`(body, indent)`,
/// with line endings written as `newline` (Python reads any of them as `\n`).
///
/// A raw literal (`r"""`) is used when the text has backslashes and a raw
/// literal can hold it unchanged; otherwise every character that could end the
/// literal early or break the file is escaped.
pub fn docstring_literal(body: &str, indent: &str, newline: &str) -> String {
    let value = docstring_value(body, indent);
    let raw_ok = !value.contains("\"\"\"")
        && !value.ends_with('"')
        && !value.ends_with('\\')
        && !value.chars().any(needs_escape);
    let mut out = String::with_capacity(value.len() + 8);
    if value.contains('\\') && raw_ok {
        out.push('r');
        out.push_str("\"\"\"");
        for c in value.chars() {
            push_char(&mut out, c, newline);
        }
        out.push_str("\"\"\"");
        return out;
    }
    out.push_str("\"\"\"");
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            // A quote followed by a quote (or by the closing quotes) is escaped,
            // so no three unescaped quotes ever meet.
            '"' if matches!(chars.peek(), None | Some('"')) => out.push_str("\\\""),
            c if needs_escape(c) => push_escape(&mut out, c),
            c => push_char(&mut out, c, newline),
        }
    }
    out.push_str("\"\"\"");
    out
}

fn push_char(out: &mut String, c: char, newline: &str) {
    if c == '\n' {
        out.push_str(newline);
    } else {
        out.push(c);
    }
}

fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write;
    let code = c as u32;
    // Writing to a String cannot fail.
    let _ = match c {
        '\0' => write!(out, "\\x00"),
        '\r' => write!(out, "\\r"),
        _ if code <= 0xff => write!(out, "\\x{code:02x}"),
        _ if code <= 0xffff => write!(out, "\\u{code:04x}"),
        _ => write!(out, "\\U{code:08x}"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_body_stays_on_one_line() {
        assert_eq!(
            docstring_literal("Add two numbers.", "    ", "\n"),
            "\"\"\"Add two numbers.\"\"\""
        );
    }

    #[test]
    fn multi_line_body_is_indented_and_closed_on_its_own_line() {
        let lit = docstring_literal("Sum.\n\nArgs:\n    x: A value.", "    ", "\r\n");
        assert_eq!(
            lit,
            "\"\"\"Sum.\r\n\r\n    Args:\r\n        x: A value.\r\n    \"\"\""
        );
    }

    #[test]
    fn backslashes_use_a_raw_literal_when_possible() {
        assert_eq!(
            docstring_literal("Match \\d+.", "", "\n"),
            "r\"\"\"Match \\d+.\"\"\""
        );
    }

    #[test]
    fn backslash_at_the_end_is_escaped() {
        assert_eq!(
            docstring_literal("Ends with \\", "", "\n"),
            "\"\"\"Ends with \\\\\"\"\""
        );
    }

    #[test]
    fn triple_quotes_cannot_close_the_literal() {
        let lit = docstring_literal("Say \"\"\"hi\"\"\" \\n", "", "\n");
        assert_eq!(lit, "\"\"\"Say \\\"\\\"\"hi\\\"\\\"\" \\\\n\"\"\"");
        assert!(!lit[3..lit.len() - 3].contains("\"\"\""));
    }

    #[test]
    fn quote_at_the_end_is_escaped() {
        assert_eq!(
            docstring_literal("Say \"hi\"", "", "\n"),
            "\"\"\"Say \"hi\\\"\"\"\""
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            docstring_literal("a\0b\rc\u{7}d\u{2028}\te", "", "\n"),
            "\"\"\"a\\x00b\\rc\\x07d\\u2028\te\"\"\""
        );
    }

    #[test]
    fn normalize_drops_outer_blank_lines_only() {
        assert_eq!(normalize_body("\n\n  Sum.\n\nMore.\n\n"), "  Sum.\n\nMore.");
    }
}
