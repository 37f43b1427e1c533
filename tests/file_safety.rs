//! `docpipe run` against the files a user really has: symbolic links in and
//! out of the tree, hard links, foreign owners, read-only files, extended
//! attributes, code CPython rejects, special files, virtual environments
//! without ignore files, and flags that would do nothing.

#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;

const UNDOCUMENTED: &str = "def add(a, b):\n    return a + b\n";

fn docpipe(dir: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("docpipe");
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs docpipe in `dir`; returns (status, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = docpipe(dir).args(args).output().expect("run docpipe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

fn documented(path: &Path) -> bool {
    read(path).contains("\"\"\"")
}

/// A project directory with no ignore files and no pipeline.toml.
fn project() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Whether this process runs as root: a new file is owned by uid 0.
fn running_as_root(dir: &Path) -> bool {
    let probe = dir.join(".root-probe");
    write(&probe, "");
    let uid = std::fs::metadata(&probe).expect("stat").uid();
    std::fs::remove_file(&probe).expect("rm");
    uid == 0
}

#[test]
fn a_link_inside_the_tree_is_read_once_and_its_target_written() {
    let dir = project();
    let p = dir.path();
    write(&p.join("pkg/real.py"), UNDOCUMENTED);
    std::os::unix::fs::symlink("pkg/real.py", p.join("alias.py")).expect("symlink");

    let (code, out, _) = run(p, &["run", "check", ".", "--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "DP102")
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        ["./pkg/real.py"],
        "one finding, under the target's path"
    );

    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 0, "{err}");
    assert!(documented(&p.join("pkg/real.py")));
    let link = std::fs::symlink_metadata(p.join("alias.py")).expect("lstat");
    assert!(link.file_type().is_symlink(), "the link is still a link");
    assert_eq!(
        std::fs::read_link(p.join("alias.py")).expect("readlink"),
        PathBuf::from("pkg/real.py")
    );
}

#[test]
fn a_link_out_of_the_tree_is_reported_and_never_written_through() {
    let dir = project();
    let outside = dir.path().join("outside/o.py");
    write(&outside, UNDOCUMENTED);
    let proj = dir.path().join("proj");
    std::fs::create_dir_all(&proj).expect("mkdir");
    std::os::unix::fs::symlink("../outside/o.py", proj.join("link.py")).expect("symlink");

    // Walked.
    let (code, _, err) = run(&proj, &["run", "generate", "."]);
    assert_eq!(code, 0, "a link is reported, not an error: {err}");
    assert!(
        err.contains("skipped: ./link.py:1:1: DP005") && err.contains("symbolic link"),
        "{err}"
    );
    assert_eq!(read(&outside), UNDOCUMENTED);
    assert!(
        std::fs::symlink_metadata(proj.join("link.py"))
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    // Named on the command line.
    let (_, _, err) = run(&proj, &["run", "generate", "link.py"]);
    assert!(err.contains("skipped: link.py:1:1: DP005"), "{err}");
    assert_eq!(read(&outside), UNDOCUMENTED);
    assert!(
        std::fs::symlink_metadata(proj.join("link.py"))
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_foreign_owned_file_keeps_its_owner_group_and_mode_as_root() {
    let dir = project();
    let p = dir.path();
    assert!(
        running_as_root(p),
        "this test gives a file to uid 1234 and must run as root (CI does; run `sudo cargo test --test file_safety` by hand)"
    );
    let path = p.join("owned.py");
    write(&path, UNDOCUMENTED);
    std::os::unix::fs::chown(&path, Some(1234), Some(5678)).expect("chown");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");

    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 0, "{err}");
    assert!(documented(&path));
    let meta = std::fs::metadata(&path).expect("stat");
    assert_eq!((meta.uid(), meta.gid()), (1234, 5678));
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
}

#[test]
fn a_hard_linked_file_is_written_through_its_inode() {
    let dir = project();
    let p = dir.path();
    write(&p.join("a.py"), UNDOCUMENTED);
    std::fs::hard_link(p.join("a.py"), p.join("b.py")).expect("link");
    let inode = std::fs::metadata(p.join("a.py")).expect("stat").ino();

    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 0, "{err}");
    let (a, b) = (
        std::fs::metadata(p.join("a.py")).expect("stat"),
        std::fs::metadata(p.join("b.py")).expect("stat"),
    );
    assert_eq!((a.ino(), b.ino(), a.nlink()), (inode, inode, 2));
    assert!(documented(&p.join("b.py")), "both names see the new text");
    assert_eq!(read(&p.join("a.py")).matches("\"\"\"").count(), 4);
}

#[test]
fn extended_attributes_survive_a_rewrite() {
    let dir = project();
    let path = dir.path().join("m.py");
    write(&path, UNDOCUMENTED);
    let xattr = |script: &str| {
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("this test needs python3 on PATH (apt-get install python3)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    xattr("import os, sys; os.setxattr(sys.argv[1], 'user.origin', b'vendored')");
    let (code, _, err) = run(dir.path(), &["run", "generate", "."]);
    assert_eq!(code, 0, "{err}");
    assert!(documented(&path));
    assert_eq!(
        xattr("import os, sys; print(os.getxattr(sys.argv[1], 'user.origin').decode())"),
        "vendored"
    );
}

#[test]
fn a_read_only_file_is_reported_and_written_only_with_force() {
    let dir = project();
    let p = dir.path();
    let path = p.join("ro.py");
    write(&path, UNDOCUMENTED);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");

    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped: ./ro.py:1:1: DP004"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(err.contains("1 skipped"), "the summary counts it: {err}");
    assert_eq!(read(&path), UNDOCUMENTED);

    let (code, _, err) = run(p, &["run", "generate", ".", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(documented(&path));
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o444, "still read-only");
}

/// Files CPython rejects though tree-sitter parses them, one per construct.
const REJECTED: &[(&str, &str)] = &[
    ("return_outside.py", "def f(a):\n    return a\n\nreturn 1\n"),
    ("yield_outside.py", "def f(a):\n    return a\n\nyield 1\n"),
    ("break_outside.py", "def f(a):\n    return a\n\nbreak\n"),
    ("await_outside.py", "def f(a):\n    await a\n"),
    ("unindent.py", "def f(a):\n        x = 1\n    return a\n"),
    ("tabs.py", "def f(a):\n        x = 1\n\treturn a\n"),
    ("continuation.py", "def f(a):\n    return a \\\n"),
    ("octal.py", "def f(a):\n    return 0777\n"),
    ("bare_star.py", "def f(*):\n    pass\n"),
    ("default_order.py", "def f(x=1, y):\n    pass\n"),
    ("duplicate.py", "def f(x, x):\n    pass\n"),
    ("walrus.py", "def f(a):\n    return a\n\nx := 5\n"),
    ("conversion.py", "def f(a):\n    return f\"{a!z}\"\n"),
    (
        "char_name.py",
        "def f(a):\n    return \"\\N{NO SUCH NAME}\"\n",
    ),
];

fn rejected_files(p: &Path) {
    for (name, text) in REJECTED {
        write(&p.join(name), text);
    }
    let deep = format!("def f(a):\n    return {}a\n", "-".repeat(5000));
    write(&p.join("deep.py"), &deep);
}

fn assert_rejected_and_untouched(p: &Path, err: &str) {
    for (name, text) in REJECTED {
        assert_eq!(&read(&p.join(name)), text, "{name} was rewritten");
        assert!(
            err.contains(&format!("skipped: ./{name}:")) && err.contains("DP003"),
            "{name} not reported:\n{err}"
        );
    }
    assert!(!documented(&p.join("deep.py")));
    assert!(err.contains("skipped: ./deep.py:"), "{err}");
}

#[test]
fn files_cpython_rejects_are_reported_and_never_written_with_python_on_path() {
    let dir = project();
    let p = dir.path();
    rejected_files(p);
    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 1, "{err}");
    assert_rejected_and_untouched(p, &err);
    assert!(!err.contains("cannot ask Python"), "{err}");
}

#[test]
fn files_cpython_rejects_are_reported_and_never_written_without_python() {
    let dir = project();
    let p = dir.path();
    rejected_files(p);
    write(&p.join("fine.py"), UNDOCUMENTED);
    let empty = tempfile::tempdir().expect("temp dir");
    // Python is needed only to be asked about every rewrite: the
    // warning that it cannot be comes then, once.
    for (check, warnings) in [("unproven", 0), ("always", 1)] {
        let out = docpipe(p)
            .env("PATH", empty.path())
            .args(["run", "generate", "."])
            .args(["--set", &format!("python.check=\"{check}\"")])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_rejected_and_untouched(p, &err);
        assert!(documented(&p.join("fine.py")), "{err}");
        assert_eq!(
            err.matches("cannot ask Python").count(),
            warnings,
            "{check}: {err}"
        );
        write(&p.join("fine.py"), UNDOCUMENTED);
    }
}

#[test]
fn the_python_on_path_decides_what_docpipe_cannot_see_when_asked_always() {
    // Only CPython's symbol table knows that `x` has no binding.
    let dir = project();
    let p = dir.path();
    let text = "def f(a):\n    nonlocal x\n    return a\n";
    write(&p.join("nonlocal.py"), text);
    let (code, _, err) = run(
        p,
        &["run", "generate", ".", "--set", "python.check=\"always\""],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("skipped: ./nonlocal.py:2:")
            && err.contains("no binding for nonlocal 'x' found (Python 3."),
        "{err}"
    );
    assert_eq!(read(&p.join("nonlocal.py")), text);
}

/// What `python3` says of compiling `path`: "ok" or its message.
fn python_says(path: &Path) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\ntry:\n    compile(open(sys.argv[1], 'rb').read(), 'f', 'exec')\n    print('ok')\nexcept SyntaxError as e:\n    print(e.msg)",
        ])
        .arg(path)
        .output()
        .expect("this test needs python3 on PATH (apt-get install -y python3)");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn by_default_python_is_not_asked_about_a_rewrite_the_tokens_prove() {
    // The docstring goes in; the file is what it was to Python, rejected
    // for the same reason, its code unchanged.
    let dir = project();
    let p = dir.path();
    let text = "def f(a):\n    nonlocal x\n    return a\n";
    let path = p.join("nonlocal.py");
    write(&path, text);
    let before = python_says(&path);
    assert_eq!(before, "no binding for nonlocal 'x' found");
    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 0, "{err}");
    let after = read(&path);
    assert!(documented(&path), "{after}");
    assert!(after.ends_with("    nonlocal x\n    return a\n"), "{after}");
    assert_eq!(python_says(&path), before);
}

#[test]
fn files_that_cannot_be_read_decoded_or_parsed_are_printed_and_fail_the_run() {
    let dir = project();
    let p = dir.path();
    write(&p.join("ok.py"), UNDOCUMENTED);
    write(&p.join("broken.py"), "def f(:\n");
    std::fs::write(p.join("latin.py"), b"x = '\xe9'\n").expect("write");
    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("skipped: ./broken.py:1:"), "{err}");
    assert!(err.contains("DP003"), "{err}");
    assert!(err.contains("skipped: ./latin.py:1:1: DP002"), "{err}");
    assert!(err.contains("2 skipped ("), "{err}");
    assert!(documented(&p.join("ok.py")));

    let (code, _, err) = run(p, &["run", "generate", ".", "--check"]);
    assert_eq!(
        code, 1,
        "a file that could not be checked fails --check: {err}"
    );
    let (code, _, err) = run(p, &["run", "generate", "broken.py", "--check"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn a_bare_run_checks_and_writes_nothing() {
    let dir = project();
    let p = dir.path();
    write(&p.join("m.py"), UNDOCUMENTED);
    let (code, out, _) = run(p, &["run"]);
    assert_eq!(code, 1);
    assert!(out.contains("DP102"), "{out}");
    assert_eq!(read(&p.join("m.py")), UNDOCUMENTED);
    // A path alone is a path, still checked only.
    let (code, _, _) = run(p, &["run", "m.py"]);
    assert_eq!(code, 1);
    assert_eq!(read(&p.join("m.py")), UNDOCUMENTED);
}

#[test]
fn virtual_environments_and_build_directories_are_skipped_without_ignore_files() {
    let dir = project();
    let p = dir.path();
    write(&p.join("src/m.py"), UNDOCUMENTED);
    for d in [
        "venv/lib/python3.11/site-packages/pkg/mod.py",
        ".venv/lib/mod.py",
        "build/lib/mod.py",
        "node_modules/x/mod.py",
        "src/__pycache__/mod.py",
        "env311/lib/python3.11/site-packages/mod.py",
    ] {
        write(&p.join(d), UNDOCUMENTED);
    }
    write(&p.join("env311/pyvenv.cfg"), "home = /usr/bin\n");
    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 0, "{err}");
    assert!(documented(&p.join("src/m.py")));
    for d in [
        "venv/lib/python3.11/site-packages/pkg/mod.py",
        "build/lib/mod.py",
        "node_modules/x/mod.py",
        "src/__pycache__/mod.py",
        "env311/lib/python3.11/site-packages/mod.py",
    ] {
        assert_eq!(read(&p.join(d)), UNDOCUMENTED, "{d} was rewritten");
    }
    // A path named on the command line is read anyway, unless --force-exclude.
    let named = "build/lib/mod.py";
    let (_, _, err) = run(p, &["run", "generate", named, "--force-exclude"]);
    assert_eq!(read(&p.join(named)), UNDOCUMENTED, "{err}");
    let (code, _, err) = run(p, &["run", "generate", named]);
    assert_eq!(code, 0, "{err}");
    assert!(documented(&p.join(named)));
}

#[test]
fn exclude_replaces_the_defaults_and_extend_exclude_adds_to_them() {
    let dir = project();
    let p = dir.path();
    write(&p.join("build/m.py"), UNDOCUMENTED);
    write(&p.join("gen/m.py"), UNDOCUMENTED);
    write(&p.join("src/m.py"), UNDOCUMENTED);
    let (_, _, err) = run(
        p,
        &[
            "run",
            "generate",
            ".",
            "--set",
            "stages.source.extend_exclude=[\"gen\"]",
        ],
    );
    assert!(documented(&p.join("src/m.py")), "{err}");
    assert!(!documented(&p.join("gen/m.py")));
    assert!(!documented(&p.join("build/m.py")));
    let (_, _, err) = run(
        p,
        &[
            "run",
            "generate",
            ".",
            "--set",
            "stages.source.exclude=[\"gen\"]",
        ],
    );
    assert!(
        documented(&p.join("build/m.py")),
        "defaults replaced: {err}"
    );
    assert!(!documented(&p.join("gen/m.py")));
}

#[test]
fn docs_check_and_diff_write_no_page() {
    let dir = project();
    let p = dir.path();
    write(&p.join("pkg/__init__.py"), "\"\"\"A package.\"\"\"\n");
    write(&p.join("pkg/m.py"), UNDOCUMENTED);
    let (code, _, err) = run(p, &["run", "docs", "pkg", "--check"]);
    assert_eq!(code, 1, "pages would change: {err}");
    assert!(err.contains("would change: docs/api/"), "{err}");
    assert!(!p.join("docs").exists(), "--check wrote pages");
    let (code, out, err) = run(p, &["run", "docs", "pkg", "--diff"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("+++ b/docs/api/pkg/m.md"), "{out}");
    assert!(!p.join("docs").exists(), "--diff wrote pages");
    let (code, _, err) = run(p, &["run", "docs", "pkg"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(p, &["run", "docs", "pkg", "--check"]);
    assert_eq!(code, 0, "the pages are up to date: {err}");
}

#[test]
fn a_flag_no_stage_reads_is_refused_with_the_pipeline_named() {
    let dir = project();
    let p = dir.path();
    write(&p.join("m.py"), UNDOCUMENTED);
    for (args, flag) in [
        (&["run", "check", ".", "--diff"][..], "--diff"),
        (&["run", "check", ".", "--estimate"][..], "--estimate"),
        (&["run", "check", ".", "--check"][..], "--check"),
        (&["run", "check", ".", "--force"][..], "--force"),
        (
            &["run", "generate", ".", "--format", "json"][..],
            "--format",
        ),
        (&["run", "docs", ".", "--estimate"][..], "--estimate"),
    ] {
        let (code, _, err) = run(p, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("`{flag}` does nothing in pipeline `{}`", args[1])),
            "{args:?}: {err}"
        );
    }
    assert_eq!(read(&p.join("m.py")), UNDOCUMENTED);
}

#[test]
fn an_unwritable_report_path_is_refused_before_anything_is_written() {
    let dir = project();
    let p = dir.path();
    write(&p.join("m.py"), UNDOCUMENTED);
    std::fs::create_dir_all(p.join("adir")).expect("mkdir");
    for report in ["adir", "missing/dir/report.json"] {
        let (code, _, err) = run(p, &["run", "generate", ".", "--report", report]);
        assert_eq!(code, 2, "{report}: {err}");
        assert!(err.contains(&format!("--report {report}")), "{err}");
        assert_eq!(
            read(&p.join("m.py")),
            UNDOCUMENTED,
            "written before the error"
        );
    }
}

#[test]
fn a_path_that_is_not_a_file_or_a_directory_is_a_usage_error() {
    let dir = project();
    let p = dir.path();
    let fifo = p.join("pipe.py");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    for path in [fifo.to_str().expect("utf-8"), "/dev/null", "/dev/zero"] {
        let (code, _, err) = run(p, &["run", "check", path]);
        assert_eq!(code, 2, "{path}: {err}");
        assert!(
            err.contains("is not a regular file or a directory"),
            "{err}"
        );
    }
    // Met during a walk, it is reported, not read (reading would block).
    write(&p.join("m.py"), UNDOCUMENTED);
    let (code, _, err) = run(p, &["run", "generate", "."]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("skipped: ./pipe.py:1:1: DP001"), "{err}");
    assert!(err.contains("a FIFO"), "{err}");
}
