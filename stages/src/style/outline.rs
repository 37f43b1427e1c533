//! Where a docstring's sections and entries are, by line, in each built-in
//! convention ([`Style::outline`](docpipe_core::style::Style::outline)), and
//! whether a docstring is written in a convention at all
//! ([`Style::recognizes`](docpipe_core::style::Style::recognizes)).
//!
//! The outlines read what the parsers read: a section the parser keeps as
//! free text (a Google title over unindented text, a parameters section of
//! bullets) is not a section here either.

use std::ops::Range;

use docpipe_core::style::{Outline, OutlineEntry, OutlineSection, SectionRole};

use super::text::{RawLines, split_colon};
use super::{SectionKind, entry_names, is_entry_name, section_kind, unescape_stars};

/// One range as an entry's lines.
fn single(range: Range<usize>) -> Vec<Range<usize>> {
    std::iter::once(range).collect()
}

fn role(kind: SectionKind) -> SectionRole {
    match kind {
        SectionKind::Params => SectionRole::Params,
        SectionKind::Returns => SectionRole::Returns,
        SectionKind::Yields => SectionRole::Yields,
        SectionKind::Raises => SectionRole::Raises,
        SectionKind::Examples | SectionKind::Notes | SectionKind::Other => SectionRole::Other,
    }
}

/// The entries of a section body `from..to`: an entry starts at a line with
/// the body's smallest indentation, the lines after it that are blank or
/// indented further continue it. `names` reads an entry's first line.
fn entries(
    lines: &RawLines,
    from: usize,
    to: usize,
    names: impl Fn(&str) -> Vec<String>,
) -> Vec<OutlineEntry> {
    let margin = (from..to)
        .filter(|&i| !lines.blank(i))
        .map(|i| lines.indent[i])
        .min()
        .unwrap_or(0);
    let starts: Vec<usize> = (from..to)
        .filter(|&i| !lines.blank(i) && lines.indent[i] == margin)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &start)| {
            let next = starts.get(k + 1).copied().unwrap_or(to);
            OutlineEntry {
                names: names(lines.text[start].trim()),
                lines: single(start..lines.trim_end(start, next)),
                indent: margin,
            }
        })
        .collect()
}

/// Whether a parameters section whose entries are `entries` reads as one
/// (some entry names a parameter), as the parsers decide.
fn reads_as_params(entries: &[OutlineEntry]) -> bool {
    entries
        .iter()
        .any(|e| e.names.iter().all(|n| is_entry_name(&unescape_stars(n))))
}

fn outline_of(lines: &RawLines, sections: Vec<OutlineSection>) -> Outline {
    let end = lines.trim_end(0, lines.len());
    Outline {
        body_start: sections.first().map_or(end, |s| s.lines.start),
        sections,
        end,
    }
}

// --- Google ------------------------------------------------------------------

/// The title and kind of a Google section header at line `i` (`Title:` at
/// the docstring's margin), when the lines under it are indented.
fn google_header(lines: &RawLines, i: usize) -> Option<(SectionKind, String, usize)> {
    if lines.indent[i] != 0 {
        return None;
    }
    let title = lines.text[i].strip_suffix(':')?;
    let kind = section_kind(title)?;
    let mut j = i + 1;
    while j < lines.len() && (lines.blank(j) || lines.indent[j] > 0) {
        j += 1;
    }
    (lines.trim_end(i + 1, j) > i + 1).then(|| (kind, title.trim().to_string(), j))
}

/// The names of a Google entry's first line (`x (int): ...`, `*args: ...`).
fn google_names(first: &str) -> Vec<String> {
    let head = split_colon(first).map_or(first, |(h, _)| h);
    let name = head.split(" (").next().unwrap_or(head).trim();
    entry_names(name)
}

pub(crate) fn google_recognizes(text: &str) -> bool {
    let lines = RawLines::new(text);
    (0..lines.len()).any(|i| google_header(&lines, i).is_some())
}

pub(crate) fn google_outline(text: &str) -> Outline {
    let lines = RawLines::new(text);
    let mut sections = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((kind, title, next)) = google_header(&lines, i) else {
            i += 1;
            continue;
        };
        let end = lines.trim_end(i + 1, next);
        sections.push(section(&lines, kind, title, i..i + 1, end, google_names));
        i = next;
    }
    outline_of(&lines, sections)
}

