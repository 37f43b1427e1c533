//! Options of the `docstring-analyze` stage (and of [`super::check_doc`]).

use docpipe_core::model::{CodeUnit, UnitKind};
use docpipe_core::registry::{BuildError, OptionDoc, StageOptions};
use serde::Deserialize;

use super::rules::{self, Rule};

/// Where the parameters of a class's `__init__` are documented
/// (`[style] init_params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitParams {
    /// In the class docstring or in `__init__`'s: whichever has a
    /// parameters section (`__init__`'s when neither has).
    #[default]
    Either,
    /// In the class docstring.
    Class,
    /// In `__init__`'s docstring.
    Init,
}

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
    /// Codes (or prefixes such as `DOC1`) to check; empty means every rule
    /// that is on by default. An opt-in rule (`DOC502`) runs only when named
    /// by its full code here or in `extend_select`.
    pub select: Vec<String>,
    /// Codes (or prefixes) to check on top of `select`.
    pub extend_select: Vec<String>,
    /// Codes (or prefixes) not to check.
    pub ignore: Vec<String>,
    /// Where `__init__`'s parameters are documented: from `[style]`, not an
    /// option of the stage.
    #[serde(skip)]
    pub init_params: InitParams,
    /// The placeholder word of `[style]`, which DP120 looks for.
    #[serde(skip)]
    pub placeholder: String,
    /// `--warn-unused-ignores`: report `# docpipe: ignore` comments that
    /// suppress nothing (DP130) in this run, as if selected.
    #[serde(skip)]
    pub warn_unused_ignores: bool,
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
            extend_select: Vec::new(),
            ignore: Vec::new(),
            init_params: InitParams::Either,
            placeholder: crate::style::DEFAULT_PLACEHOLDER.into(),
            warn_unused_ignores: false,
        }
    }
}

impl AnalyzeSettings {
    /// Whether findings of `code` are reported: selected (by default, by a
    /// prefix in `select` or `extend_select`, or, for an opt-in rule, by its
    /// full code) and not ignored.
    pub fn enabled(&self, code: &str) -> bool {
        if self.warn_unused_ignores && code == rules::UnusedIgnore::CODE {
            return !self.ignore.iter().any(|s| code.starts_with(s.as_str()));
        }
        let named = |list: &[String]| list.iter().any(|s| s == code);
        let prefixed = |list: &[String]| list.iter().any(|s| code.starts_with(s.as_str()));
        let on_by_default = rules::all()
            .iter()
            .find(|r| r.code == code)
            .is_none_or(|r| r.default);
        let selected = named(&self.select)
            || named(&self.extend_select)
            || (on_by_default
                && (self.select.is_empty()
                    || prefixed(&self.select)
                    || prefixed(&self.extend_select)));
        selected && !prefixed(&self.ignore)
    }

    /// Every code of `select`, `extend_select` and `ignore` names a rule (or
    /// is a prefix of one). A code of docpipe before it took pydoclint's
    /// codes gets its new name in the help.
    pub fn validate(&self) -> Result<(), BuildError> {
        let known: Vec<&str> = rules::all()
            .iter()
            .map(|r| r.code)
            .chain(crate::python::codes::ALL)
            .collect();
        for (option, list) in [
            ("select", &self.select),
            ("extend_select", &self.extend_select),
            ("ignore", &self.ignore),
        ] {
            for code in list {
                if !code.is_empty() && known.iter().any(|k| k.starts_with(code.as_str())) {
                    continue;
                }
                let help = match renamed(code) {
                    Some((new, what)) => format!(
                        "docpipe's codes follow pydoclint's: `{code}` ({what}) is now `{new}`"
                    ),
                    None => {
                        let close = known
                            .iter()
                            .min_by_key(|k| strsim::levenshtein(k, code))
                            .copied()
                            .unwrap_or("DOC101");
                        format!(
                            "did you mean `{close}`? `docpipe stages` lists the codes (the README's table too)"
                        )
                    }
                };
                return Err(BuildError {
                    option: Some(option.into()),
                    ..BuildError::new(format!("`{code}` is not a docpipe finding code"))
                }
                .with_help(help));
            }
        }
        Ok(())
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

/// The new code and the meaning of a code that docpipe used before it took
/// pydoclint's codes, for codes that no longer exist. (`DOC101`, `DOC102`,
/// `DOC201`, `DOC202`, `DOC402` and `DOC501` exist with pydoclint's meaning.)
fn renamed(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "DOC001" => ("DP001", "the file cannot be read"),
        "DOC002" => ("DP002", "the file cannot be decoded"),
        "DOC003" => ("DP003", "the file does not parse"),
        "DOC100" => ("DP100", "module without a docstring"),
        "DOC110" => ("DP110", "docstring without a summary"),
        "DOC301" => ("DOC201", "return value not documented"),
        "DOC302" => ("DOC202", "Returns documented but nothing returned"),
        "DOC401" => ("DOC402", "generator without Yields"),
        _ => return None,
    })
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
                "Leave out `__init__` methods; with `[style] init_params = \"either\"` their parameters are then checked on the class.",
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
                "Properties need no Returns section (DOC201).",
            ),
            OptionDoc {
                name: "select",
                ty: "[string]",
                default: Some("[]"),
                doc: "Codes or code prefixes to check (`[\"DOC1\", \"DP100\"]`); empty checks every rule that is on by default. An opt-in rule (`DOC502`) runs only when named by its full code.",
            },
            OptionDoc {
                name: "extend_select",
                ty: "[string]",
                default: Some("[]"),
                doc: "Codes or code prefixes to check on top of `select` (`[\"DOC502\"]` turns the opt-in rule on).",
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
