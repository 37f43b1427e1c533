//! Docstring styles: [`GoogleStyle`] (the default), [`NumpyStyle`] and
//! [`SphinxStyle`], each rendering a
//! [`DocModel`](docpipe_core::model::DocModel) to text and parsing text back,
//! plus the shared `[style]` section that selects one.
//!
//! # Round trip
//! `parse(render(m)) == m` holds for every *normalised* model:
//! - `summary` is one line of text (it may be long: it is wrapped and joined back);
//! - free text (`description`, parameter, return, yield and exception
//!   descriptions) follows the rules of free text (module `text`): paragraphs
//!   separated by one blank line, plain lines within a paragraph already
//!   joined; item descriptions have no leading or trailing whitespace;
//! - `examples`, `notes` and section bodies are dedented, with no trailing
//!   whitespace and no leading or trailing blank lines;
//! - a `returns`/`yields` value has a non-empty description, and a
//!   description whose first line has no `: ` (Google reads `int: text` as a
//!   type), types have no leading or trailing spaces;
//! - other sections have a title the style recognises as a section that is
//!   not one of the modelled ones (`Attributes`, `See Also`, `Todo`, ...).
//!
//! Parsing never fails: what a style does not understand lands in
//! `description` or `sections`.
//!
//! # As written
//! Each style also implements `Style::parse_written`, which the writer uses to
//! complete a docstring a person wrote without rewording it: the head (the
//! lines before the first section the style recognises) verbatim, and free
//! text with the person's line breaks kept (`text::Breaks::Keep`). `parse`
//! is unchanged by it, so the round trip above still holds.

mod google;
mod numpy;
mod sphinx;
pub(crate) mod text;

use std::sync::Arc;

use docpipe_core::registry::{BuildContext, BuildError, OptionDoc, Registry};
use docpipe_core::style::Style;
use serde::Deserialize;

pub use google::GoogleStyle;
pub use numpy::NumpyStyle;
pub use sphinx::SphinxStyle;

/// The shared `[style]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StyleSection {
    /// Registered style name: `google`, `numpy`, `sphinx` or a plugin's.
    pub name: String,
    /// Wrap docstring lines at this many columns, indentation included.
    pub width: usize,
}

impl Default for StyleSection {
    fn default() -> Self {
        StyleSection {
            name: "google".into(),
            width: 88,
        }
    }
}

/// The keys of `[style]` for `docpipe stages` and the README.
pub fn section_options() -> Vec<OptionDoc> {
    vec![
        OptionDoc {
            name: "name",
            ty: "string",
            default: Some("\"google\""),
            doc: "Docstring convention: `google`, `numpy`, `sphinx`, or a style a plugin registers.",
        },
        OptionDoc {
            name: "width",
            ty: "integer",
            default: Some("88"),
            doc: "Wrap rendered docstrings at this many columns, indentation included.",
        },
    ]
}

pub(crate) fn register(registry: &mut Registry) {
    registry.add_style(Arc::new(GoogleStyle));
    registry.add_style(Arc::new(NumpyStyle));
    registry.add_style(Arc::new(SphinxStyle));
    registry.add_section::<StyleSection>(
        "style",
        "The docstring convention stages parse and render, and the wrap width",
        section_options(),
    );
}

/// The configured style and the `[style]` section, for stages that parse or render docstrings.
pub fn from_context(ctx: &BuildContext<'_>) -> Result<(Arc<dyn Style>, StyleSection), BuildError> {
    let section: StyleSection = ctx.section("style")?;
    if section.width < 20 {
        return Err(BuildError::section(
            "style",
            "width",
            format!("`{}` is too narrow", section.width),
        )
        .with_help("use a width of at least 20 columns (88 is the default)"));
    }
    let style = ctx.registry.style(&section.name).map_err(|e| BuildError {
        section_key: Some(("style".into(), "name".into())),
        ..e
    })?;
    Ok((style, section))
}

/// What a section title means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionKind {
    Params,
    Returns,
    Yields,
    Raises,
    Examples,
    Notes,
    /// A recognised section the model keeps verbatim in `sections`.
    Other,
}

