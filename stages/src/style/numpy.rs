//! The NumPy docstring style (numpydoc): section titles underlined with
//! dashes, `name : type` items with the description indented below.
//!
//! ```text
//! Summary line.
//!
//! Parameters
//! ----------
//! name : int
//!     What it is.
//!
//! Returns
//! -------
//! str
//!     What comes back.
//! ```

use docpipe_core::model::{DocModel, DocParam, DocRaise, DocReturn, DocSection};
use docpipe_core::style::{Outline, RenderOptions, Style, WrittenDoc};

use super::text::{
    self, Breaks, cleandoc, columns, indent_of, parse_free_as, parse_verbatim, render_free,
    render_verbatim,
};
use super::{
    SectionKind, entry_names, is_entry_name, item_description, items, param_groups, param_section,
    section_kind, unescape_stars,
};

/// NumPy style (`[style] name = "numpy"`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NumpyStyle;

fn header(out: &mut Vec<String>, title: &str) {
    if !out.is_empty() {
        out.push(String::new());
    }
    out.push(title.to_string());
    out.push("-".repeat(title.chars().count()));
}

fn render_typed(out: &mut Vec<String>, head: Option<&str>, desc: &str, width: usize) {
    if let Some(h) = head {
        out.push(h.to_string());
    }
    if !desc.is_empty() {
        render_free(desc, 4, width, out);
    }
}

impl Style for NumpyStyle {
    fn stars_variadic_params(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "numpy"
    }

