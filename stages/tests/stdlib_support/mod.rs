//! The CPython standard library as a test corpus: where it is, and its
//! Python files in a stable order.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The standard library of the `python3` on PATH; a test that needs it
/// fails, saying how to get it, when there is none.
pub fn stdlib() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("this test needs python3 on PATH (apt-get install -y python3)");
    assert!(out.status.success(), "python3 could not name its stdlib");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The `.py` files under `root`, sorted by path, without `site-packages`
/// and `__pycache__`.
pub fn python_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(root, &mut out);
    out
}

fn collect(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_dir() {
            if name != "site-packages" && name != "__pycache__" {
                collect(&p, out);
            }
        } else if name.ends_with(".py") {
            out.push(p);
        }
    }
}

/// Python source that defines `strip(tree)`: the dump of an `ast` tree
/// without the docstrings of its module, classes and functions, to compare
/// two texts' code. Scripts put their own code after it.
pub const AST_WITHOUT_DOCSTRINGS: &str = r#"
import ast

def strip(tree):
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = body[1:]
    return ast.dump(tree, include_attributes=False)

"#;

/// Runs the Python `script` (a program that reads the JSON file named by
/// its first argument and prints JSON) on `input`, and returns what it printed.
pub fn run_python<T: serde::de::DeserializeOwned>(
    script: &str,
    input: &impl serde::Serialize,
) -> T {
    let dir = tempfile::tempdir().expect("temp dir");
    let input_path = dir.path().join("input.json");
    std::fs::write(&input_path, serde_json::to_vec(input).expect("json")).expect("write input");
    let script_path = dir.path().join("script.py");
    std::fs::write(&script_path, script).expect("write script");
    let out = Command::new("python3")
        .arg(&script_path)
        .arg(&input_path)
        .output()
        .expect("this test needs python3 on PATH (apt-get install -y python3)");
    assert!(
        out.status.success(),
        "the Python script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the Python script's JSON output")
}
