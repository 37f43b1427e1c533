//! The Google docstring style (the default), as described by the Google
//! Python Style Guide and understood by Napoleon:
//!
//! ```text
//! Summary line.
//!
//! Description.
//!
//! Args:
//!     name (int): What it is.
//!
//! Returns:
//!     str: What comes back.
//!
//! Raises:
//!     ValueError: When it is raised.
//! ```

use docpipe_core::model::{DocModel, DocParam, DocRaise, DocReturn, DocSection};
use docpipe_core::style::{Outline, RenderOptions, Style, WrittenDoc};

use super::text::{
    self, Breaks, cleandoc, columns, parse_free_as, parse_verbatim, render_free, render_verbatim,
    split_colon,
};
use super::{
    SectionKind, entry_names, is_entry_name, item_description, items, param_groups, param_section,
    render_item, section_kind, unescape_stars,
};

/// Google style (`[style] name = "google"`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GoogleStyle;

impl Style for GoogleStyle {
    fn stars_variadic_params(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "google"
    }

    fn render(&self, doc: &DocModel, options: &RenderOptions) -> String {
        let width = options.width.saturating_sub(columns(&options.indent));
        let mut out = Vec::new();
        text::render_summary(&doc.summary, 0, width, &mut out);
        let section = |out: &mut Vec<String>, title: &str| {
            if !out.is_empty() {
                out.push(String::new());
            }
            out.push(format!("{title}:"));
        };
        if !doc.description.is_empty() {
            out.push(String::new());
            render_free(&doc.description, 0, width, &mut out);
        }
        for (title, entries) in param_groups(&doc.params) {
            section(&mut out, title.unwrap_or("Args"));
            for p in entries {
                let head = match &p.ty {
                    Some(ty) => format!("{} ({ty}):", p.name),
                    None => format!("{}:", p.name),
                };
                render_item(&head, &p.description, 4, 8, width, &mut out);
            }
        }
        for (title, value) in [("Returns", &doc.returns), ("Yields", &doc.yields)] {
            if let Some(v) = value {
                section(&mut out, title);
                match &v.ty {
                    Some(ty) => {
                        render_item(&format!("{ty}:"), &v.description, 4, 8, width, &mut out)
                    }
                    None => render_free(&v.description, 4, width, &mut out),
                }
            }
        }
        if !doc.raises.is_empty() {
            section(&mut out, "Raises");
            for r in &doc.raises {
                render_item(
                    &format!("{}:", r.exception),
                    &r.description,
                    4,
                    8,
                    width,
                    &mut out,
                );
            }
        }
        for (title, body) in [("Examples", &doc.examples), ("Notes", &doc.notes)] {
            if !body.is_empty() {
                section(&mut out, title);
                render_verbatim(body, 4, &mut out);
            }
        }
        for s in &doc.sections {
            section(&mut out, &s.title);
            render_verbatim(&s.body, 4, &mut out);
        }
        out.join("\n")
    }

    fn parse(&self, text: &str) -> DocModel {
        scan(text, Breaks::Join).doc
    }

    fn parse_written(&self, text: &str) -> Option<WrittenDoc> {
        Some(scan(text, Breaks::Keep))
    }

    fn recognizes(&self, text: &str) -> bool {
        super::outline::google_recognizes(text)
    }

    fn outline(&self, text: &str) -> Option<Outline> {
        Some(super::outline::google_outline(text))
    }
}

/// Parses `text`; the head ends at the first section header.
fn scan(text: &str, breaks: Breaks) -> WrittenDoc {
    let lines = cleandoc(text);
    let header = |i: usize| -> Option<(SectionKind, String)> {
        let l = &lines[i];
        let title = l.strip_suffix(':')?;
        if l.starts_with(' ') {
            return None;
        }
        section_kind(title).map(|k| (k, title.trim().to_string()))
    };
    let mut doc = DocModel::default();
    let (summary, mut i) = text::summary(&lines, |i| header(i).is_some());
    doc.summary = summary;
    let mut description: Vec<String> = Vec::new();
    // The first header's line, and how many description lines came before it.
    let mut head_end: Option<(usize, usize)> = None;
    while i < lines.len() {
        let Some((kind, title)) = header(i) else {
            description.push(lines[i].clone());
            i += 1;
            continue;
        };
        let at = i;
        i += 1;
        let start = i;
        while i < lines.len() && (lines[i].is_empty() || lines[i].starts_with(' ')) {
            i += 1;
        }
        let body = &lines[start..i];
        let verbatim = matches!(
            kind,
            SectionKind::Examples | SectionKind::Notes | SectionKind::Other
        );
        if breaks == Breaks::Keep
            && verbatim
            && head_end.is_none()
            && body.iter().all(|l| l.is_empty())
        {
            // A title over unindented text (`Examples:` then code at the
            // margin) is part of what the person wrote before any section;
            // as an empty section the title would be lost.
            description.extend(lines[at..i].iter().cloned());
            continue;
        }
        head_end.get_or_insert((at, description.len()));
        apply_section(&mut doc, kind, title, body, breaks);
    }
    let (head_line, head_description) = head_end.unwrap_or((lines.len(), description.len()));
    doc.description = parse_free_as(&description, breaks);
    WrittenDoc {
        head: text::head(&lines, head_line),
        rest: parse_free_as(&description[head_description..], breaks),
        doc,
    }
}

