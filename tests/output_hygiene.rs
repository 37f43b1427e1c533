//! What `docpipe run check` prints stays readable and exact whatever the
//! file names and messages hold: control characters are escaped in the
//! text and GitHub formats, paths that are not UTF-8 are shown escaped and
//! kept exactly in JSON and SARIF, SARIF validates against the official
//! 2.1.0 schema, and `--color always` colours findings.

mod support;

use std::path::{Path, PathBuf};

/// A project whose names and contents are awkward on purpose.
fn odd_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &Path, text: &[u8]| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write(Path::new("dir with space/ü.py"), b"def g():\n    pass\n");
    write(Path::new("100% #1.py"), b"def h():\n    pass\n");
    // A NUL byte: the syntax error quotes it.
    write(Path::new("nul.py"), b"def f(x):\n    return x\x00 + 1\n");
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        write(Path::new("new\nline.py"), b"x = 1\n");
        write(
            Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.py")),
            b"def k():\n    pass\n",
        );
    }
    dir
}

fn check(dir: &Path, args: &[&str]) -> String {
    let out = support::docpipe(dir)
        .args(["run", "check", "."])
        .args(args)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the report is UTF-8")
}

/// Escapes the bare `]` of the SARIF schema's `language` patterns; returns
/// how many it fixed.
fn fix_language_patterns(value: &mut serde_json::Value) -> usize {
    const AS_PUBLISHED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    const ESCAPED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$";
    match value {
        serde_json::Value::Object(map) => map
            .iter_mut()
            .map(|(k, v)| match v {
                serde_json::Value::String(p) if k == "pattern" && p == AS_PUBLISHED => {
                    *p = ESCAPED.to_string();
                    1
                }
                other => fix_language_patterns(other),
            })
            .sum(),
        serde_json::Value::Array(items) => items.iter_mut().map(fix_language_patterns).sum(),
        _ => 0,
    }
}

