//! pipeline.toml: finding it, reading it, checking it.
//!
//! Reading goes in passes, each reporting every problem it finds with file,
//! line and column: TOML syntax, `${VAR}` interpolation, `--set` overrides,
//! the shape of `[stages]`/`[pipelines]`/sections, then (in
//! [`validate`]) stage types, options and the graph.

mod diagnostic;
mod document;
mod interpolate;
mod layer;
mod load;
mod overrides;
pub mod validate;
pub mod wording;

use std::sync::Arc;

use indexmap::IndexMap;
use toml::{Table, Value};

pub use diagnostic::{ConfigError, ConfigSource, Diagnostic, Origin};
pub use document::{Document, Subject, TableRead};
pub use interpolate::{EnvVars, interpolate};
pub use layer::{EXTENDS_KEY, SHORTHANDS, Shorthand, ShorthandTarget, shorthand};
pub use load::{
    BUILT_IN_NAME, CONFIG_FILE_NAME, ConfigLocation, LoadOptions, PYPROJECT_FILE_NAME,
    PYPROJECT_TABLE, find_config, is_pyproject, load,
};
pub use overrides::{Override, parse_override};

/// Keys of a stage table that belong to the engine; the rest are the stage's options.
pub const ENGINE_KEYS: [&str; 3] = ["type", "inputs", "concurrency"];

/// The most workers a stage (`concurrency`) or the run (`-j`) may have: far
/// more than any machine has cores, few enough that threads and tasks for
/// them cost nothing worth noticing.
pub const MAX_WORKERS: usize = 4096;

/// A TOML value as a user reads it in a message: `0`, `"four"`, `a list`.
fn shown_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::Datetime(_) => {
            v.to_string()
        }
        Value::Array(_) => "a list".into(),
        Value::Table(_) => "a table".into(),
    }
}

/// Reference to an upstream stage or one of its ports: `"stage"` or `"stage.port"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputRef {
    /// Stage name.
    pub stage: String,
    /// Port name, when given.
    pub port: Option<String>,
    /// Index in the `inputs` array (to point at it).
    pub index: usize,
}

impl InputRef {
    /// Parses `stage` or `stage.port`.
    pub fn parse(text: &str, index: usize) -> InputRef {
        match text.split_once('.') {
            Some((stage, port)) => InputRef {
                stage: stage.to_string(),
                port: Some(port.to_string()),
                index,
            },
            None => InputRef {
                stage: text.to_string(),
                port: None,
                index,
            },
        }
    }
}

impl std::fmt::Display for InputRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.port {
            Some(p) => write!(f, "{}.{}", self.stage, p),
            None => f.write_str(&self.stage),
        }
    }
}

/// One `[stages.NAME]` table.
#[derive(Debug, Clone)]
pub struct StageConfig {
    /// The table's name.
    pub name: String,
    /// Registered stage type.
    pub type_name: String,
    /// Upstream stages or ports.
    pub inputs: Vec<InputRef>,
    /// Parallel workers, when set.
    pub concurrency: Option<usize>,
    /// Everything else: the stage's own options.
    pub options: Table,
}

/// One `[pipelines.NAME]` table.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The table's name.
    pub name: String,
    /// Stages that run, by name.
    pub stages: Vec<String>,
    /// What it is for, shown by `docpipe graph` and errors.
    pub description: Option<String>,
}

/// A read configuration. Shape-checked; not yet validated against the registry.
#[derive(Debug, Clone)]
pub struct Config {
    /// The document and its places.
    pub doc: Arc<Document>,
    /// Stages in file order.
    pub stages: IndexMap<String, StageConfig>,
    /// Named pipelines in file order; empty when the file has no `[pipelines]`.
    pub pipelines: IndexMap<String, PipelineConfig>,
    /// Variables for `${VAR}` and for stages that read keys (API keys).
    pub env: Arc<EnvVars>,
    /// Problems found while reading (interpolation, `--set`, the shape of
    /// the tables); [`validate`] reports them with its own.
    pub problems: Vec<Diagnostic>,
}

/// Pipeline chosen when `docpipe run` names none: the one that writes
/// nothing. Writing files takes naming `generate`.
pub const DEFAULT_PIPELINE: &str = "check";