/// The meaning of a section title (case-insensitive), `None` when it is not a known section.
pub(crate) fn section_kind(title: &str) -> Option<SectionKind> {
    let t = title.trim().to_ascii_lowercase();
    Some(match t.as_str() {
        "args" | "arguments" | "parameters" | "params" | "param" => SectionKind::Params,
        "returns" | "return" => SectionKind::Returns,
        "yields" | "yield" => SectionKind::Yields,
        "raises" | "raise" | "exceptions" | "except" => SectionKind::Raises,
        "example" | "examples" => SectionKind::Examples,
        "note" | "notes" => SectionKind::Notes,
        "attention" | "attributes" | "caution" | "danger" | "error" | "hint" | "important"
        | "keyword args" | "keyword arguments" | "kwargs" | "methods" | "other parameters"
        | "other params" | "receives" | "references" | "see also" | "tip" | "todo" | "warning"
        | "warnings" | "warns" | "deprecated" => SectionKind::Other,
        _ => return None,
    })
}

/// Items of a section body (dedented lines): an item starts at a line without
/// indentation; the following indented or blank lines are its continuation.
/// Returns each item's first line and its continuation, dedented.
pub(crate) fn items(lines: &[String]) -> Vec<(String, Vec<String>)> {
    let margin = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| text::indent_of(l))
        .min()
        .unwrap_or(0);
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        let l = line.get(margin..).unwrap_or("");
        if !l.is_empty() && !l.starts_with(' ') {
            out.push((l.trim_end().to_string(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(l.to_string());
        }
    }
    for (_, cont) in &mut out {
        while cont.last().is_some_and(|l| l.trim().is_empty()) {
            cont.pop();
        }
        let m = cont
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| text::indent_of(l))
            .min()
            .unwrap_or(0);
        for l in cont.iter_mut() {
            *l = l.get(m..).unwrap_or("").to_string();
        }
    }
    out
}

/// An item's description: the text after the head on its first line, then
/// its continuation, plain lines joined or kept as `breaks` says.
pub(crate) fn item_description(first_rest: &str, cont: &[String], breaks: text::Breaks) -> String {
    let mut lines = Vec::with_capacity(cont.len() + 1);
    if !first_rest.trim().is_empty() {
        lines.push(first_rest.trim().to_string());
    }
    lines.extend(cont.iter().cloned());
    text::parse_free_as(&lines, breaks)
}

/// Renders an item: `head` then the description, wrapped, continuation lines at `cont_indent`.
pub(crate) fn render_item(
    head: &str,
    desc: &str,
    indent: usize,
    cont_indent: usize,
    width: usize,
    out: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    let mut paragraphs = desc.split("\n\n");
    let first = paragraphs.next().unwrap_or("");
    let mut first_lines = first.lines();
    let lead = first_lines.next().unwrap_or("");
    let first_width = width.saturating_sub(indent + head.chars().count() + 1);
    let first_word = lead
        .split_whitespace()
        .next()
        .map_or(0, |w| w.chars().count());
    if lead.is_empty() || first_word > first_width {
        // A long head: the description starts on the next line.
        out.push(format!("{pad}{head}"));
        if !lead.is_empty() {
            text::render_free(lead, cont_indent, width, out);
        }
    } else {
        let rest_width = width.saturating_sub(cont_indent).max(20);
        let wrapped = text::wrap(lead, first_width, rest_width);
        let cpad = " ".repeat(cont_indent);
        for (i, l) in wrapped.into_iter().enumerate() {
            if i == 0 {
                out.push(format!("{pad}{head} {l}"));
            } else {
                out.push(format!("{cpad}{l}"));
            }
        }
    }
    let rest_of_first: Vec<&str> = first_lines.collect();
    if !rest_of_first.is_empty() {
        text::render_free(&rest_of_first.join("\n"), cont_indent, width, out);
    }
    for p in paragraphs {
        out.push(String::new());
        text::render_free(p, cont_indent, width, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_the_same_section() {
        for t in ["Args", "Arguments", "Parameters"] {
            assert_eq!(section_kind(t), Some(SectionKind::Params));
        }
        assert_eq!(section_kind("Return"), Some(SectionKind::Returns));
        assert_eq!(section_kind("See Also"), Some(SectionKind::Other));
        assert_eq!(section_kind("For example"), None);
    }
}
