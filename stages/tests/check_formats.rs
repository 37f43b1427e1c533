//! Snapshots of the check report in each output format, and the exit verdict.

use std::path::Path;

use docpipe_core::model::Severity;
use docpipe_stages::check::{Format, Report, ReportFinding};

fn finding<'a>(
    path: &'a str,
    name: &'a str,
    code: &'a str,
    message: &'a str,
    line: usize,
    column: usize,
) -> ReportFinding<'a> {
    ReportFinding {
        path,
        path_bytes: None,
        name,
        code,
        message,
        line,
        column,
        fix: Some("Add a docstring"),
        severity: Severity::Error,
    }
}

fn report(fail_under: f64) -> Report<'static> {
    Report {
        definitions: 5,
        undocumented: 3,
        considered: 4,
        documented: 2,
        coverage: 50.0,
        fail_under,
        files: 2,
        file_errors: 1,
        findings: vec![
            finding(
                "pkg/a.py",
                "f",
                "DP102",
                "function `f` has no docstring",
                3,
                1,
            ),
            finding(
                "pkg/a.py",
                "g",
                "DOC101",
                "parameter `x, y` of `g` is not documented: 100%",
                9,
                5,
            ),
            finding("pkg/b.py", "", "DP003", "syntax error: expected `)`", 1, 12),
        ],
        color: false,
        root: Some(Path::new("/srv/project")),
        statistics: false,
    }
}

#[test]
fn text_format() {
    insta::assert_snapshot!("check_text", report(75.0).render(Format::Text));
}

#[test]
fn json_format() {
    insta::assert_snapshot!("check_json", report(0.0).render(Format::Json));
}

#[test]
fn github_format_escapes_properties_and_data() {
    insta::assert_snapshot!("check_github", report(0.0).render(Format::Github));
}

#[test]
fn sarif_format() {
    let mut sarif: serde_json::Value =
        serde_json::from_str(&report(0.0).render(Format::Sarif)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(3)
    );
    sarif["runs"][0]["tool"]["driver"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("check_sarif", sarif);
}

#[test]
fn the_headline_says_findings_files_and_coverage_with_plurals() {
    assert_eq!(
        report(0.0).headline(),
        "3 findings in 2 of 2 files checked; docstring coverage 50.0%"
    );
    assert_eq!(
        report(75.0).headline(),
        "3 findings in 2 of 2 files checked; docstring coverage 50.0%, under fail_under = 75%"
    );
    let mut one = report(0.0);
    one.files = 1;
    one.findings.truncate(1);
    assert_eq!(
        one.headline(),
        "1 finding in 1 file checked; docstring coverage 50.0%"
    );
    assert!(
        one.render(Format::Text)
            .contains("Found 1 problem in 1 file.")
    );
    one.findings.clear();
    assert_eq!(
        one.headline(),
        "no findings in 1 file checked; docstring coverage 50.0%"
    );
    assert!(
        one.render(Format::Text)
            .contains("All checks passed (1 file).")
    );
    one.files = 0;
    assert_eq!(one.headline(), "no file checked");
}

#[test]
fn problems_count_findings_and_low_coverage() {
    assert_eq!(report(0.0).problems(), 3);
    assert_eq!(report(50.0).problems(), 3);
    assert_eq!(report(50.1).problems(), 4);
    assert!(Format::parse("xml").is_err());
}
