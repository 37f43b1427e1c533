//! Finding and loading pipeline.toml.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Config;
use super::diagnostic::{ConfigError, ConfigSource, Diagnostic, Origin};
use super::document::Document;
use super::interpolate::EnvVars;
use super::overrides::parse_override;

/// The file docpipe looks for in the working directory and its parents.
pub const CONFIG_FILE_NAME: &str = "pipeline.toml";

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLocation {
    /// A file on disk.
    File(PathBuf),
    /// The built-in default compiled into the binary.
    Embedded,
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

/// `pipeline.toml` in `start` or the nearest parent that has one.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(CONFIG_FILE_NAME))
        .find(|p| p.is_file())
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
                ConfigSource {
                    name: "<built-in pipeline.toml>".into(),
                    text: Arc::new(options.embedded.to_string()),
                },
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
    let mut doc = Document::parse(source.clone(), &env)?;
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

fn read_source(path: &Path) -> Result<ConfigSource, ConfigError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(ConfigSource {
            name,
            text: Arc::new(text),
        }),
        Err(e) => {
            let source = ConfigSource {
                name: name.clone(),
                text: Arc::new(String::new()),
            };
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
