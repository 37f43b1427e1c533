//! Options of the `docstring-analyze` stage (and of [`super::check_doc`]).

use docpipe_core::model::{CodeUnit, UnitKind};
use docpipe_core::registry::{OptionDoc, StageOptions};
use serde::Deserialize;

/// What the analyzer checks and which definitions it leaves alone, in the
/// manner of interrogate's `ignore-*` options and ruff's `select`/`ignore`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyzeSettings {
    /// Leave out `_private` definitions (not dunder names).
    pub ignore_private: bool,
    /// Leave out dunder methods (`__repr__`) other than `__init__`.
    pub ignore_magic: bool,
    /// Leave out `__init__` methods (their parameters are documented on the class).
    pub ignore_init: bool,
    /// Leave out modules.
    pub ignore_module: bool,
    /// Leave out definitions nested in a function.
    pub ignore_nested: bool,
    /// Leave out `@x.setter` and `@x.deleter` methods.
    pub ignore_setters: bool,
    /// Leave out `@overload` signatures.
    pub ignore_overloads: bool,
    /// Properties need no Returns section.
    pub ignore_property_returns: bool,
    /// Codes (or prefixes such as `DOC2`) to check; empty means all.
    pub select: Vec<String>,
    /// Codes (or prefixes) not to check.
    pub ignore: Vec<String>,
}

impl Default for AnalyzeSettings {
    fn default() -> Self {
        AnalyzeSettings {
            ignore_private: false,
            ignore_magic: false,
            ignore_init: false,
            ignore_module: false,
            ignore_nested: false,
            ignore_setters: false,
            ignore_overloads: false,
            ignore_property_returns: true,
            select: Vec::new(),
            ignore: Vec::new(),
        }
    }
}

impl AnalyzeSettings {
    /// Whether findings of `code` are reported.
    pub fn enabled(&self, code: &str) -> bool {
        let selected =
            self.select.is_empty() || self.select.iter().any(|s| code.starts_with(s.as_str()));
        selected && !self.ignore.iter().any(|s| code.starts_with(s.as_str()))
    }

    /// Why `unit` is left out by an `ignore_*` option, if it is.
    pub fn ignored(&self, unit: &CodeUnit) -> Option<&'static str> {
        let name = unit.name.as_str();
        let dunder = name.len() > 4 && name.starts_with("__") && name.ends_with("__");
        let is_def = matches!(unit.kind, UnitKind::Function | UnitKind::Method);
        if self.ignore_module && unit.kind == UnitKind::Module {
            return Some("ignore_module");
        }
        if unit.kind == UnitKind::Module {
            return None;
        }
        if self.ignore_init && is_def && name == "__init__" {
            return Some("ignore_init");
        }
        if self.ignore_magic && is_def && dunder && name != "__init__" {
            return Some("ignore_magic");
        }
        if self.ignore_private && name.starts_with('_') && !dunder {
            return Some("ignore_private");
        }
        if self.ignore_nested && unit.nested {
            return Some("ignore_nested");
        }
        if self.ignore_setters && (unit.has_decorator("setter") || unit.has_decorator("deleter")) {
            return Some("ignore_setters");
        }
        if self.ignore_overloads && unit.has_decorator("overload") {
            return Some("ignore_overloads");
        }
        None
    }
}

impl StageOptions for AnalyzeSettings {
    fn describe() -> Vec<OptionDoc> {
        let flag = |name, default, doc| OptionDoc {
            name,
            ty: "bool",
            default: Some(default),
            doc,
        };
        vec![
            flag(
                "ignore_private",
                "false",
                "Leave out `_private` definitions (dunder names are not private).",
            ),
            flag(
                "ignore_magic",
                "false",
                "Leave out dunder methods such as `__repr__` (not `__init__`).",
            ),
            flag(
                "ignore_init",
                "false",
                "Leave out `__init__` methods; document their parameters on the class.",
            ),
            flag("ignore_module", "false", "Leave out module docstrings."),
            flag(
                "ignore_nested",
                "false",
                "Leave out functions and classes defined inside a function.",
            ),
            flag(
                "ignore_setters",
                "false",
                "Leave out `@x.setter` and `@x.deleter` methods.",
            ),
            flag(
                "ignore_overloads",
                "false",
                "Leave out `@overload` signatures.",
            ),
            flag(
                "ignore_property_returns",
                "true",
                "Properties need no Returns section (DOC301).",
            ),
            OptionDoc {
                name: "select",
                ty: "[string]",
                default: Some("[]"),
                doc: "Codes or code prefixes to check (`[\"DOC1\", \"DOC201\"]`); empty checks every code.",
            },
            OptionDoc {
                name: "ignore",
                ty: "[string]",
                default: Some("[]"),
                doc: "Codes or code prefixes not to check.",
            },
        ]
    }
}