impl Config {
    /// Reads the shape of `doc`: `[stages]`, `[pipelines]`, and top-level
    /// keys. What is malformed is left out and listed in `problems`, with the
    /// document's own.
    pub fn from_document(doc: Document, env: EnvVars, sections: &[String]) -> Config {
        let mut errors = doc.problems();
        let mut stages = IndexMap::new();
        let mut pipelines = IndexMap::new();

        for (key, value) in &doc.root {
            match key.as_str() {
                "stages" => match value {
                    Value::Table(t) => {
                        for (name, stage) in t {
                            if let Some(sc) = read_stage(&doc, name, stage, &mut errors) {
                                stages.insert(name.clone(), sc);
                            }
                        }
                    }
                    other => errors.push(not_a_table(
                        &doc,
                        &["stages"],
                        other,
                        "[stages.NAME] tables",
                    )),
                },
                "pipelines" => match value {
                    Value::Table(t) => {
                        for (name, p) in t {
                            if let Some(pc) = read_pipeline(&doc, name, p, &mut errors) {
                                pipelines.insert(name.clone(), pc);
                            }
                        }
                    }
                    other => errors.push(not_a_table(
                        &doc,
                        &["pipelines"],
                        other,
                        "[pipelines.NAME] tables",
                    )),
                },
                k if sections.iter().any(|s| s == k) => {
                    if !value.is_table() {
                        errors.push(not_a_table(&doc, &[k], value, &format!("a [{k}] table")));
                    }
                }
                other => {
                    let mut known: Vec<&str> = vec!["stages", "pipelines"];
                    known.extend(sections.iter().map(String::as_str));
                    let keys: Vec<&str> = std::iter::once(layer::EXTENDS_KEY)
                        .chain(layer::SHORTHANDS.iter().map(|s| s.key))
                        .collect();
                    let listed = format!(
                        "top-level tables are {}; top-level keys are {}",
                        backticks(&known),
                        backticks(&keys)
                    );
                    let suggestion = closest(other, known.iter().chain(&keys).copied());
                    let help = match suggestion {
                        Some(s) => format!("did you mean `{s}`? {listed}"),
                        None => listed,
                    };
                    errors.push(
                        Diagnostic::new(
                            format!("unknown top-level key `{other}`"),
                            doc.key_origin(&[other]),
                        )
                        .with_label("not a docpipe section")
                        .with_help(help),
                    );
                }
            }
        }
        Config {
            doc: Arc::new(doc),
            stages,
            pipelines,
            env: Arc::new(env),
            problems: errors,
        }
    }

    /// The shared section `[name]` (empty when absent).
    pub fn section(&self, name: &str) -> Table {
        match self.doc.root.get(name) {
            Some(Value::Table(t)) => t.clone(),
            _ => Table::new(),
        }
    }

    /// Stage names of pipeline `name`: the named pipeline's list, or every
    /// stage when the file declares no pipelines.
    pub fn pipeline_stages(&self, name: Option<&str>) -> Option<Vec<String>> {
        if self.pipelines.is_empty() {
            return Some(self.stages.keys().cloned().collect());
        }
        let name = name.unwrap_or(DEFAULT_PIPELINE);
        self.pipelines.get(name).map(|p| p.stages.clone())
    }
}

