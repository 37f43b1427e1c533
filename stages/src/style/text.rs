//! Text handling shared by the styles: cleaning a docstring like
//! `inspect.cleandoc`, wrapping, and free text (descriptions) in the
//! normalised form the styles render and parse back.
//!
//! # Free text
//! A description is paragraphs separated by one blank line. Inside a
//! paragraph a *plain* line (no leading whitespace, not a list item, not a
//! `>>>` prompt) is wrapped when rendered, and consecutive plain lines are
//! joined with one space when parsed; any other line is kept as written. So a
//! model whose paragraphs are single plain lines (or contain line breaks only
//! before special lines) survives `parse(render(m))` unchanged.

/// Lines of `doc` cleaned like Python's `inspect.cleandoc`: tabs expanded to
/// 8 columns, the first line stripped, the common indentation of the other
/// lines removed, leading and trailing blank lines dropped, trailing
/// whitespace removed.
pub(crate) fn cleandoc(doc: &str) -> Vec<String> {
    let raw: Vec<String> = doc.lines().map(expand_tabs).collect();
    let margin = raw
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let mut lines: Vec<String> = raw
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let l = if i == 0 {
                l.trim_start()
            } else {
                l.get(margin.min(indent_of(l))..).unwrap_or("")
            };
            l.trim_end().to_string()
        })
        .collect();
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn expand_tabs(line: &str) -> String {
    if !line.contains('\t') {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut col = 0;
    for c in line.chars() {
        if c == '\t' {
            let n = 8 - col % 8;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(c);
            col += 1;
        }
    }
    out
}

/// Leading spaces of `line`.
pub(crate) fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Columns a rendered indentation takes (a tab counts 4).
pub(crate) fn columns(indent: &str) -> usize {
    indent.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum()
}

/// Words of `text` wrapped into lines of at most `width` characters; the first
/// line has `first_width` instead. A word longer than the width gets its own line.
pub(crate) fn wrap(text: &str, first_width: usize, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut limit = first_width.max(1);
    for word in text.split_whitespace() {
        let len = current.chars().count();
        if len == 0 {
            current.push_str(word);
        } else if len + 1 + word.chars().count() <= limit {
            current.push(' ');
            current.push_str(word);
        } else {
            lines.push(std::mem::take(&mut current));
            limit = width.max(1);
            current.push_str(word);
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// A line that free text keeps as written (not wrapped, not joined).
fn is_special(line: &str) -> bool {
    let t = line.trim_start();
    line.starts_with([' ', '\t'])
        || t.starts_with(">>>")
        || t.starts_with("- ")
        || t.starts_with("* ")
        || t.starts_with("+ ")
        || t.starts_with("..")
        || t.split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Free text rendered as lines with `indent` (spaces) in front, wrapped at `width` columns in total.
pub(crate) fn render_free(text: &str, indent: usize, width: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    let avail = width.saturating_sub(indent).max(20);
    for (i, paragraph) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        for line in paragraph.lines() {
            if line.trim().is_empty() {
                continue;
            }
            if is_special(line) {
                out.push(format!("{pad}{}", line.trim_end()));
            } else {
                out.extend(
                    wrap(line, avail, avail)
                        .into_iter()
                        .map(|l| format!("{pad}{l}")),
                );
            }
        }
    }
}

/// What parsing free text does with consecutive plain lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaks {
    /// Joined with one space: the normalised form `parse` gives.
    Join,
    /// Kept as written (joined with `\n`), for merging into what a person wrote.
    Keep,
}

/// Free text from dedented `lines` (see the module documentation), plain
/// lines joined (the normalised form) or kept as `breaks` says.
pub(crate) fn parse_free_as(lines: &[String], breaks: Breaks) -> String {
    let margin = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    let mut blank = false;
    let mut prev_plain = false;
    for line in lines {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            prev_plain = false;
            continue;
        }
        let line = line.get(margin..).unwrap_or(line.trim_start()).trim_end();
        let plain = !is_special(line);
        if blank {
            out.push_str("\n\n");
            blank = false;
        } else if plain && prev_plain && breaks == Breaks::Join {
            out.push(' ');
        } else if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
        prev_plain = plain;
    }
    out
}

/// Verbatim text (examples, notes, other sections): dedented, trailing blank lines dropped.
pub(crate) fn parse_verbatim(lines: &[String]) -> String {
    let margin = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let mut kept: Vec<&str> = lines
        .iter()
        .map(|l| l.get(margin..).unwrap_or("").trim_end())
        .collect();
    while kept.first().is_some_and(|l| l.is_empty()) {
        kept.remove(0);
    }
    while kept.last().is_some_and(|l| l.is_empty()) {
        kept.pop();
    }
    kept.join("\n")
}

/// Verbatim text rendered with `indent` spaces in front of every non-empty line.
pub(crate) fn render_verbatim(text: &str, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push(String::new());
        } else {
            out.push(format!("{pad}{}", line.trim_end()));
        }
    }
}

