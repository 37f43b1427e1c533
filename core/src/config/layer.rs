//! A user's configuration layered over the built-in default, and the
//! shorthand keys that make a five-line configuration complete.
//!
//! Layering: shared sections (`[model]`, `[style]`, `[cache.redis]`, ...)
//! merge key by key, a `[stages.NAME]` or `[pipelines.NAME]` replaces the
//! default's table of that name whole (a stage is one thing: half of the
//! default's `inputs` and half of the user's would be neither's graph), new
//! ones are added; `extends = false` at the top starts from nothing. Every
//! key keeps its place: the user's keys point into the user's file, the
//! default's into the built-in text ([`Origin::BuiltIn`]).
//!
//! Shorthands are top-level keys that stand for a section key or an option
//! of every stage of one type, as ruff's top-level `exclude` does.

use std::sync::Arc;

use toml::{Table, Value};

use super::diagnostic::{Diagnostic, Origin};
use super::document::{Document, KeyPath, Place};
use super::shown_value;

/// The top-level key that says whether the file extends the built-in default.
pub const EXTENDS_KEY: &str = "extends";

/// What a shorthand key stands for.
#[derive(Debug, Clone, Copy)]
pub enum ShorthandTarget {
    /// `KEY = "x"` is `[section] key = "x"`.
    Section {
        /// The shared section.
        section: &'static str,
        /// Its key.
        key: &'static str,
    },
    /// `model = "PROVIDER/NAME"` is `[model] provider` and `name`.
    Model,
    /// `KEY = x` sets the option `option` of every stage of type `stage_type`
    /// that does not set it itself.
    StageOption {
        /// The stage type.
        stage_type: &'static str,
        /// Its option.
        option: &'static str,
    },
}

/// One shorthand key.
#[derive(Debug, Clone, Copy)]
pub struct Shorthand {
    /// The top-level key.
    pub key: &'static str,
    /// What it sets.
    pub target: ShorthandTarget,
    /// One line for the README and `docpipe stages`.
    pub doc: &'static str,
}

/// The shorthand keys: what most teams set, and nothing more.
pub const SHORTHANDS: [Shorthand; 8] = [
    Shorthand {
        key: "style",
        target: ShorthandTarget::Section {
            section: "style",
            key: "name",
        },
        doc: "the convention of new docstrings: `[style] name`",
    },
    Shorthand {
        key: "model",
        target: ShorthandTarget::Model,
        doc: "`\"PROVIDER\"` or `\"PROVIDER/NAME\"`: `[model] provider` and `name`",
    },
    Shorthand {
        key: "fail_under",
        target: ShorthandTarget::StageOption {
            stage_type: "check-report",
            option: "fail_under",
        },
        doc: "the coverage under which `check` fails (`check-report` stages)",
    },
    Shorthand {
        key: "exclude",
        target: ShorthandTarget::StageOption {
            stage_type: "python-source",
            option: "exclude",
        },
        doc: "globs of files and directories left out, replacing the defaults (`python-source` stages)",
    },
    Shorthand {
        key: "extend_exclude",
        target: ShorthandTarget::StageOption {
            stage_type: "python-source",
            option: "extend_exclude",
        },
        doc: "globs left out besides the defaults (`python-source` stages)",
    },
    Shorthand {
        key: "select",
        target: ShorthandTarget::StageOption {
            stage_type: "docstring-analyze",
            option: "select",
        },
        doc: "the finding codes or prefixes checked (`docstring-analyze` stages)",
    },
    Shorthand {
        key: "extend_select",
        target: ShorthandTarget::StageOption {
            stage_type: "docstring-analyze",
            option: "extend_select",
        },
        doc: "codes checked besides the default ones (`docstring-analyze` stages)",
    },
    Shorthand {
        key: "ignore",
        target: ShorthandTarget::StageOption {
            stage_type: "docstring-analyze",
            option: "ignore",
        },
        doc: "codes or prefixes not reported (`docstring-analyze` stages)",
    },
];

/// The shorthand named `key`.
pub fn shorthand(key: &str) -> Option<&'static Shorthand> {
    SHORTHANDS.iter().find(|s| s.key == key)
}

/// A stage-option shorthand read from the user's file, applied once the
/// stages are known.
#[derive(Debug, Clone)]
pub(super) struct PendingOption {
    shorthand: &'static Shorthand,
    value: Value,
    place: Place,
}

