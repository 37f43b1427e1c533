use serde::{Deserialize, Serialize};

/// A documented parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct DocParam {
    /// Parameter name as in the signature, without stars (`args` for
    /// `*args`) as a generator proposes it; the writer stars it for a style
    /// that lists variadic parameters with their stars
    /// ([`Style::stars_variadic_params`](crate::style::Style::stars_variadic_params)),
    /// and a parsed docstring keeps what was written. Lookups ignore stars.
    pub name: String,
    /// Type as documented; empty when the docstring gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Description text.
    #[serde(default)]
    pub description: String,
    /// The section the entry was written in when it is not the style's main
    /// parameters section (`Keyword Args`, `Other Parameters`, Sphinx's
    /// `keyword` field), so that it is rendered back there; `None` for the
    /// main section and for generated entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}

/// A documented return or yield value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct DocReturn {
    /// Type as documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Description text.
    #[serde(default)]
    pub description: String,
}

/// A documented exception.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct DocRaise {
    /// Exception name as documented.
    pub exception: String,
    /// When it is raised.
    #[serde(default)]
    pub description: String,
}

/// A section the model has no field for (`See Also`, `Warnings`, ...), kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct DocSection {
    /// Section title as written.
    pub title: String,
    /// Body text, dedented.
    pub body: String,
}

/// A docstring as structure. Styles render it to text and parse text back into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct DocModel {
    /// First line: one sentence.
    #[serde(default)]
    pub summary: String,
    /// Paragraphs after the summary.
    #[serde(default)]
    pub description: String,
    /// Parameters in signature order.
    #[serde(default)]
    pub params: Vec<DocParam>,
    /// The return value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<DocReturn>,
    /// The yielded values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yields: Option<DocReturn>,
    /// Exceptions raised.
    #[serde(default)]
    pub raises: Vec<DocRaise>,
    /// Examples section, verbatim.
    #[serde(default)]
    pub examples: String,
    /// Notes section, verbatim.
    #[serde(default)]
    pub notes: String,
    /// Other sections, in order.
    #[serde(default)]
    pub sections: Vec<DocSection>,
}

impl DocModel {
    /// The documented parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&DocParam> {
        self.params
            .iter()
            .find(|p| p.name.trim_start_matches('*') == name)
    }
}
