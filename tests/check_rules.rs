//! `docpipe run check` on the fixtures of `tests/fixtures/check`: what it
//! reports on parameters Python binds, constructor parameters, every section
//! form of the three conventions, empty docstrings, exceptions and types, as
//! a user sees it (text) and as CI reads it (JSON), and every code in every
//! format. One snapshot per fixture, setting and format.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use docpipe_core::style::Style;
use docpipe_stages::style::GoogleStyle;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

/// `docpipe run check PATH --format FORMAT` with `--set` overrides, run in
/// the fixtures directory so that paths are shown relative to it; returns
/// the exit status and standard output.
fn check_in(dir: &Path, path: &str, format: &str, sets: &[&str]) -> (i32, String) {
    let mut cmd = cargo_bin_cmd!("docpipe");
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .args(["run", "check", path, "--format", format]);
    for set in sets {
        cmd.args(["--set", set]);
    }
    let out = cmd.output().expect("docpipe runs");
    // SARIF names the working directory as a file URI: the checkout's path.
    let root = format!("file://{}/", dir.display());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace(&root, "file:///<fixtures>/"),
    )
}

fn check(path: &str, format: &str, sets: &[&str]) -> (i32, String) {
    check_in(&fixtures(), path, format, sets)
}

/// Snapshots `path`'s check output in text and JSON under `name`.
fn snapshot_text_and_json(name: &str, path: &str, sets: &[&str]) {
    for format in ["text", "json"] {
        let (status, stdout) = check(path, format, sets);
        insta::assert_snapshot!(
            format!("{name}_{format}"),
            format!("exit {status}\n{stdout}")
        );
    }
}

#[test]
fn only_the_parameter_python_binds_is_exempt() {
    snapshot_text_and_json("bound", "bound.py", &[]);
}

#[test]
fn constructor_parameters_are_checked_where_init_params_puts_them() {
    snapshot_text_and_json("init_either", "init.py", &[]);
    snapshot_text_and_json("init_class", "init.py", &["style.init_params=class"]);
    snapshot_text_and_json("init_init", "init.py", &["style.init_params=init"]);
    snapshot_text_and_json(
        "init_ignore_init",
        "init.py",
        &["stages.analyze.ignore_init=true"],
    );
}

#[test]
fn keyword_and_other_parameter_sections_document_parameters() {
    snapshot_text_and_json("sections_google", "sections_google.py", &[]);
    snapshot_text_and_json("sections_numpy", "sections_numpy.py", &["style.name=numpy"]);
    snapshot_text_and_json(
        "sections_sphinx",
        "sections_sphinx.py",
        &["style.name=sphinx"],
    );
}

#[test]
fn an_empty_docstring_counts_as_missing() {
    snapshot_text_and_json("empty", "empty.py", &[]);
}

#[test]
fn documented_exceptions_that_are_never_raised_are_opt_in() {
    let (status, stdout) = check("raises.py", "text", &[]);
    assert_eq!(status, 0, "{stdout}");
    assert!(!stdout.contains("DOC502"), "{stdout}");
    snapshot_text_and_json(
        "raises_extend_select",
        "raises.py",
        &["stages.analyze.extend_select=[\"DOC502\"]"],
    );
}

#[test]
fn noqa_on_the_header_or_after_the_docstring_suppresses_findings() {
    snapshot_text_and_json("noqa", "noqa.py", &[]);
}