fn read_stage(
    doc: &Document,
    name: &str,
    value: &Value,
    errors: &mut Vec<Diagnostic>,
) -> Option<StageConfig> {
    let Value::Table(t) = value else {
        errors.push(not_a_table(
            doc,
            &["stages", name],
            value,
            &format!("a [stages.{name}] table"),
        ));
        return None;
    };
    let type_name = match t.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            errors.push(
                Diagnostic::new(
                    format!(
                        "stage `{name}`: `type` must be a string; found {}",
                        shown_value(other)
                    ),
                    doc.value_origin(&["stages", name, "type"]),
                )
                .with_help("write `type = \"python-source\"`; `docpipe stages` lists the types"),
            );
            return None;
        }
        None => {
            errors.push(
                Diagnostic::new(
                    format!("stage `{name}` has no `type`"),
                    doc.table_origin(&["stages", name]),
                )
                .with_label("`type` missing")
                .with_help("add `type = \"...\"`; `docpipe stages` lists the types"),
            );
            return None;
        }
    };
    let mut inputs = Vec::new();
    match t.get("inputs") {
        None => {}
        Some(Value::String(s)) => inputs.push(InputRef::parse(s, 0)),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => inputs.push(InputRef::parse(s, i)),
                    other => errors.push(
                        Diagnostic::new(
                            format!(
                                "stage `{name}`: each input must be a string; found {}",
                                shown_value(other)
                            ),
                            doc.value_origin(&["stages", name, "inputs", &i.to_string()]),
                        )
                        .with_help("name an upstream stage, or its port as \"stage.port\""),
                    ),
                }
            }
        }
        Some(other) => errors.push(
            Diagnostic::new(
                format!(
                    "stage `{name}`: `inputs` must be a list of strings; found {}",
                    shown_value(other)
                ),
                doc.value_origin(&["stages", name, "inputs"]),
            )
            .with_help("write `inputs = [\"extract\"]` or `inputs = [\"analyze.incomplete\"]`"),
        ),
    }
    let concurrency = match t.get("concurrency") {
        None => None,
        Some(Value::Integer(n)) if (1..=MAX_WORKERS as i64).contains(n) => Some(*n as usize),
        Some(other) => {
            errors.push(
                Diagnostic::new(
                    format!(
                        "stage `{name}`: `concurrency` must be a whole number from 1 to {MAX_WORKERS}; found {}",
                        shown_value(other)
                    ),
                    doc.value_origin(&["stages", name, "concurrency"]),
                )
                .with_help("set how many items the stage handles at once, such as `concurrency = 4`"),
            );
            None
        }
    };
    let options = t
        .iter()
        .filter(|(k, _)| !ENGINE_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(StageConfig {
        name: name.to_string(),
        type_name,
        inputs,
        concurrency,
        options,
    })
}

fn read_pipeline(
    doc: &Document,
    name: &str,
    value: &Value,
    errors: &mut Vec<Diagnostic>,
) -> Option<PipelineConfig> {
    let Value::Table(t) = value else {
        errors.push(not_a_table(
            doc,
            &["pipelines", name],
            value,
            &format!("a [pipelines.{name}] table"),
        ));
        return None;
    };
    let mut stages = Vec::new();
    let mut description = None;
    let mut ok = true;
    for (k, v) in t {
        match (k.as_str(), v) {
            ("stages", Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => stages.push(s.clone()),
                        other => {
                            ok = false;
                            errors.push(Diagnostic::new(
                                format!(
                                    "pipeline `{name}`: stage names must be strings; found {}",
                                    shown_value(other)
                                ),
                                doc.value_origin(&["pipelines", name, "stages", &i.to_string()]),
                            ));
                        }
                    }
                }
            }
            ("description", Value::String(s)) => description = Some(s.clone()),
            ("stages" | "description", other) => {
                ok = false;
                errors.push(
                    Diagnostic::new(
                        format!(
                            "pipeline `{name}`: `{k}` must be {}; found {}",
                            if k == "stages" {
                                "a list of strings"
                            } else {
                                "a string"
                            },
                            shown_value(other)
                        ),
                        doc.value_origin(&["pipelines", name, k]),
                    )
                    .with_help(
                        "`stages` lists stage names, `description` says what the pipeline is for",
                    ),
                );
            }
            (other, _) => {
                ok = false;
                errors.push(
                    Diagnostic::new(
                        format!("pipeline `{name}` has no key `{other}`"),
                        doc.key_origin(&["pipelines", name, other]),
                    )
                    .with_label("unknown key")
                    .with_help(match closest(other, ["stages", "description"].into_iter()) {
                        Some(c) => format!("did you mean `{c}`? a pipeline has `stages = [...]` and an optional `description`"),
                        None => "a pipeline has `stages = [...]` and an optional `description`".to_string(),
                    }),
                );
            }
        }
    }
    if !t.contains_key("stages") {
        ok = false;
        errors.push(
            Diagnostic::new(
                format!("pipeline `{name}` has no `stages`"),
                doc.table_origin(&["pipelines", name]),
            )
            .with_help("list the stages it runs: `stages = [\"source\", \"extract\", ...]`"),
        );
    }
    ok.then(|| PipelineConfig {
        name: name.to_string(),
        stages,
        description,
    })
}

fn not_a_table(doc: &Document, path: &[&str], value: &Value, expected: &str) -> Diagnostic {
    Diagnostic::new(
        format!(
            "`{}` must be a table; found {}",
            path.join("."),
            shown_value(value)
        ),
        doc.value_origin(path),
    )
    .with_help(format!("write {expected}"))
}

/// The candidate closest to `name`, when close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `a`, `b`, `c` with backticks.
pub fn backticks<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
