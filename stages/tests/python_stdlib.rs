//! Extraction over a copy of the CPython standard library must count exactly
//! the definitions (and the undocumented ones) that Python's own `ast` counts,
//! and every file Python rejects must be reported as a syntax or decoding error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use docpipe_stages::python::{extract, extract_in_pieces, read_source_detailed};

const AST_COUNT: &str = r#"
import ast, json, os, sys, warnings
warnings.simplefilter("ignore")
root = sys.argv[1]
out = {}
for d, dirs, files in os.walk(root):
    dirs.sort()
    for f in sorted(files):
        if not f.endswith(".py"):
            continue
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root)
        try:
            with open(p, "rb") as fh:
                source = fh.read()
            # Accepted means the compiler accepts it (future imports included);
            # the tree counted is the one ast.parse gives.
            compile(source, p, "exec")
            tree = compile(source, p, "exec", ast.PyCF_ONLY_AST)
        except (SyntaxError, ValueError, UnicodeDecodeError, LookupError):
            out[rel] = None
            continue
        defs = undoc = 0
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                defs += 1
                if ast.get_docstring(node, clean=False) is None:
                    undoc += 1
        out[rel] = [defs, undoc]
json.dump(out, sys.stdout)
"#;

fn stdlib() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Copies every `.py` file of `from` (without site-packages) under `to`.
fn copy_py_tree(from: &Path, to: &Path) {
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n == "site-packages" || n == "__pycache__")
                {
                    continue;
                }
                stack.push(path);
            } else if ft.is_file() && path.extension().is_some_and(|e| e == "py") {
                let rel = path.strip_prefix(from).unwrap_or(&path);
                let target = to.join(rel);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).unwrap();
                }
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
}

#[test]
fn stdlib_definitions_match_pythons_ast() {
    let Some(stdlib) = stdlib() else {
        panic!(
            "this test compares with Python's ast and needs python3 on PATH (apt-get install python3)"
        );
    };
    let copy = tempfile::tempdir().unwrap();
    copy_py_tree(&stdlib, copy.path());
    let out = Command::new("python3")
        .args(["-c", AST_COUNT])
        .arg(copy.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: BTreeMap<String, Option<(usize, usize)>> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        expected.len() > 1000,
        "the copy has only {} files",
        expected.len()
    );

    let (mut py_defs, mut py_undoc, mut our_defs, mut our_undoc) = (0, 0, 0, 0);
    let mut undecodable = Vec::new();
    let mut mismatches = Vec::new();
    let (mut pieced, mut pieces) = (0, 0);
    for (rel, want) in &expected {
        let path = copy.path().join(rel);
        let got = match read_source_detailed(&path) {
            Ok(file) => {
                let whole = extract(&file);
                // Parsed a statement at a time (the smallest pieces), the
                // file must give the same units, or the same error.
                let (in_pieces, n) = extract_in_pieces(&file, 1);
                if in_pieces != whole {
                    mismatches.push(format!("{rel}: other units when parsed in {n} pieces"));
                }
                if n > 1 {
                    pieced += 1;
                    pieces += n;
                }
                whole.ok().map(|units| {
                    (
                        units.len(),
                        units.iter().filter(|u| u.docstring.is_none()).count(),
                    )
                })
            }
            Err(e) => {
                // A coding docpipe does not decode: reported, and left out of both counts.
                if want.is_some() {
                    undecodable.push(format!("{rel}: {e}"));
                }
                continue;
            }
        };
        if let Some((d, u)) = want {
            py_defs += d;
            py_undoc += u;
        }
        if let Some((d, u)) = got {
            our_defs += d;
            our_undoc += u;
        }
        if &got != want {
            mismatches.push(format!("{rel}: python {want:?}, docpipe {got:?}"));
        }
    }
    println!("{pieced} files parsed in pieces too, {pieces} pieces in all");
    assert!(pieced > 1000, "only {pieced} files were parsed in pieces");
    println!(
        "{} files; python: {py_defs} definitions, {py_undoc} undocumented; docpipe: {our_defs}, {our_undoc}; {} file(s) in codings docpipe does not decode: {undecodable:?}",
        expected.len(),
        undecodable.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatching file(s):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert_eq!((our_defs, our_undoc), (py_defs, py_undoc));
    assert!(
        undecodable.is_empty(),
        "files Python reads and docpipe cannot decode: {undecodable:?}"
    );
}