fn apply_section(
    doc: &mut DocModel,
    kind: SectionKind,
    title: String,
    body: &[String],
    breaks: Breaks,
) {
    match kind {
        SectionKind::Params => {
            // A type may run over several lines (`x (Union[A,` / `B]): ...`).
            let entries: Vec<(String, Vec<String>)> = items(body)
                .into_iter()
                .map(|(first, cont)| join_open_brackets(first, cont))
                .collect();
            let heads: Vec<(String, Option<String>, &str)> = entries
                .iter()
                .map(|(first, _)| {
                    let (head, rest) = split_colon(first).unwrap_or((first.as_str(), ""));
                    let (name, ty) = name_and_type(head);
                    (unescape_stars(&name), ty, rest)
                })
                .collect();
            if !heads
                .iter()
                .any(|(name, _, _)| entry_names(name).iter().all(|n| is_entry_name(n)))
            {
                // Not a list of `name: description` entries (a bulleted
                // list, prose): kept as written, documenting no parameter.
                // Among real entries, a malformed one stays an entry under
                // the name it shows, which a check then reports.
                doc.sections.push(DocSection {
                    title,
                    body: parse_verbatim(body),
                });
                return;
            }
            let section = param_section(&title);
            for ((name, ty, rest), (_, cont)) in heads.into_iter().zip(&entries) {
                let description = item_description(rest, cont, breaks);
                for name in entry_names(&name) {
                    doc.params.push(DocParam {
                        name,
                        ty: ty.clone(),
                        description: description.clone(),
                        section: section.clone(),
                    });
                }
            }
        }
        SectionKind::Returns | SectionKind::Yields => {
            let value = typed_value(body, breaks);
            if kind == SectionKind::Returns {
                doc.returns = Some(value);
            } else {
                doc.yields = Some(value);
            }
        }
        SectionKind::Raises => {
            for (first, cont) in items(body) {
                let (exc, rest) = split_colon(&first).unwrap_or((first.as_str(), ""));
                doc.raises.push(DocRaise {
                    exception: exc.trim().to_string(),
                    description: item_description(rest, &cont, breaks),
                });
            }
        }
        SectionKind::Examples => doc.examples = parse_verbatim(body),
        SectionKind::Notes => doc.notes = parse_verbatim(body),
        SectionKind::Other => doc.sections.push(DocSection {
            title,
            body: parse_verbatim(body),
        }),
    }
}

/// An entry whose first line leaves a bracket open, with the continuation
/// lines that close it joined to it (whitespace collapsed, as a type is one
/// line); the other continuation lines as they were.
fn join_open_brackets(first: String, mut cont: Vec<String>) -> (String, Vec<String>) {
    let depth = text::open_brackets;
    let mut head = first;
    while depth(&head) > 0 && !cont.is_empty() {
        let next = cont.remove(0);
        if next.trim().is_empty() {
            break;
        }
        head.push(' ');
        head.push_str(next.trim());
    }
    (head, cont)
}

/// `name (type)` or `name`.
fn name_and_type(head: &str) -> (String, Option<String>) {
    let head = head.trim();
    if let Some(open) = head.find(" (")
        && head.ends_with(')')
    {
        let ty = head[open + 2..head.len() - 1].trim();
        return (
            head[..open].trim().to_string(),
            (!ty.is_empty()).then(|| ty.to_string()),
        );
    }
    (head.to_string(), None)
}