fn section(
    lines: &RawLines,
    kind: SectionKind,
    title: String,
    header: Range<usize>,
    end: usize,
    names: impl Fn(&str) -> Vec<String>,
) -> OutlineSection {
    let mut role = role(kind);
    let body = header.end;
    let entries = match role {
        SectionRole::Params | SectionRole::Raises => entries(lines, body, end, names),
        SectionRole::Returns | SectionRole::Yields => {
            let indent = (body..end)
                .filter(|&i| !lines.blank(i))
                .map(|i| lines.indent[i])
                .min()
                .unwrap_or(0);
            vec![OutlineEntry {
                names: Vec::new(),
                lines: single(body..end),
                indent,
            }]
        }
        SectionRole::Other => Vec::new(),
    };
    if role == SectionRole::Params && !reads_as_params(&entries) {
        role = SectionRole::Other;
    }
    OutlineSection {
        role,
        title,
        lines: header.start..end,
        header,
        entries: if role == SectionRole::Other {
            Vec::new()
        } else {
            entries
        },
    }
}

// --- NumPy -------------------------------------------------------------------

/// Whether line `i` is a NumPy section title: text at the margin over a line
/// of three or more dashes.
fn numpy_header(lines: &RawLines, i: usize) -> bool {
    !lines.blank(i)
        && lines.indent[i] == 0
        && lines.text.get(i + 1).is_some_and(|u| {
            let u = u.trim();
            u.len() >= 3 && u.chars().all(|c| c == '-')
        })
}

/// The names of a NumPy entry's first line (`x : int`, `x, y`, `*args`).
fn numpy_names(first: &str) -> Vec<String> {
    let head = first
        .split_once(" : ")
        .or_else(|| first.split_once(':'))
        .map_or(first, |(n, _)| n)
        .trim();
    entry_names(head)
}

pub(crate) fn numpy_recognizes(text: &str) -> bool {
    let lines = RawLines::new(text);
    (0..lines.len()).any(|i| numpy_header(&lines, i))
}

pub(crate) fn numpy_outline(text: &str) -> Outline {
    let lines = RawLines::new(text);
    let headers: Vec<usize> = (0..lines.len())
        .filter(|&i| numpy_header(&lines, i))
        .collect();
    let mut sections = Vec::new();
    for (k, &i) in headers.iter().enumerate() {
        let next = headers.get(k + 1).copied().unwrap_or(lines.len());
        let title = lines.text[i].trim().to_string();
        let kind = section_kind(&title).unwrap_or(SectionKind::Other);
        let end = lines.trim_end(i + 2, next).max(i + 2);
        sections.push(section(&lines, kind, title, i..i + 2, end, numpy_names));
    }
    outline_of(&lines, sections)
}

// --- Sphinx ------------------------------------------------------------------

/// The role and the name of a Sphinx field line (`:param int x: ...`).
fn sphinx_field(line: &str) -> Option<(SectionRole, &str, String)> {
    let inner = line.strip_prefix(':')?;
    let end = inner.find(':')?;
    let spec = inner[..end].trim();
    if spec.is_empty() || inner.starts_with(' ') {
        return None;
    }
    let (kind, arg) = spec.split_once(char::is_whitespace).unwrap_or((spec, ""));
    let name = arg.split_whitespace().last().unwrap_or("").to_string();
    let role = match kind {
        "param" | "parameter" | "arg" | "argument" | "key" | "keyword" | "kwarg" | "kwparam"
        | "type" => SectionRole::Params,
        "returns" | "return" | "rtype" => SectionRole::Returns,
        "yields" | "yield" | "ytype" => SectionRole::Yields,
        "raises" | "raise" | "except" | "exception" => SectionRole::Raises,
        _ => return None,
    };
    let name = if role == SectionRole::Raises {
        arg.trim().to_string()
    } else {
        name
    };
    Some((role, kind, name))
}

pub(crate) fn sphinx_recognizes(text: &str) -> bool {
    let lines = RawLines::new(text);
    (0..lines.len()).any(|i| lines.indent[i] == 0 && sphinx_field(&lines.text[i]).is_some())
}