#[test]
fn docpipe_ignore_comments_silence_exactly_what_they_name() {
    snapshot_text_and_json("ignore", "ignore", &[]);
    let (status, stdout) = check_in(&fixtures(), "ignore", "text", &[]);
    assert_eq!(status, 1);
    assert!(!stdout.contains("skipped.py"), "{stdout}");
    assert!(
        !stdout.contains("DP130"),
        "unused ignores are opt-in: {stdout}"
    );
    let mut cmd = cargo_bin_cmd!("docpipe");
    let out = cmd
        .current_dir(fixtures())
        .env("NO_COLOR", "1")
        .args([
            "run",
            "check",
            "ignore",
            "--warn-unused-ignores",
            "--no-cache",
        ])
        .output()
        .expect("docpipe runs");
    insta::assert_snapshot!("ignore_warn_unused", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn generate_leaves_alone_what_docpipe_ignore_silences() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["comments.py", "skipped.py"] {
        std::fs::copy(fixtures().join("ignore").join(name), dir.path().join(name)).expect("copy");
    }
    let out = cargo_bin_cmd!("docpipe")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["run", "generate", ".", "--diff", "--no-cache"])
        .output()
        .expect("docpipe runs");
    let diff = String::from_utf8_lossy(&out.stdout);
    // `ignore-file`: the file is not touched.
    assert!(!diff.contains("skipped.py"), "{diff}");
    // Two units change: `names_one_code` gets Returns but no entry for the
    // parameters its comment silences; `in_the_body` gets both. The units
    // whose findings are all silenced (`names_two_codes`, `bare`) are kept.
    assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
    assert!(!diff.contains("+        b: TODO."), "{diff}");
    assert!(diff.contains("+        a: TODO."), "{diff}");
}

#[test]
fn documented_types_that_contradict_annotations() {
    snapshot_text_and_json("types", "types.py", &[]);
}

#[test]
fn every_code_in_every_format() {
    for format in ["text", "json", "github", "gitlab", "junit", "sarif"] {
        let (status, stdout) = check(
            "codes",
            format,
            &["stages.analyze.extend_select=[\"DOC502\"]"],
        );
        assert_eq!(status, 1, "{stdout}");
        insta::assert_snapshot!(format!("codes_{format}"), stdout);
    }
}

#[test]
fn a_code_that_is_no_longer_docpipes_is_a_configuration_error() {
    let mut cmd = cargo_bin_cmd!("docpipe");
    let out = cmd
        .current_dir(fixtures())
        .env("NO_COLOR", "1")
        .args(["run", "check", "bound.py", "--set"])
        .arg("stages.analyze.ignore=[\"DOC301\"]")
        .output()
        .expect("docpipe runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`DOC301` is not a docpipe finding code"),
        "{stderr}"
    );
    assert!(stderr.contains("is now `DOC201`"), "{stderr}");
}

#[test]
fn generate_then_check_agree_on_constructor_parameters_in_every_setting() {
    for setting in ["either", "class", "init"] {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["init.py", "bound.py", "sections_google.py"] {
            std::fs::copy(fixtures().join(name), dir.path().join(name)).expect("copy");
        }
        let set = format!("style.init_params={setting}");
        let mut generate = cargo_bin_cmd!("docpipe");
        let out = generate
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["run", "generate", ".", "--set", &set])
            .output()
            .expect("docpipe runs");
        assert!(
            out.status.success(),
            "{setting}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (status, stdout) = check_in(
            dir.path(),
            ".",
            "text",
            &[&set, "stages.analyze.ignore=[\"DP120\"]"],
        );
        assert_eq!(status, 0, "{setting}: {stdout}");
        let units = docpipe_stages::python::extract_path(&dir.path().join("init.py"))
            .expect("init.py still parses");
        let documents = |qualname: &str, names: &[&str]| -> bool {
            let unit = units.iter().find(|u| u.qualname == qualname);
            let doc = unit
                .and_then(|u| u.docstring.as_ref())
                .map(|d| GoogleStyle.parse(&d.value))
                .unwrap_or_default();
            names.iter().all(|n| doc.param(n).is_some())
        };
        for (class, params, either) in [
            ("OnClass", &["a", "b"][..], "class"),
            ("OnInit", &["a", "b"][..], "init"),
            ("Neither", &["a"][..], "init"),
            ("InitWithoutDocstring", &["a"][..], "init"),
        ] {
            let holder = if setting == "either" { either } else { setting };
            let init = format!("{class}.__init__");
            let (on, off) = if holder == "class" {
                (class, init.as_str())
            } else {
                (init.as_str(), class)
            };
            assert!(
                documents(on, params),
                "{setting}: {on} documents {params:?}"
            );
            if !matches!(class, "OnClass" | "OnInit") {
                // Nothing was documented on the other docstring, and nothing is added there.
                assert!(
                    !documents(off, &params[..1]),
                    "{setting}: {off} documents them too"
                );
            }
        }
    }
}
