//! The `Style` swap point: a docstring convention (Google, NumPy, Sphinx, plugin).

use crate::model::DocModel;

/// How to lay out rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Wrap lines at this many columns, indentation included.
    pub width: usize,
    /// Indentation of the docstring's lines in the file (counted for the width).
    pub indent: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            width: 88,
            indent: String::new(),
        }
    }
}

/// A docstring convention: renders a [`DocModel`] to docstring text (without
/// quotes or indentation of the first line) and parses text back.
pub trait Style: Send + Sync {
    /// Name as in `[style] name`.
    fn name(&self) -> &str;

    /// The docstring body for `doc`: lines joined by `\n`, continuation lines
    /// not yet indented (the writer indents them).
    fn render(&self, doc: &DocModel, options: &RenderOptions) -> String;

    /// Structure of an existing docstring (its cleaned value). Never fails:
    /// text it does not understand lands in `description` or `sections`.
    fn parse(&self, text: &str) -> DocModel;

    /// An existing docstring split the way a person wrote it, so that a
    /// writer can complete it without rewording or rewrapping their text.
    ///
    /// `text` is the docstring's value, as for [`parse`](Style::parse). The
    /// default returns `None`: the style cannot tell where its free-text head
    /// ends, and a writer falls back to rendering the whole merged model from
    /// `parse`. A style that overrides this keeps `parse` unchanged (its round
    /// trip is not affected).
    fn parse_written(&self, text: &str) -> Option<WrittenDoc> {
        let _ = text;
        None
    }

    /// Whether the style lists `*args` and `**kwargs` with their stars
    /// (`*args: ...` in Google style, `*args : ...` in NumPy style). When it
    /// does, the writer stars the generated entries of such parameters; an
    /// entry a person wrote keeps the name they gave it. The default is
    /// `false`: entries are written with the bare name (`:param args:`).
    fn stars_variadic_params(&self) -> bool {
        false
    }

    /// Whether `text` (a docstring's value) is written in this convention:
    /// it has a section or field that only this convention writes so (a
    /// Google `Args:` header, a NumPy title underlined with dashes, a Sphinx
    /// `:param x:` field). A docstring of prose alone is no convention's.
    /// `[style] name = "auto"` reads each docstring with the style that
    /// recognises it. The default recognises nothing.
    fn recognizes(&self, text: &str) -> bool {
        let _ = text;
        false
    }

    /// The style to read, complete and render the docstring `text` with
    /// (`None`: a docstring still to be written). A fixed style is its own;
    /// a style that detects conventions (`auto`) answers with the style the
    /// docstring is written in, or with the project's for a new docstring.
    fn for_docstring(&self, text: Option<&str>) -> Option<&dyn Style> {
        let _ = text;
        None
    }

    /// Where the sections and entries of `text` (a docstring's value) are,
    /// by line, so that a writer can complete it by adding and removing
    /// lines without rewriting the rest. `None` (the default): the style
    /// cannot tell, and a writer renders the whole docstring instead.
    fn outline(&self, text: &str) -> Option<Outline> {
        let _ = text;
        None
    }
}

/// What a section of a docstring holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionRole {
    /// Parameters (`Args`, `Keyword Args`, `Parameters`, Sphinx `:param:`).
    Params,
    /// The return value.
    Returns,
    /// Yielded values.
    Yields,
    /// Exceptions.
    Raises,
    /// Anything else (`Examples`, `Notes`, `See Also`, directives).
    Other,
}

/// The layout of a docstring: its sections by line. Lines are those of the
/// docstring's value split at `\n`, counted from 0 (the line the opening
/// quotes are on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outline {
    /// The sections in order. Sphinx fields of one kind that follow each
    /// other form a section without header lines.
    pub sections: Vec<OutlineSection>,
    /// The first line after the summary and description (where sections
    /// start), or the number of lines when there is no section.
    pub body_start: usize,
    /// The line after the last line with text (the docstring's end, before
    /// a closing line that holds only indentation).
    pub end: usize,
}

/// One section of an [`Outline`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineSection {
    /// What it holds.
    pub role: SectionRole,
    /// The title as written (`Keyword Args`, `Other Parameters`), or the
    /// Sphinx field marker (`param`).
    pub title: String,
    /// The header lines (the title, and a NumPy underline); empty for Sphinx fields.
    pub header: std::ops::Range<usize>,
    /// All its lines, header included, up to its last line with text.
    pub lines: std::ops::Range<usize>,
    /// Its entries (parameters, exceptions; the one entry of a Returns
    /// section), in order.
    pub entries: Vec<OutlineEntry>,
}

/// One entry of an [`OutlineSection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineEntry {
    /// The names it documents, as written (`x`, `*args`, `x, y`), stars kept.
    pub names: Vec<String>,
    /// Its lines (for Sphinx, a `:type x:` line elsewhere adds a second range).
    pub lines: Vec<std::ops::Range<usize>>,
    /// Indentation of its first line, in columns.
    pub indent: usize,
}

/// A docstring as a person wrote it: see [`Style::parse_written`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WrittenDoc {
    /// The free-text head exactly as written: the lines of the cleaned
    /// docstring (as `inspect.cleandoc` gives them) before the first section
    /// the style recognises, trailing blank lines dropped, joined by `\n`.
    /// Empty when the docstring starts with a section.
    pub head: String,
    /// The structure, like [`Style::parse`] gives it, except that free text
    /// (the description and the descriptions of parameters, return and yielded
    /// values and exceptions) keeps the person's line breaks: consecutive plain
    /// lines are joined with `\n`, not with a space. Rendering it keeps them.
    pub doc: DocModel,
    /// The part of `doc.description` that is not in `head`: free text the
    /// person wrote after a section (with line breaks kept), empty when none.
    pub rest: String,
}