pub(crate) fn sphinx_outline(text: &str) -> Outline {
    let lines = RawLines::new(text);
    let mut sections: Vec<OutlineSection> = Vec::new();
    // Whether the last section may take the next field (nothing came between).
    let mut run_open = false;
    let mut i = 0;
    while i < lines.len() {
        let field = (lines.indent[i] == 0)
            .then(|| sphinx_field(&lines.text[i]))
            .flatten();
        let Some((role, kind, name)) = field else {
            // Prose or an unmodelled field (`:meta:`, `:ivar x:`) ends a run of fields.
            if !lines.blank(i) {
                run_open = false;
            }
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < lines.len() && (lines.blank(j) || lines.indent[j] > 0) {
            j += 1;
        }
        let end = lines.trim_end(i, j);
        // A new section unless the previous one has this role and nothing came between.
        let open = run_open && sections.last().is_some_and(|s| s.role == role);
        run_open = true;
        if !open {
            sections.push(OutlineSection {
                role,
                title: kind.to_string(),
                header: i..i,
                lines: i..end,
                entries: Vec::new(),
            });
        }
        if let Some(s) = sections.last_mut() {
            s.lines.end = end;
            // `:type x:` and `:rtype:` join the entry they describe.
            let joins = matches!(kind, "type" | "rtype" | "ytype");
            let existing = s
                .entries
                .iter_mut()
                .find(|e| joins && (role != SectionRole::Params || e.names == [name.clone()]));
            match existing {
                Some(e) => e.lines.push(i..end),
                None => s.entries.push(OutlineEntry {
                    names: if name.is_empty() {
                        Vec::new()
                    } else {
                        vec![name]
                    },
                    lines: single(i..end),
                    indent: 0,
                }),
            }
        }
        i = j;
    }
    outline_of(&lines, sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A section as (role, title, lines, the names of each entry).
    type Shape = (SectionRole, String, Range<usize>, Vec<Vec<String>>);

    fn summary(o: &Outline) -> Vec<Shape> {
        o.sections
            .iter()
            .map(|s| {
                (
                    s.role,
                    s.title.clone(),
                    s.lines.clone(),
                    s.entries.iter().map(|e| e.names.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn google_sections_and_entries_by_line() {
        let text = "Do it.\n\n    Longer.\n\n    Args:\n        x (int): The x.\n            More.\n        *rest: Others.\n\n    Returns:\n        int: One.\n\n    Examples:\n        >>> f()\n    ";
        let o = google_outline(text);
        assert_eq!(
            summary(&o),
            vec![
                (
                    SectionRole::Params,
                    "Args".into(),
                    4..8,
                    vec![vec!["x".to_string()], vec!["*rest".to_string()]]
                ),
                (SectionRole::Returns, "Returns".into(), 9..11, vec![vec![]]),
                (SectionRole::Other, "Examples".into(), 12..14, vec![]),
            ]
        );
        assert_eq!(o.sections[0].entries[0].lines, vec![5..7]);
        assert_eq!(o.body_start, 4);
        assert_eq!(o.end, 14);
        assert!(google_recognizes(text));
        assert!(!google_recognizes("Do it.\n\nNote: prose here.\n"));
    }

    #[test]
    fn numpy_sections_and_entries_by_line() {
        let text = "Do it.\n\nParameters\n----------\nx, y : int\n    Both.\nz\n    Alone.\n\nReturns\n-------\nint\n    One.\n";
        let o = numpy_outline(text);
        assert_eq!(
            summary(&o),
            vec![
                (
                    SectionRole::Params,
                    "Parameters".into(),
                    2..8,
                    vec![
                        vec!["x".to_string(), "y".to_string()],
                        vec!["z".to_string()]
                    ]
                ),
                (SectionRole::Returns, "Returns".into(), 9..13, vec![vec![]]),
            ]
        );
        assert!(numpy_recognizes(text));
        assert!(!numpy_recognizes("Do it.\n\nArgs:\n    x: X.\n"));
    }

    #[test]
    fn sphinx_fields_group_into_sections_and_types_join_their_entry() {
        let text = "Do it.\n\n:param x: The x.\n:type x: int\n:param y: The y.\n    More.\n:returns: One.\n:rtype: int\n:raises ValueError: Bad.\n";
        let o = sphinx_outline(text);
        assert_eq!(
            summary(&o),
            vec![
                (
                    SectionRole::Params,
                    "param".into(),
                    2..6,
                    vec![vec!["x".to_string()], vec!["y".to_string()]]
                ),
                (SectionRole::Returns, "returns".into(), 6..8, vec![vec![]]),
                (
                    SectionRole::Raises,
                    "raises".into(),
                    8..9,
                    vec![vec!["ValueError".to_string()]]
                ),
            ]
        );
        assert_eq!(o.sections[0].entries[0].lines, vec![2..3, 3..4]);
        assert_eq!(o.sections[1].entries[0].lines, vec![6..7, 7..8]);
        assert!(sphinx_recognizes(text));
    }
}
