//! `docpipe init --from-interrogate` / `--from-pydoclint`: the settings a
//! team keeps in `[tool.interrogate]` or `[tool.pydoclint]` of its
//! pyproject.toml, as a `[tool.docpipe]` table, with a note for each one
//! docpipe has no equivalent for.

use toml::{Table, Value};

/// The built-in analyzer stage a translated `ignore_*` option goes to: a
/// `[stages.NAME]` replaces the built-in one whole, so it repeats its type
/// and inputs.
const ANALYZE_STAGE: &str = "analyze";
const ANALYZE_TYPE: &str = "docstring-analyze";
const ANALYZE_INPUTS: &str = "[\"extract\"]";

/// A tool whose settings can be translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// interrogate (docstring coverage).
    Interrogate,
    /// pydoclint (docstring against signature).
    Pydoclint,
}

impl Tool {
    fn table(self) -> &'static str {
        match self {
            Tool::Interrogate => "interrogate",
            Tool::Pydoclint => "pydoclint",
        }
    }
}

/// What the translation found.
#[derive(Debug, Default, PartialEq)]
pub struct Translation {
    /// Top-level keys of `[tool.docpipe]` (shorthands), in order.
    pub top: Vec<(String, Value)>,
    /// Options of the analyzer stage.
    pub analyze: Vec<(String, Value)>,
    /// `[tool.docpipe.style]` keys beyond the shorthand `style`.
    pub style: Vec<(String, Value)>,
    /// One line per setting that was not translated, saying why.
    pub untranslated: Vec<String>,
    /// The tools whose table was missing.
    pub missing: Vec<&'static str>,
}

