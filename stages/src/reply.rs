//! The JSON a model answers with: one docstring per requested unit. The
//! template model produces it too, so every backend goes through the same
//! parsing and validation.

use docpipe_core::model::DocModel;
use serde::{Deserialize, Serialize};

/// A model's answer for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reply {
    /// One entry per unit of the request.
    pub docstrings: Vec<ReplyDoc>,
}

/// The docstring for one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReplyDoc {
    /// Qualified name of the unit it documents (as in the prompt).
    pub qualname: String,
    /// The docstring.
    #[serde(flatten)]
    pub doc: DocModel,
}
