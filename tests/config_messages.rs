//! Configuration mistakes as `docpipe` reports them: all at once, each once,
//! at the key or on the command line, in a user's words.

mod support;

use std::path::Path;

use support::repo;

fn docpipe(dir: &Path, args: &[&str]) -> (i32, String) {
    let ran = support::run(dir, args);
    (ran.status, ran.stderr)
}

/// The repository's pipeline.toml with `edits` applied, in a temp directory.
fn edited(edits: &[(&str, &str)]) -> tempfile::TempDir {
    let mut text = std::fs::read_to_string(repo().join("pipeline.toml")).expect("pipeline.toml");
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` is not in pipeline.toml");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pipeline.toml"), text).expect("write");
    dir
}

/// Lines starting with `error: `, the closing count left out.
fn errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error: ") && !l.contains(" problems in "))
        .collect()
}

#[test]
fn seven_different_mistakes_are_reported_in_one_run_each_once() {
    let dir = edited(&[
        // A shared section read by four stages, a value of the wrong type.
        ("width = 88", "width = \"88\""),
        // An enumerated value with a typo.
        ("provider = \"template\"", "provider = \"opneai\""),
        // A section name with a typo.
        ("[budget]", "[budjet]"),
        // A string where a list of strings goes.
        (
            "type = \"python-source\"",
            "type = \"python-source\"\nexclude = \"tests/**\"",
        ),
        // An option the stage does not have.
        (
            "type = \"python-extract\"",
            "type = \"python-extract\"\nthreads = 4",
        ),
        // An input naming no stage.
        (
            "type = \"docstring-analyze\"\ninputs = [\"extract\"]",
            "type = \"docstring-analyze\"\ninputs = [\"extracts\"]",
        ),
        // A pipeline naming no stage.
        (
            "stages = [\"source\", \"results\", \"extract\", \"docs\"]",
            "stages = [\"source\", \"results\", \"extract\", \"doc\"]",
        ),
    ]);
    let (status, stderr) = docpipe(dir.path(), &["validate"]);
    assert_eq!(status, 2, "{stderr}");
    let errors = errors(&stderr);
    assert_eq!(errors.len(), 7, "{stderr}");
    let mut unique = errors.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "a problem is reported twice:\n{stderr}");
    assert!(
        stderr.contains("error: 7 problems in pipeline.toml"),
        "{stderr}"
    );
    for rust_type in ["usize", "u32", "u64", "f64", "a sequence", "invalid type"] {
        assert!(!stderr.contains(rust_type), "`{rust_type}` in:\n{stderr}");
    }
    insta::assert_snapshot!(stderr);
}

#[test]
fn command_line_mistakes_point_at_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, stderr) = docpipe(
        dir.path(),
        &[
            "validate",
            "--set",
            "model.rpm=99999999999999999999999",
            "--set",
            "style.width=abc",
            "--set",
            "stages.extarct.concurrency=4",
            "--set",
            "model.structured_output=jsn",
            "--set",
            "stages.extract.concurrency=0",
            "--set",
            "nokey",
        ],
    );
    assert_eq!(status, 2, "{stderr}");
    assert_eq!(errors(&stderr).len(), 6, "{stderr}");
    assert!(!stderr.contains("<built-in pipeline.toml>:"), "{stderr}");
    insta::assert_snapshot!("command_line_set", stderr);

    std::fs::write(dir.path().join("a.py"), "x = 1\n").expect("write");
    let (status, stderr) = docpipe(dir.path(), &["run", "check", "a.py", "--format", "jsn"]);
    assert_eq!(status, 2, "{stderr}");
    insta::assert_snapshot!("command_line_format", stderr);
}

#[test]
fn jobs_must_be_a_whole_number_from_1_to_4096() {
    let dir = tempfile::tempdir().expect("temp dir");
    for bad in ["0", "4097", "100000", "99999999"] {
        let (status, stderr) = docpipe(dir.path(), &["-j", bad, "validate"]);
        assert_eq!(status, 2, "-j {bad}: {stderr}");
        assert!(
            stderr.contains("give a whole number from 1 to 4096"),
            "-j {bad}: {stderr}"
        );
    }
    let (status, stderr) = docpipe(dir.path(), &["-j", "4096", "validate"]);
    assert_eq!(status, 0, "{stderr}");
}

#[test]
fn a_configuration_without_stages_or_a_bare_name_says_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.py"), "x = 1\n").expect("write");
    // A file that starts from nothing (not from the built-in default) and declares nothing.
    std::fs::write(dir.path().join("empty.toml"), "extends = false\n").expect("write");
    let (status, stderr) = docpipe(
        dir.path(),
        &["--config", "empty.toml", "run", "check", "a.py"],
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("empty.toml declares no stages"), "{stderr}");
    assert!(!stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn init_writes_into_a_directory_and_names_a_missing_parent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, stderr) = docpipe(dir.path(), &["init", "newdir"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(dir.path().join("newdir/pipeline.toml").is_file());
    std::fs::create_dir(dir.path().join("existing")).expect("mkdir");
    let (status, _) = docpipe(dir.path(), &["init", "existing"]);
    assert_eq!(status, 0);
    assert!(dir.path().join("existing/pipeline.toml").is_file());
    let (status, stderr) = docpipe(dir.path(), &["init", "sub/dir/x.toml"]);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("the directory sub/dir does not exist"),
        "{stderr}"
    );
    assert!(!dir.path().join("sub").exists());
}