/// A Returns/Yields body: `type: description` or a description alone.
fn typed_value(body: &[String], breaks: Breaks) -> DocReturn {
    let lines: Vec<String> = {
        let m = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| text::indent_of(l))
            .min()
            .unwrap_or(0);
        body.iter()
            .map(|l| l.get(m..).unwrap_or("").to_string())
            .collect()
    };
    let first = lines.iter().position(|l| !l.trim().is_empty());
    if let Some(f) = first
        && let Some((head, rest)) = split_colon(&lines[f])
        && looks_like_type(head)
    {
        let cont: Vec<String> = lines[f + 1..].to_vec();
        let cont = dedent(&cont);
        return DocReturn {
            ty: Some(head.to_string()),
            description: item_description(rest, &cont, breaks),
        };
    }
    DocReturn {
        ty: None,
        description: parse_free_as(&lines, breaks),
    }
}

fn dedent(lines: &[String]) -> Vec<String> {
    let m = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| text::indent_of(l))
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(m..).unwrap_or("").to_string())
        .collect()
}

/// A type has no whitespace outside brackets (`dict[str, int]`, `Optional[int]`).
pub(crate) fn looks_like_type(s: &str) -> bool {
    let chars = text::outside_strings(s);
    !s.is_empty()
        && chars.iter().enumerate().all(|(k, &(_, c, depth))| {
            // Whitespace inside brackets, or around the `|` of a union.
            !c.is_whitespace()
                || depth > 0
                || chars[..k]
                    .iter()
                    .rev()
                    .find(|x| !x.1.is_whitespace())
                    .is_some_and(|x| x.1 == '|')
                || chars[k + 1..]
                    .iter()
                    .find(|x| !x.1.is_whitespace())
                    .is_some_and(|x| x.1 == '|')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_typical_google_docstring() {
        let doc = GoogleStyle.parse(
            "Fetch rows.\n\n    Longer text\n    here.\n\n    Args:\n        table (Table): The table.\n        keys: Keys to\n            fetch.\n        *args: More.\n\n    Returns:\n        dict[str, int]: Mapping.\n\n    Raises:\n        IOError: On failure.\n\n    See Also:\n        other()\n",
        );
        assert_eq!(doc.summary, "Fetch rows.");
        assert_eq!(doc.description, "Longer text here.");
        assert_eq!(doc.params.len(), 3);
        assert_eq!(doc.params[0].ty.as_deref(), Some("Table"));
        assert_eq!(doc.params[1].description, "Keys to fetch.");
        assert_eq!(
            doc.param("args").map(|p| p.description.as_str()),
            Some("More.")
        );
        let r = doc.returns.as_ref().unwrap();
        assert_eq!(
            (r.ty.as_deref(), r.description.as_str()),
            (Some("dict[str, int]"), "Mapping.")
        );
        assert_eq!(doc.raises[0].exception, "IOError");
        assert_eq!(doc.sections[0].title, "See Also");
    }

    #[test]
    fn parse_written_keeps_the_head_the_rest_and_line_breaks() {
        let text = "+\n    phrase = word\n        obs-phrase = word\n\n    Args:\n        x: One,\n            two.\n\n    Returns:\n        int: Three,\n            four.\n    Later,\n    text.\n    ";
        let written = GoogleStyle.parse_written(text).unwrap_or_default();
        assert_eq!(written.head, "+\nphrase = word\n    obs-phrase = word");
        assert_eq!(written.rest, "Later,\ntext.");
        assert_eq!(written.doc.params[0].description, "One,\ntwo.");
        assert_eq!(
            written.doc.returns.map(|r| r.description),
            Some("Three,\nfour.".into())
        );
        let parsed = GoogleStyle.parse(text);
        assert_eq!(parsed.summary, "+ phrase = word obs-phrase = word");
        assert_eq!(parsed.params[0].description, "One, two.");
    }

    #[test]
    fn returns_without_type_is_a_description() {
        let doc = GoogleStyle.parse("S.\n\nReturns:\n    The number of rows.\n");
        assert_eq!(
            doc.returns,
            Some(DocReturn {
                ty: None,
                description: "The number of rows.".into()
            })
        );
    }

    #[test]
    fn render_wraps_at_width_including_indent() {
        let doc = DocModel {
            summary: "Do it.".into(),
            params: vec![DocParam {
                name: "x".into(),
                ty: Some("int".into()),
                description: "word ".repeat(40).trim().to_string(),
                section: None,
            }],
            ..DocModel::default()
        };
        let opts = RenderOptions {
            width: 60,
            indent: "        ".into(),
        };
        let text = GoogleStyle.render(&doc, &opts);
        assert!(text.lines().all(|l| l.chars().count() + 8 <= 60), "{text}");
        assert_eq!(GoogleStyle.parse(&text), doc);
    }
}
