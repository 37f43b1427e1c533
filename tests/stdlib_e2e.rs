//! End to end over a copy of the whole CPython standard library that ships
//! with the machine's `python3`, with the offline template model: after
//! `generate`, Python itself (`tests/support/same_code.py`, its `ast` and
//! `tokenize`, independent of the tree-sitter check the writer makes) finds
//! every file that compiled before compiling after, its code and comments
//! unchanged, and the files it rejects untouched; a second `generate`
//! changes nothing. The original library is only read.
//!
//! Needs `python3` (`apt-get install -y python3`).

mod support;

use std::path::Path;
use std::process::Command;

use support::{repo, run};

fn python(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("python3")
        .args(args)
        .output()
        .expect("python3 is needed for this test: apt-get install -y python3")
}

/// `docpipe run generate lib` in `dir`: its report, and its stderr.
fn generate(dir: &Path, name: &str) -> (serde_json::Value, String) {
    let path = dir.join(name);
    let ran = run(
        dir,
        &[
            "run",
            "generate",
            "lib",
            "-q",
            "--report",
            path.to_str().expect("utf-8"),
        ],
    );
    let report = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no report ({e}): {}", ran.stderr));
    let report = serde_json::from_str(&report).expect("the report is JSON");
    (report, ran.stderr)
}

#[test]
fn generate_over_the_standard_library_changes_docstrings_only_and_settles() {
    let dir = tempfile::tempdir().expect("temp dir");
    let before = dir.path().join("before");
    let lib = dir.path().join("lib");
    for target in [&before, &lib] {
        let copied = python(&[
            repo().join("bench/copy_stdlib.py").as_os_str(),
            target.as_os_str(),
        ]);
        assert!(copied.status.success(), "{copied:?}");
    }

    let (first, stderr) = generate(dir.path(), "first.json");
    let written = first["files_written"].as_u64().unwrap_or(0);
    assert!(written > 1_000, "{first}\n{stderr}");
    assert!(
        first["by_state"]["generated"].as_u64().unwrap_or(0) > 50_000,
        "{first}"
    );

    let compared = python(&[
        repo().join("tests/support/same_code.py").as_os_str(),
        before.as_os_str(),
        lib.as_os_str(),
    ]);
    let said = String::from_utf8_lossy(&compared.stdout);
    assert!(compared.status.success(), "{said}");
    assert!(
        said.contains(&format!(" {written} changed, 0 problems")),
        "Python counts other changed files than docpipe wrote ({written}): {said}"
    );

    let (second, _) = generate(dir.path(), "second.json");
    assert_eq!(second["files_written"], 0, "{second}");
    assert_eq!(second["by_state"]["generated"], 0, "{second}");
    assert_eq!(second["by_state"]["cached"], 0, "{second}");
}
