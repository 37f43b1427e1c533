//! The Sphinx (reST field list) docstring style:
//!
//! ```text
//! Summary line.
//!
//! :param name: What it is.
//! :type name: int
//! :returns: What comes back.
//! :rtype: str
//! :raises ValueError: When it is raised.
//! ```
//!
//! Notes render as a `.. note::` directive, examples and other sections as
//! `.. rubric:: Title` followed by the body.

use docpipe_core::model::{DocModel, DocParam, DocRaise, DocReturn, DocSection};
use docpipe_core::style::{Outline, RenderOptions, Style, WrittenDoc};

use super::text::{
    self, Breaks, cleandoc, columns, indent_of, parse_free_as, parse_verbatim, render_free,
    render_verbatim,
};
use super::{SectionKind, item_description, render_item, section_kind, unescape_stars};

/// Sphinx style (`[style] name = "sphinx"`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SphinxStyle;

impl Style for SphinxStyle {
    fn name(&self) -> &str {
        "sphinx"
    }

    fn render(&self, doc: &DocModel, options: &RenderOptions) -> String {
        let width = options.width.saturating_sub(columns(&options.indent));
        let mut out = Vec::new();
        text::render_summary(&doc.summary, 0, width, &mut out);
        let blank = |out: &mut Vec<String>| {
            if !out.is_empty() {
                out.push(String::new());
            }
        };
        if !doc.description.is_empty() {
            blank(&mut out);
            render_free(&doc.description, 0, width, &mut out);
        }
        if !doc.notes.is_empty() {
            blank(&mut out);
            out.push(".. note::".into());
            render_verbatim(&doc.notes, 4, &mut out);
        }
        let examples = (!doc.examples.is_empty()).then_some(("Examples", doc.examples.as_str()));
        for (title, body) in examples.into_iter().chain(
            doc.sections
                .iter()
                .map(|s| (s.title.as_str(), s.body.as_str())),
        ) {
            blank(&mut out);
            out.push(format!(".. rubric:: {title}"));
            out.push(String::new());
            render_verbatim(body, 0, &mut out);
        }
        let has_fields = !doc.params.is_empty()
            || doc.returns.is_some()
            || doc.yields.is_some()
            || !doc.raises.is_empty();
        if has_fields {
            blank(&mut out);
        }
        for p in &doc.params {
            let marker = match p.section.as_deref() {
                Some(m) if KEYWORD_FIELDS.contains(&m) => m,
                _ => "param",
            };
            render_item(
                &format!(":{marker} {}:", p.name),
                &p.description,
                0,
                4,
                width,
                &mut out,
            );
            if let Some(ty) = &p.ty {
                out.push(format!(":type {}: {ty}", p.name));
            }
        }
        for (field, tfield, value) in [
            ("returns", "rtype", &doc.returns),
            ("yields", "ytype", &doc.yields),
        ] {
            if let Some(v) = value {
                render_item(&format!(":{field}:"), &v.description, 0, 4, width, &mut out);
                if let Some(ty) = &v.ty {
                    out.push(format!(":{tfield}: {ty}"));
                }
            }
        }
        for r in &doc.raises {
            render_item(
                &format!(":raises {}:", r.exception),
                &r.description,
                0,
                4,
                width,
                &mut out,
            );
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
        super::outline::sphinx_recognizes(text)
    }

    fn outline(&self, text: &str) -> Option<Outline> {
        Some(super::outline::sphinx_outline(text))
    }
}

/// Parses `text`; the head ends at the first block the model holds: a field it
/// has (`:param:`, `:returns:`...), a `.. note::` or a `.. rubric::`. Fields it
/// does not have (`:ivar x:`) and other directives stay in the description.
fn scan(text: &str, breaks: Breaks) -> WrittenDoc {
    let lines = cleandoc(text);
    let is_field = |l: &str| l.starts_with(':') && field_split(l).is_some();
    let is_block_start = |l: &str| is_field(l) || l.starts_with(".. ");
    let mut doc = DocModel::default();
    let (summary, mut i) = text::summary(&lines, |i| is_block_start(&lines[i]));
    doc.summary = summary;
    let mut description = Vec::new();
    // The first modelled block's line, and how many description lines came before it.
    let mut head_end: Option<(usize, usize)> = None;
    while i < lines.len() {
        let line = lines[i].clone();
        let at = i;
        if let Some((spec, rest)) = field_split(&line).filter(|_| line.starts_with(':')) {
            i += 1;
            let start = i;
            while i < lines.len() && (lines[i].is_empty() || indent_of(&lines[i]) > 0) {
                i += 1;
            }
            let cont = dedent(trim_blank_end(&lines[start..i]));
            let before = description.len();
            if apply_field(&mut doc, spec, rest, &cont, breaks) {
                head_end.get_or_insert((at, before));
            } else {
                // A field docpipe does not model (`:meta:`, `:ivar x:`) stays in the description.
                if !description.is_empty() {
                    description.push(String::new());
                }
                description.extend(lines[start - 1..i].iter().cloned());
            }
        } else if let Some(rest) = line
            .strip_prefix(".. note::")
            .or_else(|| line.strip_prefix(".. notes::"))
        {
            head_end.get_or_insert((at, description.len()));
            i += 1;
            let start = i;
            while i < lines.len() && (lines[i].is_empty() || indent_of(&lines[i]) > 0) {
                i += 1;
            }
            let mut body = Vec::new();
            if !rest.trim().is_empty() {
                body.push(rest.trim().to_string());
            }
            body.extend(dedent(&lines[start..i]));
            doc.notes = parse_verbatim(&body);
        } else if let Some(title) = line.strip_prefix(".. rubric::") {
            head_end.get_or_insert((at, description.len()));
            i += 1;
            let start = i;
            while i < lines.len() && !is_block_start(&lines[i]) {
                i += 1;
            }
            let body = parse_verbatim(&lines[start..i]);
            let title = title.trim().to_string();
            match section_kind(&title) {
                Some(SectionKind::Examples) => doc.examples = body,
                Some(SectionKind::Notes) => doc.notes = body,
                _ => doc.sections.push(DocSection { title, body }),
            }
        } else {
            description.push(line);
            i += 1;
        }
    }
    let (head_line, head_description) = head_end.unwrap_or((lines.len(), description.len()));
    doc.description = parse_free_as(&description, breaks);
    WrittenDoc {
        head: text::head(&lines, head_line),
        rest: parse_free_as(&description[head_description..], breaks),
        doc,
    }
}

fn trim_blank_end(lines: &[String]) -> &[String] {
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |p| p + 1);
    &lines[..end]
}

