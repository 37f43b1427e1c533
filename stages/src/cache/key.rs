//! What a cache key covers, and the tags a cached value carries.
//!
//! A unit's key is a blake3 hash of everything its docstring depends on: the
//! unit's code (its source text, kind and qualified name, the constructor it
//! shares with its class), its context (the enclosing class or module), the
//! style, the model (provider and name), the prompt templates' version and
//! the reply schema's version, and the callees the prompt shows: each
//! function of the repository the unit calls, with the summary of its
//! existing docstring ([`callees_fingerprint`](crate::generate::order::callees_fingerprint)).
//! A summary the model writes for a callee in the same run is not part of
//! it: it is not known when the cache is asked, before the model runs. For
//! a model that reads no prompt (the template) the callees are not part of
//! it either: it answers from the unit alone. A change to any of them is a
//! miss. The path
//! is not part of it: two checkouts in different directories share entries,
//! and so do identical definitions in two files.

use std::path::Path;

use docpipe_core::model::{CodeUnit, Envelope};

use crate::generate::order::{Resolver, callees_fingerprint, normalize};
use crate::reply::SCHEMA_VERSION;

/// Version of the key layout and of what is stored under it.
pub const KEY_VERSION: &str = "docpipe-unit-2";

/// What, besides the unit, a docstring depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyContext {
    /// The style of new docstrings as the prompt names it.
    pub style: String,
    /// The model: `provider/name` (`azure/DEPLOYMENT` for Azure).
    pub model: String,
    /// The prompt templates' version (which includes the schema's).
    pub prompt_version: String,
    /// The model reads its prompt, so the callees the prompt shows are part
    /// of a key. A model that reads none (the template) answers from the
    /// unit alone.
    pub reads_prompt: bool,
}

impl KeyContext {
    /// The key of `env`'s unit, with its callees (found by `resolver`) when
    /// the model reads the prompt that shows them. (For the template,
    /// resolving them would read a module index of every file for nothing.)
    pub fn key_of(&self, resolver: &Resolver, env: &Envelope) -> String {
        let callees = if self.reads_prompt {
            callees_fingerprint(&resolver.callees(&env.unit, &env.file))
        } else {
            String::new()
        };
        self.unit_key(&env.unit, &callees)
    }

    /// The key of `unit`'s docstring; `callees` is the unit's
    /// [`callees_fingerprint`](crate::generate::order::callees_fingerprint).
    pub fn unit_key(&self, unit: &CodeUnit, callees: &str) -> String {
        let mut h = blake3::Hasher::new();
        let constructor = unit
            .constructor
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok())
            .unwrap_or_default();
        for part in [
            KEY_VERSION,
            SCHEMA_VERSION,
            &self.prompt_version,
            &self.model,
            &self.style,
            unit.kind.as_str(),
            &unit.qualname,
            &unit.name,
            &unit.source,
            &unit.context,
            &constructor,
            callees,
        ] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        format!("unit:{}", h.finalize().to_hex())
    }

    /// The tags of `unit`'s entry: its path (relative to `project`), model and style.
    pub fn tags(&self, unit: &CodeUnit, base: &Path, project: &Path) -> Vec<String> {
        vec![
            path_tag(&unit.path, base, project),
            format!("model:{}", self.model),
            format!("style:{}", self.style),
        ]
    }
}

/// `path:REL`: the tag of a file, REL its path relative to the project
/// directory with `/` separators (as given when it lies outside).
pub fn path_tag(path: &Path, base: &Path, project: &Path) -> String {
    format!("path:{}", relative(path, base, project))
}

/// `path` (relative to `base` when not absolute) relative to `project`.
pub fn relative(path: &Path, base: &Path, project: &Path) -> String {
    let absolute = normalize(&if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    });
    let project = normalize(project);
    let rel = absolute
        .strip_prefix(&project)
        .map(Path::to_path_buf)
        .unwrap_or(absolute);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use docpipe_core::model::SourceFile;

    fn unit(text: &str) -> CodeUnit {
        let file = SourceFile::from_text("m.py", text);
        crate::python::extract(&file)
            .expect("parses")
            .pop()
            .expect("a unit")
    }

    fn context() -> KeyContext {
        KeyContext {
            style: "google".into(),
            model: "openai/gpt-4o".into(),
            prompt_version: "p-1".into(),
            reads_prompt: true,
        }
    }

    #[test]
    fn a_change_to_code_style_model_or_prompt_is_another_key() {
        let f = unit("def f(a):\n    return a\n");
        let key = context().unit_key(&f, "");
        assert_eq!(key, context().unit_key(&f.clone(), ""));
        assert_ne!(
            key,
            context().unit_key(&unit("def f(a):\n    return a + 1\n"), "")
        );
        for changed in [
            KeyContext {
                style: "numpy".into(),
                ..context()
            },
            KeyContext {
                model: "openai/gpt-4o-mini".into(),
                ..context()
            },
            KeyContext {
                prompt_version: "p-2".into(),
                ..context()
            },
        ] {
            assert_ne!(key, changed.unit_key(&f, ""));
        }
        assert_ne!(key, context().unit_key(&f, "helper\u{1f}Add one.\n"));
    }

    #[test]
    fn paths_are_tagged_relative_to_the_project() {
        let project = Path::new("/srv/p");
        assert_eq!(
            path_tag(Path::new("src/a.py"), project, project),
            "path:src/a.py"
        );
        assert_eq!(
            path_tag(Path::new("/srv/p/src/./a.py"), Path::new("/x"), project),
            "path:src/a.py"
        );
        assert_eq!(
            path_tag(Path::new("../p/a.py"), Path::new("/srv/q"), project),
            "path:a.py"
        );
    }
}