impl Document {
    /// Removes `extends` from the root and says whether the file extends the
    /// built-in default (the default: yes). A value that is not `true` or
    /// `false` is a problem at its place.
    pub(super) fn take_extends(&mut self) -> bool {
        let Some(value) = self.root.remove(EXTENDS_KEY) else {
            return true;
        };
        match value {
            Value::Boolean(b) => b,
            other => {
                let at = self.value_origin(&[EXTENDS_KEY]);
                self.add_problem(
                    Diagnostic::new(
                        format!(
                            "`extends` must be true or false; found {}",
                            shown_value(&other)
                        ),
                        at,
                    )
                    .with_label("expected true or false")
                    .with_help(
                        "`extends = false` starts from nothing instead of the built-in default; \
                         leave it out to extend the default",
                    ),
                );
                true
            }
        }
    }

    /// Turns the shorthand keys of the root into what they stand for: the
    /// section ones into section keys now (so that they merge over the
    /// default's section), the stage-option ones into [`PendingOption`]s for
    /// [`Document::apply_stage_shorthands`]. A value of the wrong kind is a
    /// problem at its place. A table under a shorthand's name (`[style]`,
    /// `[model]`) is the section itself and stays.
    pub(super) fn take_shorthands(&mut self) -> Vec<PendingOption> {
        let mut pending = Vec::new();
        let keys: Vec<String> = self.root.keys().cloned().collect();
        for key in keys {
            let Some(sh) = shorthand(&key) else { continue };
            if matches!(self.root.get(&key), Some(Value::Table(_))) {
                continue;
            }
            let Some(value) = self.root.remove(&key) else {
                continue;
            };
            let path: KeyPath = vec![key.clone()];
            let Some(place) = self.places.remove(&path) else {
                continue;
            };
            match sh.target {
                ShorthandTarget::Section {
                    section,
                    key: field,
                } => match value {
                    Value::String(s) => {
                        self.set_shorthand(&[section, field], Value::String(s), &place)
                    }
                    other => self.wrong_shorthand(sh, &other, &place, "a string"),
                },
                ShorthandTarget::Model => match value {
                    Value::String(s) => {
                        let (provider, name) = match s.split_once('/') {
                            Some((p, n)) => (p.to_string(), Some(n.to_string())),
                            None => (s.clone(), None),
                        };
                        if provider.is_empty() || name.as_deref() == Some("") {
                            self.add_problem(
                                Diagnostic::new(
                                    format!("`model = {s:?}` names no provider or no model"),
                                    Some(place.value.clone()),
                                )
                                .with_label("expected \"PROVIDER\" or \"PROVIDER/NAME\"")
                                .with_help(
                                    "write `model = \"openai/gpt-4o-mini\"`, or a [model] table",
                                ),
                            );
                            continue;
                        }
                        self.set_shorthand(&["model", "provider"], Value::String(provider), &place);
                        if let Some(name) = name {
                            self.set_shorthand(&["model", "name"], Value::String(name), &place);
                        }
                    }
                    other => self.wrong_shorthand(sh, &other, &place, "a string"),
                },
                ShorthandTarget::StageOption { .. } => pending.push(PendingOption {
                    shorthand: sh,
                    value,
                    place,
                }),
            }
        }
        pending
    }

