//! The configuration as data (`toml::Table`) plus where each key and value came from.

use std::collections::HashMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

use super::diagnostic::{ConfigError, ConfigSource, Diagnostic, Origin};
use super::interpolate::{EnvVars, interpolate};
use super::overrides::Override;
use super::wording::{self, Complaint};
use super::{backticks, closest};
use crate::registry::OptionDoc;

/// Key path inside the document.
pub type KeyPath = Vec<String>;

#[derive(Debug, Clone)]
pub(super) struct Place {
    pub(super) key: Origin,
    pub(super) value: Origin,
}

/// A parsed, interpolated, overridden configuration document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The text diagnostics point into.
    pub source: ConfigSource,
    /// The values.
    pub root: Table,
    pub(super) places: HashMap<KeyPath, Place>,
    /// Where `[table]` headers are, by table path (tables that have one).
    pub(super) headers: HashMap<KeyPath, Origin>,
    /// `--set` arguments that could not apply, and other problems found
    /// while reading (`extends`, shorthand keys).
    pub(super) override_problems: Vec<Diagnostic>,
    /// Keys whose value has a problem (an unset variable), with it: later
    /// checks stay quiet about them.
    pub(super) flagged: HashMap<KeyPath, Diagnostic>,
    /// Whole numbers too large for TOML, kept as the text written, by key.
    pub(super) oversized: HashMap<KeyPath, String>,
}

impl Document {
    /// Parses `source`, replacing `${VAR}` references in strings.
    pub fn parse(source: ConfigSource, env: &EnvVars) -> Result<Document, ConfigError> {
        match Document::parse_under(source.clone(), env, &[])? {
            Some(doc) => Ok(doc),
            None => Ok(Document::empty(source)),
        }
    }

    /// A document with no keys, reading `source`.
    pub(super) fn empty(source: ConfigSource) -> Document {
        Document {
            source,
            root: Table::new(),
            places: HashMap::new(),
            headers: HashMap::new(),
            override_problems: Vec::new(),
            flagged: HashMap::new(),
            oversized: HashMap::new(),
        }
    }

    /// Parses the table at `prefix` of `source` (`["tool", "docpipe"]` in a
    /// pyproject.toml) as the document's root: keys are read relative to it,
    /// places stay those of the whole text, so messages point at the lines
    /// of the file. `None` when the file has no such table; a `prefix` key
    /// that is not a table is an error at its place.
    pub fn parse_under(
        source: ConfigSource,
        env: &EnvVars,
        prefix: &[&str],
    ) -> Result<Option<Document>, ConfigError> {
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
        let mut table = parsed.get_ref();
        let mut span = parsed.span();
        for (depth, part) in prefix.iter().enumerate() {
            let Some((key, value)) = table.iter().find(|(k, _)| k.get_ref() == part) else {
                return Ok(None);
            };
            match value.get_ref() {
                DeValue::Table(t) => {
                    table = t;
                    span = value.span();
                }
                _ => {
                    let dotted = prefix[..=depth].join(".");
                    return Err(ConfigError::one(
                        &source,
                        Diagnostic::new(
                            format!("`{dotted}` must be a table"),
                            Some(Origin::File(key.span())),
                        )
                        .with_label("not a table")
                        .with_help(format!("write a [{dotted}] table")),
                    ));
                }
            }
        }
        let mut doc = Document::empty(source);
        let root = doc.convert_table(table, span, &mut Vec::new(), env);
        doc.root = root;
        Ok(Some(doc))
    }

