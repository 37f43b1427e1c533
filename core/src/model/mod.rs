//! The data that flows through a pipeline: source files, code units, docstring
//! models and the envelope that carries a unit and its state from stage to stage.
//!
//! Every type here is serde-serializable: cache entries, the run report and
//! plugins (native or subprocess) exchange them as JSON.

mod doc;
mod envelope;
mod excerpt;
mod source;
mod unit;

pub use doc::{DocModel, DocParam, DocRaise, DocReturn, DocSection};
pub use envelope::{Envelope, Finding, Item, ItemKind, Severity, TokenUsage, UnitId, UnitState};
pub use excerpt::{Excerpt, SharedText};
pub use source::{Newline, SourceFile};
pub use unit::{
    CodeUnit, Constructor, Docstring, Insertion, Param, ParamKind, ParamsHolder, QuoteStyle,
    RaiseMessage, UnitKind,
};
