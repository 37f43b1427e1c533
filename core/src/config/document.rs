//! The configuration as data (`toml::Table`) plus where each key and value came from.

use std::collections::HashMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

use super::diagnostic::{ConfigError, ConfigSource, Diagnostic, Origin};
use super::interpolate::{EnvVars, interpolate};
use super::overrides::Override;

/// Key path inside the document.
pub type KeyPath = Vec<String>;

#[derive(Debug, Clone)]
struct Place {
    key: Origin,
    value: Origin,
}

/// A parsed, interpolated, overridden configuration document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The text diagnostics point into.
    pub source: ConfigSource,
    /// The values.
    pub root: Table,
    places: HashMap<KeyPath, Place>,
    /// Spans of `[table]` headers, by table path.
    headers: HashMap<KeyPath, Range<usize>>,
}

impl Document {
    /// Parses `source`, replacing `${VAR}` references in strings.
    pub fn parse(source: ConfigSource, env: &EnvVars) -> Result<Document, ConfigError> {
        let text = source.text.clone();
        let parsed = match DeTable::parse(&text) {
            Ok(t) => t,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim().to_string();
                return Err(ConfigError::one(
                    &source,
                    Diagnostic::new(format!("TOML syntax: {message}"), Some(Origin::File(span)))
                        .with_label(message)
                        .with_help("fix the TOML syntax; see https://toml.io for the format"),
                ));
            }
        };
        let mut doc = Document {
            source,
            root: Table::new(),
            places: HashMap::new(),
            headers: HashMap::new(),
        };
        let mut errors = Vec::new();
        let span = parsed.span();
        let root = doc.convert_table(parsed.get_ref(), span, &mut Vec::new(), env, &mut errors);
        doc.root = root;
        if errors.is_empty() {
            Ok(doc)
        } else {
            Err(ConfigError {
                source: doc.source.clone(),
                diagnostics: errors,
            })
        }
    }

    fn convert_table(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        path: &mut KeyPath,
        env: &EnvVars,
        errors: &mut Vec<Diagnostic>,
    ) -> Table {
        self.headers
            .insert(path.clone(), header_span(&self.source.text, span));
        let mut out = Table::new();
        for (key, value) in table.iter() {
            path.push(key.get_ref().to_string());
            self.places.insert(
                path.clone(),
                Place {
                    key: Origin::File(key.span()),
                    value: Origin::File(value.span()),
                },
            );
            let v = self.convert_value(value.get_ref(), value.span(), path, env, errors);
            path.pop();
            out.insert(key.get_ref().to_string(), v);
        }
        out
    }

    fn convert_value(
        &mut self,
        value: &DeValue<'_>,
        span: Range<usize>,
        path: &mut KeyPath,
        env: &EnvVars,
        errors: &mut Vec<Diagnostic>,
    ) -> Value {
        match value {
            DeValue::String(s) => match interpolate(s, env) {
                Ok(v) => Value::String(v),
                Err(e) => {
                    errors.push(
                        Diagnostic::new(e.message.clone(), Some(Origin::File(span)))
                            .with_label(e.message)
                            .with_help(e.help),
                    );
                    Value::String(s.to_string())
                }
            },
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .map(Value::Integer)
                .unwrap_or_else(|_| Value::String(i.as_str().to_string())),
            DeValue::Float(f) => f
                .as_str()
                .replace('_', "")
                .parse::<f64>()
                .map(Value::Float)
                .unwrap_or(Value::Float(f64::NAN)),
            DeValue::Boolean(b) => Value::Boolean(*b),
            DeValue::Datetime(d) => Value::Datetime(*d),
            DeValue::Array(a) => {
                let mut items = Vec::new();
                for (i, item) in a.iter().enumerate() {
                    path.push(i.to_string());
                    self.places.insert(
                        path.clone(),
                        Place {
                            key: Origin::File(item.span()),
                            value: Origin::File(item.span()),
                        },
                    );
                    items.push(self.convert_value(item.get_ref(), item.span(), path, env, errors));
                    path.pop();
                }
                Value::Array(items)
            }
            DeValue::Table(t) => Value::Table(self.convert_table(t, span, path, env, errors)),
        }
    }

    /// Applies `--set` overrides in order, creating tables as needed.
    pub fn apply_overrides(&mut self, overrides: &[Override]) -> Result<(), ConfigError> {
        for o in overrides {
            let mut table = &mut self.root;
            let (last, parents) = o.path.split_last().expect("override paths have two parts");
            for (depth, part) in parents.iter().enumerate() {
                let entry = table
                    .entry(part.clone())
                    .or_insert_with(|| Value::Table(Table::new()));
                match entry {
                    Value::Table(t) => table = t,
                    other => {
                        let at = o.path[..=depth].join(".");
                        return Err(ConfigError::one(
                            &self.source,
                            Diagnostic::new(
                                format!(
                                    "`--set {}`: `{at}` is a {}, not a table",
                                    o.raw,
                                    other.type_str()
                                ),
                                Some(Origin::Set(o.raw.clone())),
                            )
                            .with_help("set a key inside a table, such as `model.provider`"),
                        ));
                    }
                }
            }
            table.insert(last.clone(), o.value.clone());
            self.places.insert(
                o.path.clone(),
                Place {
                    key: Origin::Set(o.raw.clone()),
                    value: Origin::Set(o.raw.clone()),
                },
            );
        }
        Ok(())
    }

    /// Where the key at `path` was written.
    pub fn key_origin(&self, path: &[&str]) -> Option<Origin> {
        let p: KeyPath = path.iter().map(|s| s.to_string()).collect();
        self.places.get(&p).map(|p| p.key.clone())
    }

    /// Where the value at `path` was written.
    pub fn value_origin(&self, path: &[&str]) -> Option<Origin> {
        let p: KeyPath = path.iter().map(|s| s.to_string()).collect();
        self.places.get(&p).map(|p| p.value.clone())
    }

    /// The `[a.b]` header of the table at `path`, or its key when it is inline.
    pub fn table_origin(&self, path: &[&str]) -> Option<Origin> {
        let p: KeyPath = path.iter().map(|s| s.to_string()).collect();
        match self.headers.get(&p) {
            Some(span) if !span.is_empty() => Some(Origin::File(span.clone())),
            _ => self.key_origin(path),
        }
    }

    /// Deserializes the table at `path` into `T`. Errors point at the offending
    /// key: an unknown option, a missing one (at the table header), a value of
    /// the wrong type.
    pub fn deserialize_table<T: DeserializeOwned>(
        &self,
        path: &[&str],
        table: &Table,
        what: &str,
    ) -> Result<T, Diagnostic> {
        // Round-trip through TOML text: the text deserializer reports a span,
        // which tells which key failed; the key maps back to the original place.
        let text = toml::to_string(table)
            .map_err(|e| Diagnostic::new(format!("{what}: {e}"), self.table_origin(path)))?;
        match toml::from_str::<T>(&text) {
            Ok(v) => Ok(v),
            Err(e) => {
                let message = e.message().trim().to_string();
                let key = unknown_or_missing_field(&message)
                    .or_else(|| e.span().and_then(|span| key_at(&text, span.start)));
                let missing = message.starts_with("missing field");
                let origin = match (&key, missing) {
                    (Some(k), false) => {
                        let mut p: Vec<&str> = path.to_vec();
                        p.push(k);
                        self.key_origin(&p).or_else(|| self.table_origin(path))
                    }
                    _ => self.table_origin(path),
                };
                let help = if let Some(k) = key.as_deref().filter(|_| missing) {
                    format!("add `{k} = ...` to {what}")
                } else if message.starts_with("unknown field") {
                    let expected = message
                        .split_once("expected ")
                        .map(|(_, e)| e.to_string())
                        .unwrap_or_default();
                    let closest = key
                        .as_deref()
                        .and_then(|k| closest_backticked(k, &expected));
                    match closest {
                        Some(c) => format!("did you mean `{c}`? {what} accepts {expected}"),
                        None if expected.is_empty() => {
                            format!("remove it; {what} takes no options")
                        }
                        None => format!("remove it; {what} accepts {expected}"),
                    }
                } else {
                    format!("fix the value; `docpipe stages` lists the options of {what}")
                };
                Err(Diagnostic::new(format!("{what}: {message}"), origin)
                    .with_label(message)
                    .with_help(help))
            }
        }
    }
}

fn unknown_or_missing_field(message: &str) -> Option<String> {
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    None
}

/// The key of the `key = value` line containing `offset` in serialized TOML.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &text[start..];
    let line = line.lines().next()?;
    let (key, _) = line.split_once('=')?;
    Some(key.trim().trim_matches('"').to_string())
}

fn closest_backticked(name: &str, list: &str) -> Option<String> {
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// The `[...]` header line that opens the table at `span`, or an empty range.
fn header_span(text: &str, span: Range<usize>) -> Range<usize> {
    let start = span.start.min(text.len());
    let rest = &text[start..];
    if rest.starts_with('[') {
        let end = rest.find(']').map_or(rest.len(), |i| i + 1);
        let end = if rest[end..].starts_with(']') {
            end + 1
        } else {
            end
        };
        start..start + end
    } else {
        start..start
    }
}
