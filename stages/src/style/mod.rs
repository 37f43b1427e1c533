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

pub(crate) mod auto;
pub(crate) mod google;
mod numpy;
mod outline;
mod sphinx;
pub(crate) mod text;

use std::sync::Arc;

use docpipe_core::model::{CodeUnit, DocModel, DocParam};

use crate::analyze::InitParams;
use docpipe_core::registry::{BuildContext, BuildError, OptionDoc, Registry};
use docpipe_core::style::Style;
use serde::Deserialize;

pub use auto::{AUTO, Conventions};
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
    /// Where the parameters of `__init__` are documented.
    pub init_params: InitParams,
    /// Which entries carry a type.
    pub types: TypesPolicy,
    /// The word that marks text a person must still write (the template
    /// model writes it; `check` reports every docstring that holds it).
    pub placeholder: String,
}

/// Which entries a writer gives a type (`[style] types`). A type a person
/// wrote, or left out, is never changed, except one that contradicts the
/// annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypesPolicy {
    /// As each convention's guide says: Google and Sphinx give a type only
    /// where the signature has none; NumPy always writes it after the colon.
    #[default]
    Auto,
    /// Every entry whose type is known.
    Always,
    /// None.
    Never,
}

impl TypesPolicy {
    /// `draft` for `unit` in `style` (its name) with the types this policy
    /// leaves out dropped.
    pub fn apply(self, style: &str, unit: &CodeUnit, draft: &DocModel) -> DocModel {
        let mut doc = draft.clone();
        let annotated = |name: &str| {
            let bare = name.trim_start_matches('*');
            unit.params
                .iter()
                .chain(unit.constructor.iter().flat_map(|c| c.params.iter()))
                .any(|p| p.name == bare && p.annotation.is_some())
        };
        for p in &mut doc.params {
            if !self.keeps(style, annotated(&p.name)) {
                p.ty = None;
            }
        }
        let returns_annotated = unit.returns.is_some();
        for value in [&mut doc.returns, &mut doc.yields].into_iter().flatten() {
            if !self.keeps(style, returns_annotated) {
                value.ty = None;
            }
        }
        doc
    }

    /// Whether a new entry in `style` (its name) carries its type, the
    /// signature having an annotation for it or not.
    pub fn keeps(self, style: &str, annotated: bool) -> bool {
        match self {
            TypesPolicy::Always => true,
            TypesPolicy::Never => false,
            TypesPolicy::Auto => style == "numpy" || !annotated,
        }
    }
}

/// The default `[style] placeholder`: the word that marks text a person must
/// still write.
pub const DEFAULT_PLACEHOLDER: &str = "TODO";

impl Default for StyleSection {
    fn default() -> Self {
        StyleSection {
            name: AUTO.into(),
            width: 88,
            init_params: InitParams::Either,
            types: TypesPolicy::Auto,
            placeholder: DEFAULT_PLACEHOLDER.into(),
        }
    }
}

