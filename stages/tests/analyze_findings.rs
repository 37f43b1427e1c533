//! Snapshots of the analyzer's findings on fixtures, in each style, with the
//! default settings and with interrogate-like ignore options.

use std::path::Path;

use docpipe_core::style::Style;
use docpipe_stages::analyze::{AnalyzeSettings, analyze, settle_constructor};
use docpipe_stages::python::{extract, read_source};
use docpipe_stages::style::{GoogleStyle, NumpyStyle, SphinxStyle};

/// One line per unit: its name, and its findings (or `ignored by ...`).
fn findings(fixture: &str, style: &dyn Style, settings: &AnalyzeSettings) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/analyze")
        .join(fixture);
    let file = read_source(&path).unwrap();
    let units = extract(&file).unwrap();
    let mut out = String::new();
    for mut unit in units {
        settle_constructor(&mut unit, settings, style);
        let unit = &unit;
        let name = if unit.qualname.is_empty() {
            "<module>".to_string()
        } else {
            unit.qualname.clone()
        };
        let analysis = analyze(unit, style, settings);
        if let Some(option) = analysis.ignored {
            out.push_str(&format!("{name}: ignored by {option}\n"));
            continue;
        }
        let found = analysis.findings;
        if found.is_empty() {
            out.push_str(&format!("{name}: ok\n"));
        }
        for f in found {
            out.push_str(&format!(
                "{name}: {}:{} {} {}\n",
                f.line, f.column, f.code, f.message
            ));
        }
    }
    out
}

#[test]
fn google_findings_with_default_settings() {
    insta::assert_snapshot!(
        "DOC_google.py",
        findings("google.py", &GoogleStyle, &AnalyzeSettings::default())
    );
}

#[test]
fn google_findings_with_ignore_options() {
    let settings = AnalyzeSettings {
        ignore_private: true,
        ignore_magic: true,
        ignore_init: true,
        ignore_nested: true,
        ignore_module: true,
        ignore: vec!["DOC5".into()],
        ..AnalyzeSettings::default()
    };
    insta::assert_snapshot!(
        "DOC_google.py_ignores",
        findings("google.py", &GoogleStyle, &settings)
    );
}

#[test]
fn select_limits_the_codes() {
    let settings = AnalyzeSettings {
        select: vec!["DOC1".into()],
        ..AnalyzeSettings::default()
    };
    let out = findings("google.py", &GoogleStyle, &settings);
    assert!(out.contains("DOC101") && out.contains("DOC102"), "{out}");
    assert!(!out.contains("DP10") && !out.contains("DOC20"), "{out}");
}

#[test]
fn numpy_findings() {
    insta::assert_snapshot!(
        "DOC_numpy.py",
        findings("numpy.py", &NumpyStyle, &AnalyzeSettings::default())
    );
}

#[test]
fn sphinx_findings() {
    insta::assert_snapshot!(
        "DOC_sphinx.py",
        findings("sphinx.py", &SphinxStyle, &AnalyzeSettings::default())
    );
}

#[test]
fn returns_documented_on_a_stub_is_not_extraneous() {
    let text = r#"class Base:
    def submit(self):
        """Submit.

        Returns:
            A future.
        """
        raise NotImplementedError()

    def configure(self):
        """Configure.

        Returns:
            Nothing.
        """
        pass  # subclasses override

    def run(self):
        """Run.

        Returns:
            A result.
        """
        self.started = True
"#;
    let file = docpipe_core::model::SourceFile::from_text("stub.py", text);
    let units = extract(&file).unwrap();
    let style = GoogleStyle;
    let codes = |qualname: &str| -> Vec<String> {
        let unit = units.iter().find(|u| u.qualname == qualname).unwrap();
        analyze(unit, &style, &AnalyzeSettings::default())
            .findings
            .into_iter()
            .map(|f| f.code.into_owned())
            .collect()
    };
    assert!(!codes("Base.submit").contains(&"DOC202".to_string()));
    assert!(!codes("Base.configure").contains(&"DOC202".to_string()));
    assert!(codes("Base.run").contains(&"DOC202".to_string()));
}