    fn render(&self, doc: &DocModel, options: &RenderOptions) -> String {
        let width = options.width.saturating_sub(columns(&options.indent));
        let mut out = Vec::new();
        text::render_summary(&doc.summary, 0, width, &mut out);
        if !doc.description.is_empty() {
            out.push(String::new());
            render_free(&doc.description, 0, width, &mut out);
        }
        for (title, entries) in param_groups(&doc.params) {
            header(&mut out, title.unwrap_or("Parameters"));
            for p in entries {
                let head = match &p.ty {
                    Some(ty) => format!("{} : {ty}", p.name),
                    None => p.name.clone(),
                };
                render_typed(&mut out, Some(&head), &p.description, width);
            }
        }
        for (title, value) in [("Returns", &doc.returns), ("Yields", &doc.yields)] {
            if let Some(v) = value {
                header(&mut out, title);
                render_typed(&mut out, v.ty.as_deref(), &v.description, width);
            }
        }
        if !doc.raises.is_empty() {
            header(&mut out, "Raises");
            for r in &doc.raises {
                render_typed(&mut out, Some(&r.exception), &r.description, width);
            }
        }
        for s in &doc.sections {
            header(&mut out, &s.title);
            render_verbatim(&s.body, 0, &mut out);
        }
        for (title, body) in [("Notes", &doc.notes), ("Examples", &doc.examples)] {
            if !body.is_empty() {
                header(&mut out, title);
                render_verbatim(body, 0, &mut out);
            }
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
        super::outline::numpy_recognizes(text)
    }

    fn outline(&self, text: &str) -> Option<Outline> {
        Some(super::outline::numpy_outline(text))
    }
}

/// Parses `text`; the head ends at the first underlined title.
fn scan(text: &str, breaks: Breaks) -> WrittenDoc {
    let lines = cleandoc(text);
    let is_header = |i: usize| {
        !lines[i].trim().is_empty()
            && !lines[i].starts_with(' ')
            && lines.get(i + 1).is_some_and(|u| {
                let u = u.trim();
                u.len() >= 3 && u.chars().all(|c| c == '-')
            })
    };
    let mut doc = DocModel::default();
    let (summary, mut i) = text::summary(&lines, is_header);
    doc.summary = summary;
    let mut description = Vec::new();
    let mut head_end = None;
    while i < lines.len() {
        if !is_header(i) {
            description.push(lines[i].clone());
            i += 1;
            continue;
        }
        head_end.get_or_insert(i);
        let title = lines[i].trim().to_string();
        i += 2;
        let start = i;
        while i < lines.len() && !is_header(i) {
            i += 1;
        }
        let body = &lines[start..i];
        let kind = section_kind(&title).unwrap_or(SectionKind::Other);
        apply_section(&mut doc, kind, title, body, breaks);
    }
    doc.description = parse_free_as(&description, breaks);
    WrittenDoc {
        // Every line outside a section comes before the first one.
        head: text::head(&lines, head_end.unwrap_or(lines.len())),
        rest: String::new(),
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
            let entries = items(body);
            let heads: Vec<(String, Option<String>)> = entries
                .iter()
                .map(
                    |(head, _)| match head.split_once(" : ").or_else(|| head.split_once(':')) {
                        Some((n, t)) if !t.trim().is_empty() => {
                            (unescape_stars(n.trim()), Some(t.trim().to_string()))
                        }
                        Some((n, _)) => (unescape_stars(n.trim()), None),
                        None => (unescape_stars(head.trim()), None),
                    },
                )
                .collect();
            if !heads
                .iter()
                .any(|(name, _)| entry_names(name).iter().all(|n| is_entry_name(n)))
            {
                // Not a list of `name : type` entries: kept as written.
                // Among real entries, a malformed one stays an entry under
                // the name it shows, which a check then reports.
                doc.sections.push(DocSection {
                    title,
                    body: parse_verbatim(body),
                });
                return;
            }
            let section = param_section(&title);
            for ((name, ty), (_, cont)) in heads.into_iter().zip(&entries) {
                let description = item_description("", cont, breaks);
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
            let first = body.iter().find(|l| !l.trim().is_empty());
            let value = match first {
                Some(f) if indent_of(f) == 0 => {
                    let (head, cont) = items(body).into_iter().next().unwrap_or_default();
                    let ty = head
                        .split_once(" : ")
                        .map_or(head.as_str(), |(_, t)| t)
                        .trim()
                        .to_string();
                    DocReturn {
                        ty: Some(ty),
                        description: item_description("", &cont, breaks),
                    }
                }
                _ => DocReturn {
                    ty: None,
                    description: parse_free_as(body, breaks),
                },
            };
            if kind == SectionKind::Returns {
                doc.returns = Some(value);
            } else {
                doc.yields = Some(value);
            }
        }
        SectionKind::Raises => {
            for (head, cont) in items(body) {
                doc.raises.push(DocRaise {
                    exception: head.trim().to_string(),
                    description: item_description("", &cont, breaks),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_typical_numpy_docstring() {
        let doc = NumpyStyle.parse(
            "Sum values.\n\nParameters\n----------\na : array_like\n    Input.\naxis\n    Axis.\n\nReturns\n-------\nndarray\n    The sum.\n\nSee Also\n--------\nmean\n",
        );
        assert_eq!(doc.params.len(), 2);
        assert_eq!(doc.params[0].ty.as_deref(), Some("array_like"));
        assert_eq!(doc.params[1].ty, None);
        assert_eq!(
            doc.returns.as_ref().and_then(|r| r.ty.as_deref()),
            Some("ndarray")
        );
        assert_eq!(
            doc.sections,
            vec![DocSection {
                title: "See Also".into(),
                body: "mean".into()
            }]
        );
    }

    #[test]
    fn parse_written_keeps_the_head_and_line_breaks() {
        let text = "Sum values,\n    line by line.\n\n    Parameters\n    ----------\n    a : int\n        First,\n        second.\n    ";
        let written = NumpyStyle.parse_written(text).unwrap_or_default();
        assert_eq!(written.head, "Sum values,\nline by line.");
        assert_eq!(written.rest, "");
        assert_eq!(written.doc.params[0].description, "First,\nsecond.");
        assert_eq!(
            NumpyStyle.parse(text).params[0].description,
            "First, second."
        );
    }

    #[test]
    fn returns_without_type_is_indented_description() {
        let doc = DocModel {
            summary: "S.".into(),
            returns: Some(DocReturn {
                ty: None,
                description: "The value.".into(),
            }),
            ..DocModel::default()
        };
        let text = NumpyStyle.render(&doc, &RenderOptions::default());
        assert_eq!(text, "S.\n\nReturns\n-------\n    The value.");
        assert_eq!(NumpyStyle.parse(&text), doc);
    }
}