impl Translation {
    /// `[tool.docpipe]` as TOML text, the untranslated settings as comments.
    pub fn to_toml(&self, tools: &[Tool]) -> String {
        let names: Vec<String> = tools
            .iter()
            .map(|t| format!("[tool.{}]", t.table()))
            .collect();
        let mut out = format!(
            "\n[tool.docpipe]\n# Translated by `docpipe init` from {}; layered over docpipe's built-in\n# pipelines (`docpipe validate` checks it).\n",
            names.join(" and ")
        );
        for (k, v) in &self.top {
            out.push_str(&format!("{k} = {v}\n"));
        }
        for line in &self.untranslated {
            out.push_str(&format!("# not translated: {line}\n"));
        }
        if !self.style.is_empty() {
            out.push_str("\n[tool.docpipe.style]\n");
            for (k, v) in &self.style {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        if !self.analyze.is_empty() {
            out.push_str(&format!(
                "\n# Replaces the built-in analyzer stage, so it repeats its type and inputs.\n[tool.docpipe.stages.{ANALYZE_STAGE}]\ntype = \"{ANALYZE_TYPE}\"\ninputs = {ANALYZE_INPUTS}\n"
            ));
            for (k, v) in &self.analyze {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        out
    }

    fn push_list(list: &mut Vec<(String, Value)>, key: &str, items: Vec<Value>) {
        if let Some((_, Value::Array(existing))) = list.iter_mut().find(|(k, _)| k == key) {
            existing.extend(items);
        } else {
            list.push((key.to_string(), Value::Array(items)));
        }
    }
}

/// Translates the tables of `tools` in `pyproject` (a parsed pyproject.toml).
pub fn translate(pyproject: &Table, tools: &[Tool]) -> Translation {
    let mut t = Translation::default();
    let tool_tables = pyproject.get("tool").and_then(Value::as_table);
    for &tool in tools {
        let Some(table) = tool_tables
            .and_then(|tt| tt.get(tool.table()))
            .and_then(Value::as_table)
        else {
            t.missing.push(tool.table());
            continue;
        };
        for (key, value) in table {
            // Both tools accept `snake_case` spellings too.
            let norm = key.replace('_', "-");
            let shown = format!("[tool.{}] {key} = {value}", tool.table());
            match tool {
                Tool::Interrogate => interrogate(&mut t, &norm, value, &shown),
                Tool::Pydoclint => pydoclint(&mut t, &norm, value, &shown),
            }
        }
    }
    t
}

/// `false`, `0`, `""` or `[]`: a setting that is off.
fn is_off(value: &Value) -> bool {
    match value {
        Value::Boolean(b) => !b,
        Value::Integer(n) => *n == 0,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn interrogate(t: &mut Translation, key: &str, value: &Value, shown: &str) {
    // interrogate's settings are all off by default: one that is off asks
    // for nothing.
    if is_off(value) {
        return;
    }
    let flag = value.as_bool();
    let mut option = |name: &str| match flag {
        Some(true) => t.analyze.push((name.to_string(), Value::Boolean(true))),
        Some(false) => {}
        None => t
            .untranslated
            .push(format!("{shown}: expected true or false")),
    };
    match key {
        "fail-under" => match value {
            Value::Integer(_) | Value::Float(_) => t.top.push(("fail_under".into(), value.clone())),
            _ => t.untranslated.push(format!("{shown}: expected a number")),
        },
        "ignore-init-method" => option("ignore_init"),
        "ignore-magic" => option("ignore_magic"),
        "ignore-module" => option("ignore_module"),
        "ignore-nested-functions" => option("ignore_nested"),
        "ignore-setters" => option("ignore_setters"),
        "ignore-overloaded-functions" => option("ignore_overloads"),
        // interrogate's semiprivate names are `_x`, its private ones `__x`;
        // docpipe's ignore_private leaves out both.
        "ignore-semiprivate" => option("ignore_private"),
        "ignore-private" => {
            if flag == Some(true) {
                t.untranslated.push(format!(
                    "{shown}: docpipe's `ignore_private` leaves out every `_name`, not only `__name`; set it in [tool.docpipe.stages.analyze] if that is what you want"
                ));
            }
        }
        "exclude" => {
            let items: Vec<Value> = match value {
                Value::Array(a) => a.clone(),
                Value::String(_) => vec![value.clone()],
                _ => Vec::new(),
            };
            if items.is_empty() {
                t.untranslated
                    .push(format!("{shown}: expected a list of paths"));
            } else {
                Translation::push_list(&mut t.top, "extend_exclude", items);
            }
        }
        "ignore-init-module" => t.untranslated.push(format!(
            "{shown}: docpipe has no option for `__init__.py` modules alone (`ignore_module` leaves out every module)"
        )),
        "ignore-nested-classes" => t.untranslated.push(format!(
            "{shown}: docpipe's `ignore_nested` concerns definitions nested in functions, not classes in classes"
        )),
        "ignore-property-decorators" => t.untranslated.push(format!(
            "{shown}: docpipe checks properties; `ignore_property_returns` (on by default) asks no Returns section of them"
        )),
        "ignore-regex" | "whitelist-regex" => t.untranslated.push(format!(
            "{shown}: docpipe selects definitions by option, not by name pattern; `# docpipe: ignore` on a definition silences it"
        )),
        _ => t.untranslated.push(format!(
            "{shown}: an output setting of interrogate, with no docpipe equivalent"
        )),
    }
}

fn pydoclint(t: &mut Translation, key: &str, value: &Value, shown: &str) {
    let flag = value.as_bool();
    let mut ignore_unless = |codes: &[&str], keep: bool| match flag {
        Some(b) if b == keep => {}
        Some(_) => Translation::push_list(
            &mut t.top,
            "ignore",
            codes.iter().map(|c| Value::String(c.to_string())).collect(),
        ),
        None => t
            .untranslated
            .push(format!("{shown}: expected true or false")),
    };
    match key {
        "style" => match value.as_str() {
            Some(s @ ("google" | "numpy" | "sphinx")) => {
                t.top.push(("style".into(), Value::String(s.to_string())))
            }
            _ => t.untranslated.push(format!(
                "{shown}: docpipe's styles are \"google\", \"numpy\", \"sphinx\" and \"auto\""
            )),
        },
        "check-return-types" => ignore_unless(&["DOC203"], true),
        "check-yield-types" => ignore_unless(&["DOC404"], true),
        "check-arg-types" => ignore_unless(&["DOC105"], true),
        "skip-checking-raises" => ignore_unless(&["DOC501", "DOC502"], false),
        "arg-type-hints-in-docstring" => match flag {
            Some(false) => t.style.push(("types".into(), Value::String("never".into()))),
            Some(true) => {}
            None => t
                .untranslated
                .push(format!("{shown}: expected true or false")),
        },
        "exclude" => t.untranslated.push(format!(
            "{shown}: pydoclint's exclude is a regular expression; write docpipe's as globs in `extend_exclude`"
        )),
        _ if is_off(value) => {}
        _ => t.untranslated.push(format!(
            "{shown}: docpipe has no equivalent (its checks are listed in the README's table of codes)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().expect("test TOML parses")
    }

    #[test]
    fn interrogate_settings_become_shorthands_and_analyzer_options() {
        let t = translate(
            &table(
                "[tool.interrogate]\nfail-under = 95\nignore-init-method = true\nignore-magic = false\nignore-semiprivate = true\nignore-regex = [\"^get$\"]\nexclude = [\"setup.py\", \"docs\"]\nverbose = 2\nquiet = false\nwhitelist-regex = []\n",
            ),
            &[Tool::Interrogate],
        );
        assert_eq!(t.top[0], ("fail_under".into(), Value::Integer(95)));
        assert_eq!(t.top[1].0, "extend_exclude");
        assert_eq!(
            t.analyze,
            [
                ("ignore_init".to_string(), Value::Boolean(true)),
                ("ignore_private".to_string(), Value::Boolean(true)),
            ]
        );
        assert_eq!(t.untranslated.len(), 2, "{:?}", t.untranslated);
        assert!(t.untranslated[0].contains("ignore-regex"));
        assert!(t.untranslated[1].contains("verbose"));
        let text = t.to_toml(&[Tool::Interrogate]);
        let parsed = table(&text);
        let docpipe = &parsed["tool"]["docpipe"];
        assert_eq!(
            docpipe["stages"]["analyze"]["type"].as_str(),
            Some(ANALYZE_TYPE)
        );
    }

    #[test]
    fn pydoclint_settings_become_style_and_ignored_codes() {
        let t = translate(
            &table(
                "[tool.pydoclint]\nstyle = \"numpy\"\ncheck-return-types = false\nskip-checking-raises = true\narg-type-hints-in-docstring = false\nexclude = '\\.git|tests'\nallow-init-docstring = true\n",
            ),
            &[Tool::Pydoclint],
        );
        assert_eq!(t.top[0], ("style".into(), Value::String("numpy".into())));
        assert_eq!(
            t.top[1],
            (
                "ignore".into(),
                Value::Array(vec![
                    Value::String("DOC203".into()),
                    Value::String("DOC501".into()),
                    Value::String("DOC502".into()),
                ])
            )
        );
        assert_eq!(t.style, [("types".into(), Value::String("never".into()))]);
        assert_eq!(t.untranslated.len(), 2, "{:?}", t.untranslated);
    }

    #[test]
    fn a_missing_table_is_named() {
        let t = translate(&table("[project]\nname = \"x\"\n"), &[Tool::Pydoclint]);
        assert_eq!(t.missing, ["pydoclint"]);
    }
}