    /// Problems met while reading (an unset variable, a `--set` that cannot
    /// apply). The document is still whole, so that validation reports them
    /// with every other problem in one pass.
    pub fn problems(&self) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = self.flagged.values().cloned().collect();
        all.extend(self.override_problems.iter().cloned());
        all
    }

    fn convert_table(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
        path: &mut KeyPath,
        env: &EnvVars,
    ) -> Table {
        let header = header_span(&self.source.text, span);
        if !header.is_empty() {
            self.headers.insert(path.clone(), Origin::File(header));
        }
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
            let v = self.convert_value(value.get_ref(), value.span(), path, env);
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
    ) -> Value {
        match value {
            DeValue::String(s) => match interpolate(s, env) {
                Ok(v) => Value::String(v),
                Err(e) => {
                    self.flagged.insert(
                        path.clone(),
                        Diagnostic::new(e.message.clone(), Some(Origin::File(span)))
                            .with_label(e.message)
                            .with_help(e.help),
                    );
                    Value::String(s.to_string())
                }
            },
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .map(Value::Integer)
                .unwrap_or_else(|_| {
                    // Past i64: kept as text, so that the option reading it
                    // says what it takes and shows the number as written.
                    self.oversized.insert(path.clone(), i.as_str().to_string());
                    Value::String(i.as_str().to_string())
                }),
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
                    items.push(self.convert_value(item.get_ref(), item.span(), path, env));
                    path.pop();
                }
                Value::Array(items)
            }
            DeValue::Table(t) => Value::Table(self.convert_table(t, span, path, env)),
        }
    }

    /// Records a problem of the command line (a `--set` that does not parse).
    pub fn add_problem(&mut self, problem: Diagnostic) {
        self.override_problems.push(problem);
    }

    /// Applies `--set` overrides in order, creating tables as needed. An
    /// override that cannot apply is a problem of the document, pointing at
    /// the command line; the others still apply.
    pub fn apply_overrides(&mut self, overrides: &[Override]) {
        for o in overrides {
            if let Err(d) = self.apply_override(o) {
                self.override_problems.push(d);
            }
        }
    }

    fn apply_override(&mut self, o: &Override) -> Result<(), Diagnostic> {
        let at = || Some(Origin::Set(o.raw.clone()));
        let Some((last, parents)) = o.path.split_last() else {
            return Ok(());
        };
        // A stage or pipeline is declared in the file; `--set` changes its keys.
        let parts: Vec<&str> = o.path.iter().map(String::as_str).collect();
        if let [engine @ ("stages" | "pipelines"), name, _, ..] = parts.as_slice() {
            let declared = self.root.get(*engine).and_then(Value::as_table);
            if !declared.is_some_and(|t| t.contains_key(*name)) {
                let names: Vec<&str> = declared
                    .map(|t| t.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let noun = if *engine == "stages" {
                    "stage"
                } else {
                    "pipeline"
                };
                let help = match closest(name, names.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`? `--set {engine}.{c}.KEY=VALUE`"),
                    None if names.is_empty() => {
                        format!("the configuration declares no {noun}")
                    }
                    None => format!("the configuration's {engine}: {}", backticks(&names)),
                };
                return Err(Diagnostic::new(
                    format!("`--set {}`: there is no {noun} `{name}`", o.raw),
                    at(),
                )
                .with_label(format!("unknown {noun}"))
                .with_help(help));
            }
        }
        let mut table = &mut self.root;
        for (depth, part) in parents.iter().enumerate() {
            let entry = table
                .entry(part.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            match entry {
                Value::Table(t) => table = t,
                other => {
                    let prefix = o.path[..=depth].join(".");
                    return Err(Diagnostic::new(
                        format!(
                            "`--set {}`: `{prefix}` is {}, not a table",
                            o.raw,
                            wording::found_value(other.type_str())
                        ),
                        at(),
                    )
                    .with_help("set a key inside a table, such as `model.provider`"));
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
        // The override replaces whatever the file had, its problems included.
        self.flagged.remove(&o.path);
        match &o.oversized {
            Some(text) => self.oversized.insert(o.path.clone(), text.clone()),
            None => self.oversized.remove(&o.path),
        };
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
            Some(origin) => Some(origin.clone()),
            None => self.key_origin(path),
        }
    }

    /// Reads the table at `path` into `T`, collecting every problem: each
    /// faulty key is reported at its place and left out, and the table read
    /// again, so that one pass finds all of them and `value` holds what the
    /// remaining keys give (defaults standing in for the faulty ones). Keys
    /// that already have a problem (an unset variable) are not reported again.
    /// `value` is `None` when the table cannot be read at all (a missing key).
    pub fn read_table<T: DeserializeOwned>(
        &self,
        path: &[&str],
        table: &Table,
        subject: &Subject<'_>,
    ) -> TableRead<T> {
        let mut table = table.clone();
        let mut problems = Vec::new();
        let mut removed: Vec<String> = Vec::new();
        // Each round removes one key, so this ends.
        for _ in 0..=table.len() {
            // Round-trip through TOML text: the text deserializer reports a
            // span, which tells which key failed; the key maps back to the
            // original place.
            let text = match toml::to_string(&table) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Diagnostic::new(
                        format!("{}: {e}", subject.title),
                        self.table_origin(path),
                    ));
                    return TableRead {
                        value: None,
                        problems,
                    };
                }
            };
            let e = match toml::from_str::<T>(&text) {
                Ok(value) => {
                    return TableRead {
                        value: Some(value),
                        problems,
                    };
                }
                Err(e) => e,
            };
            let complaint = Complaint::read(e.message());
            if let Complaint::MissingKey(key) = &complaint
                && removed.contains(key)
            {
                // Missing because its faulty value was left out: reported already.
                return TableRead {
                    value: None,
                    problems,
                };
            }
            let mut keys = e
                .span()
                .and_then(|span| keys_at(&text, span.start))
                .unwrap_or_default();
            if let Complaint::UnknownKey { key, .. } | Complaint::MissingKey(key) = &complaint
                && keys.last() != Some(key)
            {
                // Inside a nested table the key is its last part; at the top,
                // with no span, it is the key itself.
                if keys.is_empty() {
                    keys = vec![key.clone()];
                } else {
                    keys.push(key.clone());
                }
            }
            let mut full: KeyPath = path.iter().map(|s| s.to_string()).collect();
            full.extend(keys.iter().cloned());
            if !self.flagged.contains_key(&full) {
                problems.push(self.explain(path, &keys, &full, &complaint, subject));
            }
            let removable = !matches!(complaint, Complaint::MissingKey(_));
            match keys.first() {
                Some(top) if removable && table.remove(top).is_some() => removed.push(top.clone()),
                _ => {
                    return TableRead {
                        value: None,
                        problems,
                    };
                }
            }
        }
        TableRead {
            value: None,
            problems,
        }
    }

    /// Reads the table at `path` into `T`: the value, or every problem.
    pub fn deserialize_table<T: DeserializeOwned>(
        &self,
        path: &[&str],
        table: &Table,
        subject: &Subject<'_>,
    ) -> Result<T, Vec<Diagnostic>> {
        let read = self.read_table(path, table, subject);
        match read.value {
            Some(v) if read.problems.is_empty() => Ok(v),
            _ => Err(read.problems),
        }
    }

    /// The diagnostic for `complaint` about the key `keys` (relative to the
    /// table at `path`; `full` is the whole path).
    fn explain(
        &self,
        path: &[&str],
        keys: &[String],
        full: &KeyPath,
        complaint: &Complaint,
        subject: &Subject<'_>,
    ) -> Diagnostic {
        let title = subject.title;
        let noun = subject.key_noun;
        let dotted = keys.join(".");
        let documented = keys
            .first()
            .and_then(|k| subject.options.iter().find(|o| o.name == k.as_str()));
        let full_refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let key_at = self
            .key_origin(&full_refs)
            .or_else(|| self.nearest_origin(path, keys));
        let value_at = self
            .value_origin(&full_refs)
            .or_else(|| self.nearest_origin(path, keys));
        match complaint {
            Complaint::UnknownKey { key, known } => {
                let names: Vec<String> = if keys.len() <= 1 && !subject.options.is_empty() {
                    subject.options.iter().map(|o| o.name.to_string()).collect()
                } else {
                    known.clone()
                };
                let listed = if names.is_empty() {
                    format!("{title} takes no {noun}s")
                } else {
                    format!("{title} takes {}", backticks(&names))
                };
                let help = match closest(key, names.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`? {listed}"),
                    None => format!("remove it; {listed}"),
                };
                Diagnostic::new(format!("{title} has no {noun} `{dotted}`"), key_at)
                    .with_label(format!("unknown {noun}"))
                    .with_help(help)
            }
            Complaint::MissingKey(key) => {
                let what = documented
                    .map(|d| format!(": {}", wording::expected_type("", Some(d.ty))))
                    .unwrap_or_default();
                Diagnostic::new(
                    format!("{title} needs the {noun} `{dotted}`"),
                    self.table_origin(path),
                )
                .with_label(format!("`{key}` missing"))
                .with_help(format!("add `{key} = ...`{what}"))
            }
            Complaint::UnknownName { given, known } => {
                let accepted = wording::one_of(known);
                let help = match closest(given, known.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`? `{dotted}` is {accepted}"),
                    None => format!("`{dotted}` is {accepted}"),
                };
                Diagnostic::new(format!("{title}: unknown `{dotted}` `{given}`"), value_at)
                    .with_label(format!("not {accepted}"))
                    .with_help(help)
            }
            Complaint::Mismatch { found, expected } => {
                let want = wording::expected_type(expected, documented.map(|d| d.ty));
                let oversized = self.oversized.get(full);
                let got = match oversized {
                    Some(text) => format!("{text}, which is too large"),
                    None => wording::found_value(found),
                };
                let quoted = wording::quoted_fits(found, expected).filter(|_| oversized.is_none());
                let help = match (quoted, documented) {
                    (Some(inner), _) => format!("write it without quotes: `{dotted} = {inner}`"),
                    (None, Some(d)) => format!("`{dotted}`: {}", d.doc),
                    (None, None) => format!("`docpipe stages` describes the {noun}s of {title}"),
                };
                Diagnostic::new(
                    format!("{title}: `{dotted}` must be {want}; found {got}"),
                    value_at,
                )
                .with_label(format!("expected {want}"))
                .with_help(help)
            }
            Complaint::Other(message) => {
                let (shown, at) = if dotted.is_empty() {
                    (format!("{title}: {message}"), self.table_origin(path))
                } else {
                    (format!("{title}: `{dotted}`: {message}"), value_at)
                };
                Diagnostic::new(shown, at)
                    .with_label(message.clone())
                    .with_help(format!("`docpipe stages` describes the {noun}s of {title}"))
            }
        }
    }

    /// Where to point for `keys` under `path` when the exact key has no
    /// place: the deepest written key on the way, a `--set` that touched the
    /// table, else the table's header.
    fn nearest_origin(&self, path: &[&str], keys: &[String]) -> Option<Origin> {
        let mut full: Vec<&str> = path.to_vec();
        full.extend(keys.iter().map(String::as_str));
        for len in (path.len() + 1..full.len()).rev() {
            if let Some(o) = self.key_origin(&full[..len]) {
                return Some(o);
            }
        }
        let set_under = self.places.iter().find_map(|(p, place)| {
            (p.len() > path.len()
                && p.iter().zip(path).all(|(a, b)| a == b)
                && matches!(place.key, Origin::Set(_)))
            .then(|| place.key.clone())
        });
        set_under.or_else(|| self.table_origin(path))
    }
}

/// The table [`Document::read_table`] reads, for messages.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// How messages name it: "stage `extract` (python-extract)", "[model]".
    pub title: &'a str,
    /// What its keys are called: "option" for a stage, "key" for a section.
    pub key_noun: &'a str,
    /// Its keys as `docpipe stages` describes them (for types and suggestions).
    pub options: &'a [OptionDoc],
}

/// What [`Document::read_table`] found.
#[derive(Debug)]
pub struct TableRead<T> {
    /// The value, with faulty keys left out; `None` when it could not be read.
    pub value: Option<T>,
    /// Every problem, located.
    pub problems: Vec<Diagnostic>,
}

/// The key path (relative to the serialized table) of the `key = value`
/// line, under its `[a.b]` header, that contains `offset` in serialized TOML.
fn keys_at(text: &str, offset: usize) -> Option<Vec<String>> {
    let offset = offset.min(text.len());
    let mut header: Vec<String> = Vec::new();
    let mut line_keys: Vec<String> = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if start > offset {
            break;
        }
        let trimmed = line.trim_end();
        if trimmed.starts_with('[') {
            let inner = trimmed.trim_start_matches('[').trim_end_matches(']');
            header = dotted_keys(inner);
            line_keys.clear();
        } else if !line.starts_with([' ', '\t'])
            && let Some((key, _)) = trimmed.split_once('=')
        {
            line_keys = dotted_keys(key);
        }
        start += line.len();
    }
    let mut keys = header;
    keys.extend(line_keys);
    (!keys.is_empty()).then_some(keys)
}

/// `a."b.c".d` -> `["a", "b.c", "d"]`.
fn dotted_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.trim().chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '.') => keys.push(std::mem::take(&mut current).trim().to_string()),
            _ => current.push(c),
        }
    }
    keys.push(current.trim().to_string());
    keys
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