#[test]
fn a_returns_section_that_says_none_is_not_extraneous() {
    let text = "def a(x):\n    \"\"\"A.\n\n    Args:\n        x: X.\n\n    Returns:\n        None\n    \"\"\"\n    print(x)\n\n\ndef b(x):\n    \"\"\"B.\n\n    Args:\n        x: X.\n\n    Returns:\n        None: Nothing.\n    \"\"\"\n    print(x)\n\n\ndef c(x):\n    \"\"\"C.\n\n    Args:\n        x: X.\n\n    Returns:\n        Nothing useful.\n    \"\"\"\n    print(x)\n";
    let file = docpipe_core::model::SourceFile::from_text("none.py", text);
    let units = extract(&file).unwrap();
    let codes = |qualname: &str| -> Vec<String> {
        let unit = units.iter().find(|u| u.qualname == qualname).unwrap();
        analyze(unit, &GoogleStyle, &AnalyzeSettings::default())
            .findings
            .into_iter()
            .map(|f| f.code.into_owned())
            .collect()
    };
    assert!(codes("a").is_empty(), "{:?}", codes("a"));
    assert!(codes("b").is_empty(), "{:?}", codes("b"));
    assert_eq!(codes("c"), ["DOC202"]);
}

#[test]
fn keywords_documented_for_kwargs_and_returns_of_an_explicit_none_are_not_extraneous() {
    let text = "def options(a, **kwargs):\n    \"\"\"Set options.\n\n    Args:\n        a: A.\n        color: A keyword taken through kwargs.\n        **kwargs: The others.\n    \"\"\"\n\n\ndef strict(a):\n    \"\"\"Strict.\n\n    Args:\n        a: A.\n        color: Gone.\n    \"\"\"\n\n\nclass Base:\n    \"\"\"Base.\"\"\"\n\n    def info(self):\n        \"\"\"Information.\n\n        Returns:\n            Mapping[str, str]: What subclasses know.\n        \"\"\"\n        return None\n";
    let file = docpipe_core::model::SourceFile::from_text("kw.py", text);
    let units = extract(&file).unwrap();
    let codes = |qualname: &str| -> Vec<String> {
        let unit = units.iter().find(|u| u.qualname == qualname).unwrap();
        analyze(unit, &GoogleStyle, &AnalyzeSettings::default())
            .findings
            .into_iter()
            .map(|f| f.code.into_owned())
            .collect()
    };
    assert!(codes("options").is_empty(), "{:?}", codes("options"));
    assert_eq!(codes("strict"), ["DOC102"]);
    assert!(codes("Base.info").is_empty(), "{:?}", codes("Base.info"));
}

#[test]
fn a_function_annotated_to_return_none_needs_no_returns_section() {
    let text = "import warnings\n\n\ndef warn(message) -> None:\n    \"\"\"Warn.\n\n    Args:\n        message: What to say.\n    \"\"\"\n    return warnings.warn(message)\n\n\ndef value(message):\n    \"\"\"Value.\n\n    Args:\n        message: What to say.\n    \"\"\"\n    return warnings.warn(message)\n";
    let file = docpipe_core::model::SourceFile::from_text("none.py", text);
    let units = extract(&file).unwrap();
    let codes = |qualname: &str| -> Vec<String> {
        let unit = units.iter().find(|u| u.qualname == qualname).unwrap();
        analyze(unit, &GoogleStyle, &AnalyzeSettings::default())
            .findings
            .into_iter()
            .map(|f| f.code.into_owned())
            .collect()
    };
    assert!(codes("warn").is_empty(), "{:?}", codes("warn"));
    assert_eq!(codes("value"), ["DOC201"]);
}
