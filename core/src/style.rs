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
}