/// The summary (first paragraph, joined) and the index of the line after it.
pub(crate) fn summary(lines: &[String], is_header: impl Fn(usize) -> bool) -> (String, usize) {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < lines.len() && !lines[i].trim().is_empty() && !is_header(i) {
        parts.push(lines[i].trim());
        i += 1;
    }
    (parts.join(" "), i)
}

/// The first `end` cleaned `lines` as written, trailing blank lines dropped.
pub(crate) fn head(lines: &[String], end: usize) -> String {
    let kept = &lines[..end.min(lines.len())];
    let len = kept
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |p| p + 1);
    kept[..len].join("\n")
}

/// Renders the summary wrapped so the first line leaves room for the opening quotes.
pub(crate) fn render_summary(
    summary: &str,
    indent_cols: usize,
    width: usize,
    out: &mut Vec<String>,
) {
    if summary.is_empty() {
        return;
    }
    let avail = width.saturating_sub(indent_cols).max(20);
    out.extend(wrap(summary, avail.saturating_sub(3).max(10), avail));
}

/// The characters of `s` outside string literals, with the bracket depth
/// before each. A quote opens a literal where a type's string literal can
/// start (at the start, after a bracket, a comma, a space or `|`) and when it
/// is closed later on the line, so `'Node[T'` counts no bracket, while the
/// apostrophe of `don't` is a character like any other.
pub(crate) fn outside_strings(s: &str) -> Vec<(usize, char, i32)> {
    let mut out = Vec::with_capacity(s.len());
    let mut depth = 0i32;
    let mut prev: Option<char> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let opens = matches!(c, '\'' | '"')
            && matches!(prev, None | Some('(' | '[' | '{' | ',' | ' ' | '|'))
            && s[i + 1..].contains(c);
        if opens {
            // Skip to the closing quote.
            for (_, n) in chars.by_ref() {
                if n == c {
                    break;
                }
            }
            prev = Some(c);
            continue;
        }
        out.push((i, c, depth));
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        prev = Some(c);
    }
    out
}

/// The bracket depth at the end of `s`, string literals skipped.
pub(crate) fn open_brackets(s: &str) -> i32 {
    outside_strings(s).last().map_or(0, |&(_, c, d)| match c {
        '(' | '[' | '{' => d + 1,
        ')' | ']' | '}' => d - 1,
        _ => d,
    })
}

/// Index of the first `:` at bracket depth 0 that ends `s` or is followed by a space.
pub(crate) fn split_colon(s: &str) -> Option<(&str, &str)> {
    for (i, c, depth) in outside_strings(s) {
        match c {
            ':' if depth == 0 => {
                let rest = &s[i + 1..];
                if rest.is_empty() || rest.starts_with(' ') {
                    return Some((s[..i].trim_end(), rest.trim()));
                }
            }
            _ => {}
        }
    }
    None
}

