//! The prompt: a system message and a user message built from templates.
//!
//! Templates are plain text with `{placeholders}`; a `prompt_file` (TOML with
//! any of `system`, `user`, `unit`) replaces the built-in ones. The version
//! of the templates and of the reply schema is a short hash, recorded on each
//! envelope as `extra.prompt_version` for cache keys: a new prompt never
//! serves an answer written for the old one.
//!
//! Placeholders: `system`: `{style}`. `user`: `{style}`, `{count}`, `{path}`,
//! `{units}` (every unit rendered with `unit`), `{feedback}`. `unit`:
//! `{index}`, `{qualname}`, `{kind}`, `{signature}`, `{params}`, `{returns}`,
//! `{yields}`, `{raises}`, `{context}`, `{existing}`, `{callees}`, `{source}`.
//!
//! `{callees}` lists the functions of the repository the unit calls, as
//! `name: summary` lines (see [`super::order`]): at most
//! [`CALLEES_CHARS`] characters, so the section stays a bounded part of the
//! prompt whatever the unit calls.

use std::path::Path;

use docpipe_core::chat::ChatMessage;
use docpipe_core::model::{CodeUnit, UnitKind};
use serde::Deserialize;

use crate::python::signature::{annotated_return, needs_returns, params_to_document};
use crate::reply::SCHEMA_VERSION;

/// The built-in system template.
pub const SYSTEM: &str = "You write Python docstrings in the {style} style. You are given Python definitions; \
for each one, answer with its docstring as structured JSON, one entry per definition, with the same `qualname`.\n\
Rules:\n\
- `summary` is one sentence in the imperative mood, ending with a period.\n\
- Document exactly the parameters listed for each definition, in that order, by name without stars; no others.\n\
- Fill `returns` when the definition returns a value, `yields` when it is a generator, otherwise write null.\n\
- List every exception named under `Raises`; add others only when the code raises them.\n\
- When a definition already has a docstring, keep what its author wrote and complete or correct only what is missing or wrong. Text marked `{placeholder}` is a placeholder, not the author's: replace it.\n\
- Plain text only in every field: no section headers (`Args:`, `Returns`, `:param x:`) inside a summary or a description.\n\
- Describe behaviour from the code; do not invent facts. Plain text only: no quotes around the whole text, no markup of the docstring itself.\n\
- `ty` is the type as written in the annotation, or null.";

/// The built-in user template.
pub const USER: &str = "Document {count} definition(s) from `{path}`.\n\n{units}{feedback}";

/// The built-in template for one unit.
pub const UNIT: &str = "### {index}. `{qualname}` ({kind})\n\
Signature: `{signature}`\n\
Parameters to document: {params}\n\
Returns: {returns}\n\
Yields: {yields}\n\
Raises: {raises}\n\
{context}{existing}{callees}Source:\n```python\n{source}\n```\n\n";

/// The most characters of callee lines one unit's prompt shows.
pub const CALLEES_CHARS: usize = 1600;

/// One unit as the prompt shows it.
#[derive(Debug, Clone, Copy)]
pub struct PromptUnit<'a> {
    /// The definition.
    pub unit: &'a CodeUnit,
    /// Its source, possibly shortened to fit the context window.
    pub source: &'a str,
}

/// The three templates and their version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTemplates {
    system: String,
    user: String,
    unit: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptFile {
    system: Option<String>,
    user: Option<String>,
    unit: Option<String>,
}

impl Default for PromptTemplates {
    fn default() -> Self {
        PromptTemplates::new(SYSTEM.into(), USER.into(), UNIT.into())
    }
}

impl PromptTemplates {
    fn new(system: String, user: String, unit: String) -> PromptTemplates {
        let mut hasher = blake3::Hasher::new();
        for part in [
            system.as_str(),
            user.as_str(),
            unit.as_str(),
            SCHEMA_VERSION,
        ] {
            hasher.update(part.as_bytes());
            hasher.update(&[0]);
        }
        let version = format!("p-{}", &hasher.finalize().to_hex()[..12]);
        PromptTemplates {
            system,
            user,
            unit,
            version,
        }
    }

    /// The templates with `{placeholder}` in the system template replaced by
    /// `marker` (`[style] placeholder`); the version follows the text.
    pub fn with_placeholder(self, marker: &str) -> PromptTemplates {
        PromptTemplates::new(
            self.system.replace("{placeholder}", marker),
            self.user,
            self.unit,
        )
    }