/// Every `uri` value in `value`.
fn collect_uris(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("uri", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => collect_uris(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_uris(v, out)),
        _ => {}
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex digits");
            out.push(u8::from_str_radix(hex, 16).expect("a byte"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

#[test]
fn sarif_validates_against_the_official_schema_and_its_uris_map_back_to_the_files() {
    let dir = odd_project();
    let sarif: serde_json::Value =
        serde_json::from_str(&check(dir.path(), &["--format", "sarif"])).expect("json");
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif-schema-2.1.0.json"),
        )
        .expect("the vendored schema"),
    )
    .expect("schema json");
    // The schema's pattern for `language` (of a run and of a tool
    // component) has a bare `]` (`...-[a-zA-Z]{2}]?$`), which JSON Schema's
    // ECMA-262 regexes in Unicode mode reject, so the crate would not
    // compile the schema. Escaped, it means what it meant; docpipe sets no
    // `language` anyway.
    let fixed = fix_language_patterns(&mut schema);
    assert_eq!(fixed, 2, "the schema changed: review this fix");
    // Formats asserted: `uri` for the bases, `uri-reference` for locations.
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut uris = Vec::new();
    collect_uris(&sarif, &mut uris);
    assert!(uris.len() >= 5, "{uris:?}");
    // A URI that is not percent-encoded fails the schema: the check bites.
    let mut raw = sarif.clone();
    raw["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        serde_json::json!("dir with space/ü.py");
    assert!(!validator.is_valid(&raw));

    let run = &sarif["runs"][0];
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("a base for relative URIs");
    let canonical = std::fs::canonicalize(dir.path()).expect("canonical");
    assert_eq!(
        path_of(&percent_decode(root.trim_start_matches("file://"))),
        canonical.join(""),
        "{root}"
    );
    let results = run["results"].as_array().expect("results");
    assert!(results.len() >= 4, "{results:#?}");
    for r in results {
        let location = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uriBaseId"], "%SRCROOT%");
        let uri = location["uri"].as_str().expect("uri");
        let path = dir.path().join(path_of(&percent_decode(uri)));
        assert!(path.is_file(), "{uri} does not map back to a file");
    }
}

#[test]
fn json_keeps_every_path_exact_and_text_escapes_what_a_terminal_would_act_on() {
    let dir = odd_project();
    let json: serde_json::Value =
        serde_json::from_str(&check(dir.path(), &["--format", "json"])).expect("json");
    let findings = json["findings"].as_array().expect("findings");
    for f in findings {
        let exact = match f["path_hex"].as_str() {
            Some(hex) => (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect(),
            None => f["path"].as_str().expect("path").as_bytes().to_vec(),
        };
        assert!(
            dir.path().join(path_of(&exact)).is_file(),
            "{f} does not map back to a file"
        );
    }
    let nul = findings
        .iter()
        .find(|f| f["code"] == "DP003")
        .expect("the syntax error");
    assert!(nul["message"].as_str().expect("message").contains('\0'));

    for format in ["text", "github"] {
        let out = check(dir.path(), &["--format", format]);
        assert!(!out.contains('\0'), "{format}: a raw NUL: {out:?}");
        assert!(out.contains("\\0"), "{format}: {out}");
        // One line per finding, plus the summary lines: no name broke a line.
        let findings_lines = out.lines().filter(|l| l.contains("DP")).count();
        assert_eq!(findings_lines, findings.len(), "{format}: {out}");
        #[cfg(unix)]
        {
            // GitHub decodes %0A in a property back into the newline.
            let newline = if format == "text" {
                "new\\nline.py"
            } else {
                "new%0Aline.py"
            };
            assert!(out.contains(newline), "{format}: {out}");
            assert!(out.contains("caf\\xe9.py"), "{format}: {out}");
        }
    }
}

#[test]
fn color_always_colours_codes_and_paths_and_never_does_not() {
    let dir = odd_project();
    let coloured = check(dir.path(), &["--color", "always"]);
    assert!(coloured.contains("\x1b[1;31mDP102\x1b[0m"), "{coloured}");
    assert!(coloured.contains("\x1b[1m./nul.py\x1b[0m"), "{coloured}");
    let plain = check(dir.path(), &["--color", "never"]);
    assert!(!plain.contains('\x1b'), "{plain}");
}

/// The findings of the JSON report as `(path, line, column, code)`.
fn json_findings(dir: &Path) -> Vec<(String, u64, u64, String)> {
    let report: serde_json::Value =
        serde_json::from_str(&check(dir, &["--format", "json"])).expect("json");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                f["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `line` read as a problem matcher reads it (`^(.*):(\d+):(\d+): (\S+) (.*)$`,
/// the last `:line:col: ` of the line winning, as a greedy `(.*)` does).
fn matched(line: &str) -> Option<(String, u64, u64, String)> {
    let bytes = line.as_bytes();
    let mut found = None;
    for (i, _) in line.match_indices(':') {
        let rest = &line[i + 1..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let n1 = digits(rest);
        if n1 == 0 || rest.as_bytes().get(n1) != Some(&b':') {
            continue;
        }
        let rest2 = &rest[n1 + 1..];
        let n2 = digits(rest2);
        if n2 == 0 || !rest2[n2..].starts_with(": ") {
            continue;
        }
        let tail = &rest2[n2 + 2..];
        let Some((code, _message)) = tail.split_once(' ') else {
            continue;
        };
        found = Some((
            String::from_utf8_lossy(&bytes[..i]).into_owned(),
            rest[..n1].parse().unwrap_or_default(),
            rest2[..n2].parse().unwrap_or_default(),
            code.to_string(),
        ));
    }
    found
}

#[test]
fn text_findings_keep_the_form_problem_matchers_parse_and_nothing_else_does() {
    let dir = odd_project();
    let text = check(dir.path(), &["--format", "text"]);
    let mut from_text: Vec<(String, u64, u64, String)> = text.lines().filter_map(matched).collect();
    let mut from_json = json_findings(dir.path());
    // The text shows control characters escaped, JSON as they are: compare the rest.
    let key = |f: &(String, u64, u64, String)| (f.1, f.2, f.3.clone());
    from_text.sort_by_key(key);
    from_json.sort_by_key(key);
    assert_eq!(
        from_text.iter().map(key).collect::<Vec<_>>(),
        from_json.iter().map(key).collect::<Vec<_>>(),
        "{text}"
    );
    assert!(!from_json.is_empty());
    assert_eq!(
        text.lines().count(),
        from_json.len() + 2,
        "one line per finding, then the problems and coverage lines: {text}"
    );
}

#[test]
fn junit_has_the_structure_its_schema_requires() {
    let dir = odd_project();
    let xml = check(dir.path(), &["--format", "junit"]);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let number = |n: roxmltree::Node<'_, '_>, attr: &str| -> usize {
        n.attribute(attr)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("<{}> has no numeric `{attr}`", n.tag_name().name()))
    };
    let findings = json_findings(dir.path()).len();
    let mut tests = 0;
    let mut failures = 0;
    for suite in root.children().filter(roxmltree::Node::is_element) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert!(suite.attribute("name").is_some_and(|n| !n.is_empty()));
        let cases: Vec<_> = suite
            .children()
            .filter(roxmltree::Node::is_element)
            .collect();
        let failed = cases
            .iter()
            .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
            .count();
        assert_eq!(number(suite, "tests"), cases.len());
        assert_eq!(number(suite, "failures"), failed);
        assert_eq!(number(suite, "errors"), 0);
        for case in &cases {
            assert_eq!(case.tag_name().name(), "testcase");
            assert!(case.attribute("name").is_some() && case.attribute("classname").is_some());
            for failure in case.children().filter(|f| f.has_tag_name("failure")) {
                assert!(failure.attribute("message").is_some());
                assert!(failure.attribute("type").is_some());
            }
        }
        tests += cases.len();
        failures += failed;
    }
    // One case per finding, and the coverage case.
    assert_eq!(tests, findings + 1);
    assert_eq!(number(root, "tests"), tests);
    assert_eq!(number(root, "failures"), failures);
}

#[test]
fn gitlab_code_quality_issues_have_the_fields_gitlab_requires() {
    let dir = odd_project();
    let issues: serde_json::Value =
        serde_json::from_str(&check(dir.path(), &["--format", "gitlab"])).expect("json");
    let issues = issues.as_array().expect("an array of issues");
    assert_eq!(issues.len(), json_findings(dir.path()).len());
    let mut fingerprints = std::collections::HashSet::new();
    for issue in issues {
        assert!(issue["description"].is_string(), "{issue}");
        assert!(issue["check_name"].is_string(), "{issue}");
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap_or_default()),
            "{issue}"
        );
        assert!(issue["location"]["path"].is_string(), "{issue}");
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap_or(0) >= 1);
        let fingerprint = issue["fingerprint"].as_str().expect("fingerprint");
        assert!(
            fingerprints.insert(fingerprint.to_string()),
            "{fingerprint} twice"
        );
    }
}

#[test]
fn statistics_count_findings_per_code() {
    let dir = odd_project();
    let findings = json_findings(dir.path());
    let mut expected: std::collections::BTreeMap<String, u64> = Default::default();
    for f in &findings {
        *expected.entry(f.3.clone()).or_default() += 1;
    }
    let json: serde_json::Value =
        serde_json::from_str(&check(dir.path(), &["--statistics", "--format", "json"]))
            .expect("json");
    let counted: std::collections::BTreeMap<String, u64> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap_or_default().to_string(),
                c["count"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(counted, expected);
    let text = check(dir.path(), &["--statistics"]);
    for (code, n) in &expected {
        assert!(
            text.lines().any(|l| {
                let cols: Vec<&str> = l.split('\t').map(str::trim).collect();
                cols.first() == Some(&n.to_string().as_str()) && cols.get(1) == Some(&code.as_str())
            }),
            "{code} {n}: {text}"
        );
    }
    let refused = support::run(
        dir.path(),
        &["run", "check", ".", "--statistics", "--format", "sarif"],
    );
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--statistics"),
        "{}",
        refused.stderr
    );
}

#[test]
fn output_file_receives_the_report_and_stdout_stays_empty() {
    let dir = odd_project();
    let on_stdout = check(dir.path(), &["--format", "junit"]);
    let out = support::docpipe(dir.path())
        .args([
            "run",
            "check",
            ".",
            "--format",
            "junit",
            "--output-file",
            "report.xml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(dir.path().join("report.xml")).expect("report");
    assert_eq!(written, on_stdout);
    let bad = support::run(
        dir.path(),
        &["run", "check", ".", "--output-file", "no/such/dir/r.xml"],
    );
    assert_eq!(bad.status, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--output-file"), "{}", bad.stderr);
}