/// The lines of a docstring's value as they are numbered in the file (split
/// at `\n`, the opening line first), each without the docstring's common
/// indentation, with its own indentation in columns (tabs expanded to 8).
/// What [`cleandoc`] gives, without dropping or trimming lines, so that an
/// index is a line of the literal.
pub(crate) struct RawLines {
    /// Dedented text of each line (the first line trimmed at its start).
    pub(crate) text: Vec<String>,
    /// Indentation of each line beyond the common indentation (0 when blank).
    pub(crate) indent: Vec<usize>,
}

impl RawLines {
    pub(crate) fn new(value: &str) -> RawLines {
        let raw: Vec<String> = value.split('\n').map(expand_tabs).collect();
        let margin = raw
            .iter()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| indent_of(l))
            .min()
            .unwrap_or(0);
        let mut text = Vec::with_capacity(raw.len());
        let mut indent = Vec::with_capacity(raw.len());
        for (i, l) in raw.iter().enumerate() {
            let l = l.trim_end();
            let dedented = if i == 0 {
                l.trim_start()
            } else {
                l.get(margin.min(indent_of(l))..).unwrap_or("")
            };
            indent.push(if dedented.is_empty() {
                0
            } else {
                indent_of(dedented)
            });
            text.push(dedented.to_string());
        }
        RawLines { text, indent }
    }

    /// Number of lines.
    pub(crate) fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether line `i` is blank.
    pub(crate) fn blank(&self, i: usize) -> bool {
        self.text.get(i).is_none_or(|l| l.trim().is_empty())
    }

    /// The line after the last line with text in `from..to` (`from` when none has).
    pub(crate) fn trim_end(&self, from: usize, to: usize) -> usize {
        (from..to)
            .rev()
            .find(|&i| !self.blank(i))
            .map_or(from, |i| i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleandoc_matches_inspect() {
        let lines = cleandoc("  Summary.\n\n    Body\n      more\n  ");
        assert_eq!(lines, vec!["Summary.", "", "Body", "  more"]);
    }

    #[test]
    fn wrap_respects_width_and_first_width() {
        assert_eq!(wrap("aaa bbb ccc ddd", 7, 11), vec!["aaa bbb", "ccc ddd"]);
        assert_eq!(
            wrap("averyveryverylongword x", 5, 5),
            vec!["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn free_text_round_trips_plain_and_special_lines() {
        let text = "one two three four five six seven eight nine ten eleven twelve thirteen\n\n- item\n- item two";
        let mut out = Vec::new();
        render_free(text, 4, 30, &mut out);
        assert!(out.iter().all(|l| l.chars().count() <= 30), "{out:?}");
        assert_eq!(parse_free_as(&out, Breaks::Join), text);
    }

    #[test]
    fn kept_breaks_survive_rendering() {
        let lines: Vec<String> = [
            "phrase = 1*word",
            "obs-phrase = word",
            "",
            "Next paragraph.",
        ]
        .iter()
        .map(|l| l.to_string())
        .collect();
        assert_eq!(
            parse_free_as(&lines, Breaks::Join),
            "phrase = 1*word obs-phrase = word\n\nNext paragraph."
        );
        let kept = parse_free_as(&lines, Breaks::Keep);
        assert_eq!(
            kept,
            "phrase = 1*word\nobs-phrase = word\n\nNext paragraph."
        );
        let mut out = Vec::new();
        render_free(&kept, 0, 88, &mut out);
        assert_eq!(out, lines);
    }

    #[test]
    fn head_drops_trailing_blank_lines_only() {
        let lines: Vec<String> = ["+", "  indented", "", "Args:"]
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(head(&lines, 3), "+\n  indented");
        assert_eq!(head(&lines, 0), "");
        assert_eq!(head(&lines, 9), "+\n  indented\n\nArgs:");
    }
}