    fn set_shorthand(&mut self, path: &[&str], value: Value, place: &Place) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut table = &mut self.root;
        for part in parents {
            let entry = table
                .entry(part.to_string())
                .or_insert_with(|| Value::Table(Table::new()));
            let Value::Table(t) = entry else { return };
            table = t;
        }
        table.insert(last.to_string(), value);
        self.places
            .insert(path.iter().map(|s| s.to_string()).collect(), place.clone());
    }

    fn wrong_shorthand(&mut self, sh: &Shorthand, value: &Value, place: &Place, want: &str) {
        self.add_problem(
            Diagnostic::new(
                format!("`{}` must be {want}; found {}", sh.key, shown_value(value)),
                Some(place.value.clone()),
            )
            .with_label(format!("expected {want}"))
            .with_help(format!("`{}` is {}", sh.key, sh.doc)),
        );
    }

    /// Sets each pending stage-option shorthand on every stage of its type
    /// that does not set the option in the user's own file; a shorthand with
    /// no stage to set is a problem at its key.
    pub(super) fn apply_stage_shorthands(&mut self, pending: Vec<PendingOption>) {
        for p in pending {
            let ShorthandTarget::StageOption { stage_type, option } = p.shorthand.target else {
                continue;
            };
            let names: Vec<String> = match self.root.get("stages") {
                Some(Value::Table(stages)) => stages
                    .iter()
                    .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some(stage_type))
                    .map(|(name, _)| name.clone())
                    .collect(),
                _ => Vec::new(),
            };
            if names.is_empty() {
                self.add_problem(
                    Diagnostic::new(
                        format!(
                            "`{}` sets the `{option}` option of `{stage_type}` stages, and the configuration has none",
                            p.shorthand.key
                        ),
                        Some(p.place.key.clone()),
                    )
                    .with_label("no stage to set")
                    .with_help(format!(
                        "remove `{}`, or add a stage of type `{stage_type}`",
                        p.shorthand.key
                    )),
                );
                continue;
            }
            for name in names {
                let path: KeyPath = vec!["stages".into(), name.clone(), option.to_string()];
                let user_set = self
                    .places
                    .get(&path)
                    .is_some_and(|place| matches!(place.key, Origin::File(_)));
                if user_set {
                    continue;
                }
                if let Some(Value::Table(stage)) = self
                    .root
                    .get_mut("stages")
                    .and_then(|s| s.as_table_mut())
                    .and_then(|t| t.get_mut(&name))
                {
                    stage.insert(option.to_string(), p.value.clone());
                    self.places.insert(path.clone(), p.place.clone());
                    self.flagged.remove(&path);
                    self.oversized.remove(&path);
                }
            }
        }
    }

    /// This document (the user's file) layered over `base` (the built-in
    /// default): the result reads the user's source, with `base`'s text
    /// attached for the places of the keys that come from it.
    pub(super) fn layer_over(self, base: Document) -> Document {
        let Document {
            source: user_source,
            root: user_root,
            places: user_places,
            headers: user_headers,
            flagged: user_flagged,
            oversized: user_oversized,
            override_problems: user_problems,
        } = self;
        let mut out = base;
        let base_source = Arc::new(out.source.clone());
        for place in out.places.values_mut() {
            place.key = built_in(&place.key);
            place.value = built_in(&place.value);
        }
        for origin in out.headers.values_mut() {
            *origin = built_in(origin);
        }
        for d in out.flagged.values_mut() {
            d.at = d.at.as_ref().map(built_in);
        }
        let mut replaced: Vec<KeyPath> = Vec::new();
        for (key, value) in user_root {
            let mut path = vec![key.clone()];
            match (out.root.get_mut(&key), value) {
                (Some(Value::Table(existing)), Value::Table(entries))
                    if key == "stages" || key == "pipelines" =>
                {
                    for (name, entry) in entries {
                        replaced.push(vec![key.clone(), name.clone()]);
                        existing.insert(name, entry);
                    }
                }
                (Some(Value::Table(existing)), Value::Table(entries)) => {
                    merge_tables(existing, entries, &mut path, &mut replaced);
                }
                (_, value) => {
                    replaced.push(path);
                    out.root.insert(key, value);
                }
            }
        }
        let under = |p: &KeyPath| replaced.iter().any(|r| p.starts_with(r));
        out.places.retain(|p, _| !under(p));
        out.headers.retain(|p, _| !under(p));
        out.flagged.retain(|p, _| !under(p));
        out.oversized.retain(|p, _| !under(p));
        out.places.extend(user_places);
        out.headers.extend(user_headers);
        out.flagged.extend(user_flagged);
        out.oversized.extend(user_oversized);
        out.override_problems.extend(user_problems);
        out.source = user_source;
        out.source.layered_over = Some(base_source);
        out
    }
}

/// Merges `user` into `base` key by key: tables merge, anything else
/// replaces; each replaced path is recorded.
fn merge_tables(base: &mut Table, user: Table, path: &mut KeyPath, replaced: &mut Vec<KeyPath>) {
    for (key, value) in user {
        path.push(key.clone());
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(u)) => merge_tables(b, u, path, replaced),
            (_, value) => {
                replaced.push(path.clone());
                base.insert(key, value);
            }
        }
        path.pop();
    }
}

/// `origin`, if it is a place of a file, as a place of the built-in default.
fn built_in(origin: &Origin) -> Origin {
    match origin {
        Origin::File(span) => Origin::BuiltIn(span.clone()),
        other => other.clone(),
    }
}
