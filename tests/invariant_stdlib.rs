//! The writer's invariant on real code, in each style setting: over a sample
//! of the CPython standard library (every 25th file), `generate` with the
//! template model, then `check` reports nothing but placeholders (DP120) on
//! the units it wrote, a second `generate` writes nothing, and (NumPy) every
//! docstring written reads back through numpydoc's own parser as written.
//! `bench/invariant/run.sh` runs the same over the whole library.
//!
//! Needs `python3` (the standard library) and, for the NumPy part, a Python
//! with numpydoc: `scripts/test` makes one in `target/test-venv` (and names
//! it in `DOCPIPE_TEST_VENV`), or name a Python with `DOCPIPE_TEST_PYTHON`.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{repo, run};

/// Every 25th `.py` file of the standard library (sorted, no site-packages,
/// no tests' bad-syntax data), copied under `dir/lib`.
fn stdlib_sample(dir: &Path) -> usize {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3 is needed for this test: apt-get install -y python3");
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut copied = 0;
    for (i, file) in files.iter().enumerate() {
        if i % 25 != 0 {
            continue;
        }
        let rel = file.strip_prefix(&root).expect("under the root");
        let target = dir.join("lib").join(rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(file, &target).expect("copy");
        copied += 1;
    }
    copied
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "site-packages" && name != "__pycache__" {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// A Python with numpydoc, or a failure that says how to get one.
fn numpydoc_python() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("DOCPIPE_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("DOCPIPE_TEST_VENV").map(|v| PathBuf::from(v).join("bin/python")))
        .chain([repo().join("target/test-venv/bin/python")])
        .collect();
    for python in &candidates {
        let ok = Command::new(python)
            .args(["-c", "import numpydoc"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return python.clone();
        }
    }
    panic!(
        "this test reads NumPy docstrings with numpydoc, which none of {candidates:?} has: \
         run scripts/test (it creates target/test-venv), or `python3 -m venv target/test-venv && \
         target/test-venv/bin/pip install numpydoc`, or set DOCPIPE_TEST_PYTHON"
    );
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

/// Runs the invariant in `style`; returns the files `generate` wrote.
fn invariant(style: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = stdlib_sample(dir.path());
    assert!(files > 50, "only {files} files in the sample");
    let set = format!("style.name=\"{style}\"");
    let first = dir.path().join("first.json");
    let ran = run(
        dir.path(),
        &[
            "run",
            "generate",
            "lib",
            "-q",
            "--set",
            &set,
            "--report",
            first.to_str().expect("utf-8"),
        ],
    );
    let report = json(&first);
    assert!(
        report["files_written"].as_u64().unwrap_or(0) > 20,
        "{style}: {report}\n{}",
        ran.stderr
    );
    // Units generate could not write say why; their findings stay.
    let failed: BTreeSet<(String, String)> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| (f["path"].to_string(), f["qualname"].to_string()))
        .collect();

    let checked = run(
        dir.path(),
        &["run", "check", "lib", "--format", "json", "--set", &set],
    );
    let findings: serde_json::Value = serde_json::from_str(&checked.stdout).expect("json");
    let left: Vec<String> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !["DP120", "DP002", "DP003"].contains(&f["code"].as_str().unwrap_or("")))
        .filter(|f| !failed.contains(&(f["path"].to_string(), f["name"].to_string())))
        .map(|f| format!("{}:{} {} {}", f["path"], f["line"], f["code"], f["message"]))
        .collect();
    assert!(
        left.is_empty(),
        "{style}: check after generate:\n{}",
        left.join("\n")
    );

    let second = dir.path().join("second.json");
    run(
        dir.path(),
        &[
            "run",
            "generate",
            "lib",
            "-q",
            "--set",
            &set,
            "--report",
            second.to_str().expect("utf-8"),
        ],
    );
    let again = json(&second);
    assert_eq!(again["files_written"], 0, "{style}: second run {again}");
    assert_eq!(
        again["by_state"]["generated"], 0,
        "{style}: second run {again}"
    );

    let mut written = Vec::new();
    collect(&dir.path().join("lib"), &mut written);
    (dir, written)
}

#[test]
fn auto_generate_then_check_reports_only_placeholders() {
    invariant("auto");
}

#[test]
fn google_generate_then_check_reports_only_placeholders() {
    invariant("google");
}

#[test]
fn sphinx_generate_then_check_reports_only_placeholders() {
    invariant("sphinx");
}

#[test]
fn numpy_generate_then_check_reports_only_placeholders_and_numpydoc_agrees() {
    let python = numpydoc_python();
    let (_dir, files) = invariant("numpy");
    let out = Command::new(&python)
        .arg(repo().join("tests/support/numpydoc_check.py"))
        .arg("TODO")
        .args(&files)
        .output()
        .expect("run numpydoc");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "numpydoc disagrees:\n{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("read 0 docstrings"), "{stderr}");
}