fn dedent(lines: &[String]) -> Vec<String> {
    let m = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(m..).unwrap_or("").to_string())
        .collect()
}

/// Field markers of keyword arguments (`:keyword name:`); an entry written
/// with one keeps it ([`DocParam::section`]).
const KEYWORD_FIELDS: [&str; 4] = ["key", "keyword", "kwarg", "kwparam"];

/// `:spec: rest` split into `spec` and `rest`.
fn field_split(line: &str) -> Option<(&str, &str)> {
    let inner = line.strip_prefix(':')?;
    let end = inner.find(':')?;
    let spec = &inner[..end];
    if spec.trim().is_empty() || spec.starts_with(' ') {
        return None;
    }
    Some((spec.trim(), inner[end + 1..].trim()))
}

fn param_mut<'a>(doc: &'a mut DocModel, name: &str) -> &'a mut DocParam {
    let i = match doc.params.iter().position(|p| p.name == name) {
        Some(i) => i,
        None => {
            doc.params.push(DocParam {
                name: name.to_string(),
                ..DocParam::default()
            });
            doc.params.len() - 1
        }
    };
    &mut doc.params[i]
}

/// Applies a field; `false` when the field is not one the model has.
fn apply_field(
    doc: &mut DocModel,
    spec: &str,
    rest: &str,
    cont: &[String],
    breaks: Breaks,
) -> bool {
    let (kind, arg) = spec.split_once(char::is_whitespace).unwrap_or((spec, ""));
    let arg = arg.trim();
    let description = item_description(rest, cont, breaks);
    // A type is one line even when written over several.
    let ty = || item_description(rest, cont, Breaks::Join);
    match kind {
        "param" | "parameter" | "arg" | "argument" | "key" | "keyword" | "kwarg" | "kwparam" => {
            let (ty, name) = match arg.rsplit_once(char::is_whitespace) {
                Some((t, n)) => (Some(t.trim().to_string()), n),
                None => (None, arg),
            };
            let p = param_mut(doc, &unescape_stars(name));
            p.description = description;
            if ty.is_some() {
                p.ty = ty;
            }
            if KEYWORD_FIELDS.contains(&kind) {
                p.section = Some(kind.to_string());
            }
        }
        "type" => param_mut(doc, &unescape_stars(arg)).ty = Some(ty()),
        "returns" | "return" => {
            doc.returns
                .get_or_insert_with(DocReturn::default)
                .description = description
        }
        "rtype" => doc.returns.get_or_insert_with(DocReturn::default).ty = Some(ty()),
        "yields" | "yield" => {
            doc.yields
                .get_or_insert_with(DocReturn::default)
                .description = description
        }
        "ytype" => doc.yields.get_or_insert_with(DocReturn::default).ty = Some(ty()),
        "raises" | "raise" | "except" | "exception" => doc.raises.push(DocRaise {
            exception: arg.to_string(),
            description,
        }),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_in_any_order() {
        let doc = SphinxStyle.parse(
            "Open it.\n\n:type path: str\n:param path: Where\n    it is.\n:param int mode: Mode.\n:returns: A handle.\n:rtype: File\n:raises OSError: If missing.\n",
        );
        assert_eq!(
            doc.params[0],
            DocParam {
                name: "path".into(),
                ty: Some("str".into()),
                description: "Where it is.".into(),
                section: None,
            }
        );
        assert_eq!(doc.params[1].ty.as_deref(), Some("int"));
        assert_eq!(
            doc.returns,
            Some(DocReturn {
                ty: Some("File".into()),
                description: "A handle.".into()
            })
        );
        assert_eq!(doc.raises[0].exception, "OSError");
    }

    #[test]
    fn parse_written_ends_the_head_at_the_first_modelled_field() {
        let text = "Open it,\nas written.\n\n:meta private:\n:param path: Where\n    it is.\n:type path: a\n    b\n\nAfter the fields.\n";
        let written = SphinxStyle.parse_written(text).unwrap_or_default();
        assert_eq!(written.head, "Open it,\nas written.\n\n:meta private:");
        assert_eq!(written.rest, "After the fields.");
        assert_eq!(written.doc.params[0].description, "Where\nit is.");
        assert_eq!(written.doc.params[0].ty.as_deref(), Some("a b"));
    }
}
