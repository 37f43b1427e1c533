//! `${VAR}` and `${VAR:-default}` in string values, from the environment and a `.env` file.

use std::collections::HashMap;
use std::path::Path;

/// Variables visible to a configuration: the process environment first, then
/// the `.env` file next to the configuration.
#[derive(Debug, Clone, Default)]
pub struct EnvVars {
    dotenv: HashMap<String, String>,
    /// Overrides for tests; consulted before the process environment.
    overrides: HashMap<String, String>,
}

impl EnvVars {
    /// Reads `dir/.env` when it exists. A malformed `.env` is an error naming the line.
    pub fn load(dir: &Path) -> Result<EnvVars, String> {
        let path = dir.join(".env");
        let mut dotenv = HashMap::new();
        if path.is_file() {
            let iter = dotenvy::from_path_iter(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for item in iter {
                let (k, v) = item.map_err(|e| format!("{}: {e}", path.display()))?;
                dotenv.insert(k, v);
            }
        }
        Ok(EnvVars {
            dotenv,
            overrides: HashMap::new(),
        })
    }

    /// Variables from a fixed map only (tests).
    pub fn from_map(map: HashMap<String, String>) -> EnvVars {
        EnvVars {
            dotenv: HashMap::new(),
            overrides: map,
        }
    }

    /// The value of `name`, if set anywhere.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.overrides.get(name) {
            return Some(v.clone());
        }
        if !self.overrides.is_empty() {
            return self.dotenv.get(name).cloned();
        }
        std::env::var(name)
            .ok()
            .or_else(|| self.dotenv.get(name).cloned())
    }
}

/// A reference that cannot be resolved; `offset` is relative to the string's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpolationError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

/// Replaces `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`.
pub fn interpolate(text: &str, env: &EnvVars) -> Result<String, InterpolationError> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                return Err(InterpolationError {
                    message: "unterminated `${` in string".into(),
                    help: "close it with `}`, or write `$$` for a literal `$`".into(),
                });
            };
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(InterpolationError {
                    message: format!("`${{{inner}}}` is not a valid variable reference"),
                    help: "write `${NAME}` or `${NAME:-default}` with letters, digits and `_`"
                        .into(),
                });
            }
            match (env.get(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(InterpolationError {
                        message: format!("environment variable `{name}` is not set"),
                        help: format!(
                            "set `{name}` in the environment or in a `.env` file next to the configuration, or give a default: `${{{name}:-value}}`"
                        ),
                    });
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> EnvVars {
        EnvVars::from_map(HashMap::from([("HOST".to_string(), "example".to_string())]))
    }

    #[test]
    fn replaces_set_variables_and_defaults() {
        let got = interpolate("http://${HOST}:${PORT:-8080}/$${x}", &env());
        assert_eq!(got, Ok("http://example:8080/${x}".to_string()));
    }

    #[test]
    fn unset_variable_without_default_names_it() {
        let err = interpolate("${MISSING}", &env()).unwrap_err();
        assert!(err.message.contains("`MISSING`"), "{}", err.message);
    }

    #[test]
    fn unterminated_reference_is_an_error() {
        assert!(interpolate("${HOST", &env()).is_err());
    }
}
