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
