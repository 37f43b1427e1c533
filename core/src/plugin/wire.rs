//! The form units take when they leave the process: the envelope without its
//! file's text.
//!
//! An [`Envelope`] holds its whole [`SourceFile`], shared by every unit of
//! the file. Serialized as it is, a unit of a 3,000-line module would carry
//! those 3,000 lines to a plugin, and a file's units would carry them once
//! each. A plugin sees the unit (its own source text included) and where the
//! file is; the host keeps the file and gives it back to whatever the plugin
//! returns, so a plugin can neither lose nor alter the text that the writer
//! checks every byte of.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{
    CodeUnit, DocModel, Envelope, Finding, SourceFile, TokenUsage, UnitId, UnitState,
};

/// Where a unit's file is, without its text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRef<'a> {
    /// The file's path as discovered.
    pub path: Cow<'a, Path>,
    /// blake3 of its bytes, hex.
    #[serde(default)]
    pub hash: Cow<'a, str>,
}

/// An [`Envelope`] as it crosses a plugin boundary (JSON): every field, with
/// `file` reduced to a [`FileRef`].
#[derive(Debug, Serialize, Deserialize)]
pub struct WireEnvelope<'a> {
    /// Identity inside the run.
    pub id: UnitId,
    /// The unit's file, by path.
    pub file: FileRef<'a>,
    /// How many units the file has.
    #[serde(default)]
    pub file_units: usize,
    /// The definition.
    pub unit: Cow<'a, CodeUnit>,
    /// Findings so far.
    #[serde(default)]
    pub findings: Cow<'a, [Finding]>,
    /// The existing docstring, parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<Cow<'a, DocModel>>,
    /// The docstring to write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Cow<'a, DocModel>>,
    /// Provenance and final state.
    #[serde(flatten)]
    pub state: Cow<'a, UnitState>,
    /// Tokens spent.
    #[serde(default)]
    pub usage: TokenUsage,
    /// Cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<Cow<'a, str>>,
    /// Model answers tried.
    #[serde(default)]
    pub attempts: u32,
    /// Plugin data.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: Cow<'a, serde_json::Map<String, serde_json::Value>>,
}

impl<'a> WireEnvelope<'a> {
    /// The wire form of `env`, borrowing from it.
    pub fn from_envelope(env: &'a Envelope) -> WireEnvelope<'a> {
        WireEnvelope {
            id: env.id,
            file: FileRef {
                path: Cow::Borrowed(env.file.path.as_path()),
                hash: Cow::Borrowed(&env.file.hash),
            },
            file_units: env.file_units,
            unit: Cow::Borrowed(&env.unit),
            findings: Cow::Borrowed(&env.findings),
            existing: env.existing.as_deref().map(Cow::Borrowed),
            draft: env.draft.as_deref().map(Cow::Borrowed),
            state: Cow::Borrowed(&env.state),
            usage: env.usage,
            cache_key: env.cache_key.as_deref().map(Cow::Borrowed),
            attempts: env.attempts,
            extra: Cow::Borrowed(&env.extra),
        }
    }

    /// The envelope again, in `file` (the host's own copy: what the plugin
    /// says of the file is not taken).
    pub fn into_envelope(self, file: Arc<SourceFile>) -> Envelope {
        Envelope {
            id: self.id,
            file,
            file_units: self.file_units,
            unit: Arc::new(self.unit.into_owned()),
            findings: self.findings.into_owned(),
            existing: self.existing.map(|d| Box::new(d.into_owned())),
            draft: self.draft.map(|d| Box::new(d.into_owned())),
            state: self.state.into_owned(),
            usage: self.usage,
            cache_key: self.cache_key.map(Cow::into_owned),
            attempts: self.attempts,
            extra: self.extra.into_owned(),
        }
    }

    /// The envelope, with a file that has only a path and a hash: what a
    /// plugin builds to hand a unit to its own code.
    pub fn into_detached(self) -> Envelope {
        let file = SourceFile {
            path: PathBuf::from(self.file.path.as_ref()),
            text: String::new(),
            hash: self.file.hash.to_string(),
            newline: Default::default(),
            bom: false,
            encoding: "utf-8".into(),
            final_newline: true,
        };
        self.into_envelope(Arc::new(file))
    }
}

/// A unit's wire form as a JSON value.
pub fn envelope_to_value(env: &Envelope) -> serde_json::Value {
    serde_json::to_value(WireEnvelope::from_envelope(env)).unwrap_or(serde_json::Value::Null)
}