    /// Templates from a TOML file with any of `system`, `user`, `unit`; the
    /// ones it leaves out are the built-in ones.
    pub fn from_file(path: &Path) -> Result<PromptTemplates, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the prompt file {}: {e}", path.display()))?;
        let file: PromptFile = toml::from_str(&text)
            .map_err(|e| format!("the prompt file {} is not valid: {e}", path.display()))?;
        let user = file.user.unwrap_or_else(|| USER.into());
        if !user.contains("{units}") {
            return Err(format!(
                "the prompt file {}: `user` must contain `{{units}}`, where the definitions go",
                path.display()
            ));
        }
        Ok(PromptTemplates::new(
            file.system.unwrap_or_else(|| SYSTEM.into()),
            user,
            file.unit.unwrap_or_else(|| UNIT.into()),
        ))
    }

    /// `p-` and 12 hex digits of the templates' and schema's hash.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The messages asking for the docstrings of `units` (all of one file), in
    /// `style`; `feedback` says what was wrong with the previous answer.
    pub fn render(
        &self,
        units: &[PromptUnit<'_>],
        style: &str,
        feedback: Option<&str>,
    ) -> Vec<ChatMessage> {
        self.render_with_callees(units, &[], style, feedback)
    }

    /// [`render`](Self::render), with the callees of each unit (`callees[i]`
    /// for `units[i]`, `(name, summary)` pairs; missing entries: none).
    pub fn render_with_callees(
        &self,
        units: &[PromptUnit<'_>],
        callees: &[Vec<(String, String)>],
        style: &str,
        feedback: Option<&str>,
    ) -> Vec<ChatMessage> {
        let mut body = String::new();
        for (i, u) in units.iter().enumerate() {
            let mut values = unit_values(i + 1, u);
            values.push((
                "callees",
                callees_section(callees.get(i).map_or(&[][..], Vec::as_slice)),
            ));
            body.push_str(&fill(&self.unit, &values));
        }
        let path = units
            .first()
            .map(|u| u.unit.path.display().to_string())
            .unwrap_or_default();
        let feedback = match feedback {
            Some(f) => format!(
                "Your previous answer was rejected:\n{f}\nAnswer again, for every definition above, fixing these problems.\n"
            ),
            None => String::new(),
        };
        let count = units.len().to_string();
        let user = fill(
            &self.user,
            &[
                ("style", style),
                ("count", &count),
                ("path", &path),
                ("units", &body),
                ("feedback", &feedback),
            ],
        );
        vec![
            ChatMessage::new("system", fill(&self.system, &[("style", style)])),
            ChatMessage::new("user", user),
        ]
    }
}

fn unit_values(index: usize, u: &PromptUnit<'_>) -> Vec<(&'static str, String)> {
    let unit = u.unit;
    let is_def = matches!(unit.kind, UnitKind::Function | UnitKind::Method);
    let params: Vec<String> = params_to_document(unit)
        .iter()
        .map(|p| match &p.annotation {
            Some(a) => format!("`{}` ({a})", p.name),
            None => format!("`{}`", p.name),
        })
        .collect();
    let params = if params.is_empty() {
        "none".to_string()
    } else {
        params.join(", ")
    };
    let returns = if !is_def {
        "null".to_string()
    } else if wants_returns(unit) {
        format!(
            "yes{}",
            unit.returns
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )
    } else {
        "no (write null)".to_string()
    };
    let yields = if is_def && unit.yields {
        "yes"
    } else {
        "no (write null)"
    }
    .to_string();
    let raises = if unit.raises.is_empty() {
        "none found".to_string()
    } else {
        unit.raises.join(", ")
    };
    let context = if unit.context.trim().is_empty() {
        String::new()
    } else {
        format!("Context:\n{}\n", unit.context.trim_end())
    };
    let existing = match &unit.docstring {
        Some(d) if !d.value.trim().is_empty() => {
            format!(
                "Existing docstring (keep what it says, complete it):\n<<<\n{}\n>>>\n",
                d.value.trim()
            )
        }
        _ => String::new(),
    };
    let qualname = unit.display_name();
    vec![
        ("index", index.to_string()),
        ("qualname", qualname),
        ("kind", unit.kind.as_str().to_string()),
        ("signature", unit.signature.trim().to_string()),
        ("params", params),
        ("returns", returns),
        ("yields", yields),
        ("raises", raises),
        ("context", context),
        ("existing", existing),
        ("source", u.source.trim_end().to_string()),
    ]
}

/// The `{callees}` section: a heading and one `name: summary` line per
/// callee, cut at [`CALLEES_CHARS`]; empty without callees.
fn callees_section(callees: &[(String, String)]) -> String {
    if callees.is_empty() {
        return String::new();
    }
    let mut out = String::from("Functions it calls (from this repository):\n");
    let mut used = 0;
    for (name, summary) in callees {
        let line = format!("- `{name}`: {}\n", summary.trim());
        used += line.chars().count();
        if used > CALLEES_CHARS {
            break;
        }
        out.push_str(&line);
    }
    out
}

/// Whether the docstring of `unit` gets a `Returns` section: one it needs
/// ([`needs_returns`]), or, outside a generator, one its annotation promises
/// (an abstract method's `-> int`).
pub fn wants_returns(unit: &CodeUnit) -> bool {
    needs_returns(unit) || (!unit.yields && annotated_return(unit) == Some(true))
}

/// `template` with each `{key}` of `values` replaced, in one pass: text that
/// comes from a value (source code full of braces) is never scanned again.
pub fn fill<S: AsRef<str>>(template: &str, values: &[(&str, S)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let key_end = after.find('}');
        let hit = key_end.and_then(|end| {
            let key = &after[..end];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (end, v.as_ref()))
        });
        match hit {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_keys_once() {
        let values = [("a", "{b}"), ("b", "B")];
        assert_eq!(fill("x {a} {b} {c} {", &values), "x {b} B {c} {");
    }

    #[test]
    fn the_version_follows_the_templates() {
        let builtin = PromptTemplates::default();
        assert_eq!(builtin.version(), PromptTemplates::default().version());
        let other = PromptTemplates::new(SYSTEM.into(), USER.into(), format!("{UNIT}more"));
        assert_ne!(builtin.version(), other.version());
        assert!(builtin.version().starts_with("p-"));
    }
}
