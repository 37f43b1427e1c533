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