/// The keys of `[style]` for `docpipe stages` and the README.
pub fn section_options() -> Vec<OptionDoc> {
    vec![
        OptionDoc {
            name: "name",
            ty: "string",
            default: Some("\"auto\""),
            doc: "Convention of new docstrings: `auto` (the one most of the project's docstrings are written in; Google when none), `google`, `numpy`, `sphinx`, or a style a plugin registers. An existing docstring is always read and completed in its own convention.",
        },
        OptionDoc {
            name: "width",
            ty: "integer",
            default: Some("88"),
            doc: "Wrap rendered docstrings at this many columns, indentation included.",
        },
        OptionDoc {
            name: "init_params",
            ty: "string",
            default: Some("\"either\""),
            doc: "Where the parameters of `__init__` are documented: `either` (the class docstring or `__init__`'s, whichever has a parameters section; `__init__`'s when neither has), `class` or `init`.",
        },
        OptionDoc {
            name: "types",
            ty: "string",
            default: Some("\"auto\""),
            doc: "Which new entries carry a type: `auto` (as each convention's guide says: Google and Sphinx only where the signature has no annotation, NumPy always), `always` or `never`. A person's entries keep theirs.",
        },
        OptionDoc {
            name: "placeholder",
            ty: "string",
            default: Some("\"TODO\""),
            doc: "The word the template model writes where a person must fill in text; `check` reports each docstring that still holds it (DP120), and a real model replaces such entries.",
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

/// The configured style and the `[style]` section, for stages that parse or
/// render docstrings: a [`Conventions`] that reads every docstring in the
/// convention it is written in and writes new ones in `[style] name` (or,
/// with `auto`, in the project's convention).
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
    if section.name != AUTO {
        ctx.registry.style(&section.name).map_err(|e| BuildError {
            section_key: Some(("style".into(), "name".into())),
            help: Some(format!(
                "choose `auto` (the convention most of the project's docstrings use) or one of {}",
                ctx.registry
                    .style_names()
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ..e
        })?;
    }
    let styles = ctx
        .registry
        .style_names()
        .iter()
        .filter_map(|n| ctx.registry.style(n).ok())
        .collect();
    let conventions = Conventions::new(&section.name, styles, ctx.run.clone());
    Ok((Arc::new(conventions), section))
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

/// The meaning of a section title (case-insensitive), `None` when it is not a
/// known section. The titles are Google's (as Napoleon reads them) and
/// NumPy's (numpydoc), with their aliases.
pub(crate) fn section_kind(title: &str) -> Option<SectionKind> {
    let t = title.trim().to_ascii_lowercase();
    Some(match t.as_str() {
        "args" | "arguments" | "parameters" | "params" | "param" | "keyword args"
        | "keyword arguments" | "keyword params" | "keyword parameters" | "kwargs"
        | "other args" | "other arguments" | "other parameters" | "other params" => {
            SectionKind::Params
        }
        "returns" | "return" => SectionKind::Returns,
        "yields" | "yield" => SectionKind::Yields,
        "raises" | "raise" | "exceptions" | "except" => SectionKind::Raises,
        "example" | "examples" => SectionKind::Examples,
        "note" | "notes" => SectionKind::Notes,
        "attention" | "attributes" | "caution" | "danger" | "error" | "hint" | "important"
        | "methods" | "receive" | "receives" | "references" | "see also" | "tip" | "todo"
        | "warning" | "warnings" | "warn" | "warns" | "deprecated" => SectionKind::Other,
        _ => return None,
    })
}

/// Whether `title` is the main parameters section (`Args`, `Parameters`...)
/// rather than one for keyword or other parameters.
pub(crate) fn is_main_params_title(title: &str) -> bool {
    matches!(
        title.trim().to_ascii_lowercase().as_str(),
        "args" | "arguments" | "parameters" | "params" | "param"
    )
}

/// The section a parameter entry keeps when it is written under `title`:
/// `None` for the main parameters section.
pub(crate) fn param_section(title: &str) -> Option<String> {
    (!is_main_params_title(title)).then(|| title.trim().to_string())
}

/// Parameter entries grouped by [`DocParam::section`]: the main section
/// first, then the others in the order they first appear.
pub(crate) fn param_groups(params: &[DocParam]) -> Vec<(Option<&str>, Vec<&DocParam>)> {
    let mut groups: Vec<(Option<&str>, Vec<&DocParam>)> = vec![(None, Vec::new())];
    for p in params {
        let key = p.section.as_deref();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, entries)) => entries.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    groups.retain(|(_, entries)| !entries.is_empty());
    groups
}

/// A parameter name with reStructuredText's escaped stars read as stars
/// (`\*\*kwargs`, written so that Sphinx does not take `**` for emphasis).
pub(crate) fn unescape_stars(name: &str) -> String {
    name.replace("\\*", "*")
}

/// Whether `name` can name a parameter entry: an identifier, starred at
/// most twice (`x`, `*args`, `**kwargs`).
pub(crate) fn is_entry_name(name: &str) -> bool {
    let bare = name.trim_start_matches('*');
    !bare.is_empty()
        && name.len() - bare.len() <= 2
        && bare.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !bare.starts_with(|c: char| c.is_ascii_digit())
}

/// The names of one parameter entry: `x, y` documents both (numpydoc's
/// combined form, also `*args, **kwargs`); anything else is one name.
pub(crate) fn entry_names(head: &str) -> Vec<String> {
    let parts: Vec<&str> = head.split(',').map(str::trim).collect();
    if parts.len() > 1 && parts.iter().all(|p| is_entry_name(p)) {
        parts.into_iter().map(str::to_string).collect()
    } else {
        vec![head.trim().to_string()]
    }
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
        for t in [
            "Keyword Args",
            "Keyword Arguments",
            "Other Parameters",
            "other params",
        ] {
            assert_eq!(section_kind(t), Some(SectionKind::Params), "{t}");
            assert!(!is_main_params_title(t), "{t}");
        }
        assert!(is_main_params_title("Arguments"));
    }

    #[test]
    fn combined_entries_name_each_parameter() {
        assert_eq!(entry_names("x, y"), ["x", "y"]);
        assert_eq!(entry_names("*args, **kwargs"), ["*args", "**kwargs"]);
        assert_eq!(entry_names("x"), ["x"]);
        // Not a list of names: one entry as written.
        assert_eq!(entry_names("x, the first"), ["x, the first"]);
        assert_eq!(entry_names("1, 2"), ["1, 2"]);
    }
}
