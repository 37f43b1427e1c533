//! Finding and loading the configuration: a pipeline.toml, or the
//! `[tool.docpipe]` table of a pyproject.toml, layered over the built-in
//! default ([`super::layer`]).

use std::path::{Path, PathBuf};

use super::Config;
use super::diagnostic::{ConfigError, ConfigSource, Diagnostic, Origin};
use super::document::Document;
use super::interpolate::EnvVars;
use super::overrides::parse_override;

/// The file docpipe looks for in the working directory and its parents.
pub const CONFIG_FILE_NAME: &str = "pipeline.toml";

/// The Python project file whose `[tool.docpipe]` table docpipe reads.
pub const PYPROJECT_FILE_NAME: &str = "pyproject.toml";

/// Where docpipe's table is in a pyproject.toml.
pub const PYPROJECT_TABLE: [&str; 2] = ["tool", "docpipe"];

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLocation {
    /// A file on disk: a pipeline.toml, or a pyproject.toml (see
    /// [`is_pyproject`]).
    File(PathBuf),
    /// The built-in default compiled into the binary.
    Embedded,
}

/// Whether `path` is read as a pyproject.toml (its `[tool.docpipe]` table)
/// rather than as a pipeline.toml: by its name, as every Python tool does.
pub fn is_pyproject(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == std::ffi::OsStr::new(PYPROJECT_FILE_NAME))
}

/// What `load` needs to know.
#[derive(Debug, Clone)]
pub struct LoadOptions<'a> {
    /// `--config FILE`, when given.
    pub explicit: Option<PathBuf>,
    /// Directory to search from (normally the working directory).
    pub cwd: PathBuf,
    /// `--set` arguments in order.
    pub overrides: Vec<String>,
    /// Text of the built-in default.
    pub embedded: &'a str,
    /// Top-level tables stages may read (`model`, `cache`, `style`, `budget`, ...).
    pub sections: Vec<String>,
    /// Variables to use instead of the process environment (tests).
    pub env: Option<EnvVars>,
}

/// The configuration file nearest to `start`: in `start` and then each
/// parent, a `pipeline.toml`, else a `pyproject.toml` with a
/// `[tool.docpipe]` table. A nearer directory wins, and in one directory
/// pipeline.toml wins. A pyproject.toml without the table is passed over,
/// as ruff passes over one without `[tool.ruff]`.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let pipeline = dir.join(CONFIG_FILE_NAME);
        if pipeline.is_file() {
            return Some(pipeline);
        }
        let pyproject = dir.join(PYPROJECT_FILE_NAME);
        (pyproject.is_file() && declares_docpipe(&pyproject)).then_some(pyproject)
    })
}

/// Whether the pyproject.toml at `path` has a `[tool.docpipe]` table. One
/// that is not TOML counts when it mentions the table, so that its syntax
/// error is reported rather than the file passed over.
fn declares_docpipe(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    match text.parse::<toml::Table>() {
        Ok(t) => t
            .get(PYPROJECT_TABLE[0])
            .and_then(toml::Value::as_table)
            .is_some_and(|tool| tool.contains_key(PYPROJECT_TABLE[1])),
        Err(_) => text.contains("tool.docpipe"),
    }
}

/// Finds, reads, interpolates and shape-checks the configuration. Only a
/// file that cannot be read or is not TOML is an error here; every other
/// problem waits in [`Config::problems`] for
/// [`validate`](super::validate::validate), which reports them all together.
pub fn load(options: &LoadOptions<'_>) -> Result<(Config, ConfigLocation), ConfigError> {
    let (location, source) = match &options.explicit {
        Some(path) => (ConfigLocation::File(path.clone()), read_source(path)?),
        None => match find_config(&options.cwd) {
            Some(path) => {
                let shown = pathdiff(&path, &options.cwd);
                let mut source = read_source(&path)?;
                source.name = shown;
                (ConfigLocation::File(path), source)
            }
            None => (
                ConfigLocation::Embedded,
                ConfigSource::new(BUILT_IN_NAME, options.embedded.to_string()),
            ),
        },
    };
    let env_dir = match &location {
        ConfigLocation::File(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        ConfigLocation::Embedded => options.cwd.clone(),
    };
    let env = match &options.env {
        Some(e) => e.clone(),
        None => EnvVars::load(if env_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &env_dir
        })
        .map_err(|e| {
            ConfigError::one(
                &source,
                Diagnostic::new(e, None)
                    .with_help("fix the `.env` file: one `NAME=value` per line"),
            )
        })?,
    };
    let mut doc = match &location {
        ConfigLocation::Embedded => {
            let mut doc = Document::parse(source.clone(), &env)?;
            doc.take_extends();
            let pending = doc.take_shorthands();
            doc.apply_stage_shorthands(pending);
            doc
        }
        ConfigLocation::File(path) => {
            let user = read_user_document(path, source.clone(), &env)?;
            layered(user, options.embedded, &env)?
        }
    };
    let mut overrides = Vec::new();
    for raw in &options.overrides {
        match parse_override(raw) {
            Ok(o) => overrides.push(o),
            Err(e) => doc.add_problem(Diagnostic::new(e, Some(Origin::Set(raw.clone())))),
        }
    }
    doc.apply_overrides(&overrides);
    let config = Config::from_document(doc, env, &options.sections);
    Ok((config, location))
}

/// The user's file as a document: a pyproject.toml's `[tool.docpipe]`
/// table (an error when it has none), or the whole of any other file.
fn read_user_document(
    path: &Path,
    source: ConfigSource,
    env: &EnvVars,
) -> Result<Document, ConfigError> {
    if !is_pyproject(path) {
        return Document::parse(source, env);
    }
    match Document::parse_under(source.clone(), env, &PYPROJECT_TABLE)? {
        Some(doc) => Ok(doc),
        None => Err(ConfigError::one(
            &source,
            Diagnostic::new(format!("{} has no [tool.docpipe] table", source.name), None)
                .with_help(
                    "add one (`docpipe init --pyproject` appends a starter table), \
                 or give a pipeline.toml to --config",
                ),
        )),
    }
}

/// `user` layered over the built-in default `embedded`, unless it says
/// `extends = false`; its shorthand keys applied either way.
fn layered(mut user: Document, embedded: &str, env: &EnvVars) -> Result<Document, ConfigError> {
    let extends = user.take_extends();
    let pending = user.take_shorthands();
    let mut doc = if extends {
        let base = Document::parse(ConfigSource::new(BUILT_IN_NAME, embedded.to_string()), env)?;
        user.layer_over(base)
    } else {
        user
    };
    doc.apply_stage_shorthands(pending);
    Ok(doc)
}

/// How messages name the built-in default.
pub const BUILT_IN_NAME: &str = "<built-in pipeline.toml>";

fn read_source(path: &Path) -> Result<ConfigSource, ConfigError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(ConfigSource::new(name, text)),
        Err(e) => {
            let source = ConfigSource::new(name.clone(), String::new());
            Err(ConfigError::one(
                &source,
                Diagnostic::new(format!("cannot read {name}: {e}"), None)
                    .with_help("check the path given to --config, or run `docpipe init` to write a starter pipeline.toml"),
            ))
        }
    }
}

/// `path` relative to `base` when it is below it.
fn pathdiff(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}
