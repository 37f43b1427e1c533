//! Narrowed runs: `--changed-since`, `--shard`, `--only-failed`, and a git
//! URL as the source. The repositories are built with the git command line
//! in temporary directories (their own user name and e-mail, no global
//! configuration touched), and cloned through `file://` URLs.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::docpipe;

/// Runs git in `dir`, failing the test when git fails.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .args(args)
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An undocumented module with one undocumented function named after it.
fn module(name: &str) -> String {
    format!("def {name}_function(a, b):\n    return a + b\n")
}

/// `dir/repo`: a git repository with `files` (relative paths) committed
/// and tagged `v1`.
fn repository(dir: &Path, files: &[&str]) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    git(&repo, &["config", "user.name", "docpipe tests"]);
    git(&repo, &["config", "user.email", "tests@docpipe.invalid"]);
    git(&repo, &["config", "commit.gpgsign", "false"]);
    for f in files {
        let path = repo.join(f);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let stem = Path::new(f)
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("stem");
        std::fs::write(&path, module(stem)).expect("write");
    }
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "-m", "first"]);
    git(&repo, &["tag", "v1"]);
    repo
}

/// The files `check`'s text findings name (`path:line:col: CODE message`).
fn files_checked(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(':').map(|(path, _)| path))
        .filter(|p| p.ends_with(".py"))
        .map(|p| p.trim_start_matches("./").to_string())
        .collect()
}

fn report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("report JSON")
}

/// Runs `docpipe ARGS` in `dir` with `TMPDIR` set to `tmp`.
fn run_in(dir: &Path, tmp: &Path, args: &[&str]) -> (i32, String, String) {
    let out = docpipe(dir)
        .env("TMPDIR", tmp)
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// What is left in `tmp` (the clones must all be gone).
fn leftovers(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .expect("read tmp")
        .map(|e| e.expect("entry").path())
        .collect()
}

#[test]
fn a_one_file_change_under_changed_since_processes_that_file_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = repository(dir.path(), &["a.py", "b.py", "pkg/c.py", "pkg/d.py"]);
    std::fs::write(repo.join(".gitignore"), "ignored.py\n.docpipe/\n").expect("write");
    git(&repo, &["add", ".gitignore"]);
    git(&repo, &["commit", "--quiet", "-m", "ignore"]);

    // Nothing changed: nothing to check, and the run passes.
    let (status, stdout, stderr) = run_in(
        &repo,
        tmp.path(),
        &["run", "check", "--changed-since", "HEAD"],
    );
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(files_checked(&stdout), BTreeSet::new());

    // One file changed: that file only.
    std::fs::write(repo.join("pkg/c.py"), module("c") + "\nX = 1\n").expect("write");
    let r = repo.join("r.json");
    let (status, stdout, stderr) = run_in(
        &repo,
        tmp.path(),
        &[
            "run",
            "check",
            "--changed-since",
            "HEAD",
            "--report",
            "r.json",
        ],
    );
    assert_eq!(status, 1, "{stderr}");
    assert_eq!(files_checked(&stdout), set(&["pkg/c.py"]), "{stdout}");
    let json = report(&r);
    assert_eq!(json["units"], 2, "{json}"); // the module and its function
    assert_eq!(json["stages"][0]["emitted"]["out"], 1, "{json}");

    // Untracked files count, ignored and deleted ones do not; staged
    // changes and commits since REV count.
    std::fs::write(repo.join("new.py"), module("new")).expect("write");
    std::fs::write(repo.join("ignored.py"), module("ignored")).expect("write");
    std::fs::remove_file(repo.join("pkg/d.py")).expect("rm");
    git(&repo, &["add", "pkg/c.py"]);
    let (_, stdout, stderr) = run_in(
        &repo,
        tmp.path(),
        &["run", "check", "--changed-since", "HEAD"],
    );
    assert_eq!(
        files_checked(&stdout),
        set(&["new.py", "pkg/c.py"]),
        "{stderr}"
    );
    git(&repo, &["commit", "--quiet", "-m", "c"]);
    let (_, stdout, _) = run_in(
        &repo,
        tmp.path(),
        &["run", "check", "--changed-since", "v1"],
    );
    assert_eq!(files_checked(&stdout), set(&["new.py", "pkg/c.py"]));

    // Narrowed further by the paths given, from a subdirectory too.
    let (_, stdout, stderr) = run_in(
        &repo.join("pkg"),
        tmp.path(),
        &["run", "check", ".", "--changed-since", "v1"],
    );
    assert_eq!(files_checked(&stdout), set(&["c.py"]), "{stderr}");

    // It combines with `generate`, which then writes that file only.
    let (status, _, stderr) = run_in(
        &repo,
        tmp.path(),
        &["run", "generate", "--changed-since", "HEAD"],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(repo.join("new.py"))
            .expect("read")
            .contains("\"\"\"")
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("a.py")).expect("read"),
        module("a")
    );
}

#[test]
fn changed_since_outside_a_work_tree_or_for_an_unknown_revision_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).expect("mkdir");
    std::fs::write(plain.join("a.py"), module("a")).expect("write");
    let (status, _, stderr) = run_in(
        &plain,
        dir.path(),
        &["run", "check", "--changed-since", "HEAD"],
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("--changed-since HEAD needs a git work tree"),
        "{stderr}"
    );

    let repo = repository(dir.path(), &["a.py"]);
    let (status, _, stderr) = run_in(
        &repo,
        dir.path(),
        &["run", "check", "--changed-since", "no-such-branch"],
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("git knows no revision `no-such-branch`"),
        "{stderr}"
    );
}

#[test]
fn two_shards_together_cover_every_file_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    let names: Vec<String> = (0..24).map(|i| format!("pkg{}/m{i}.py", i % 3)).collect();
    for n in &names {
        let path = project.join(n);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("stem")
            .to_string();
        std::fs::write(&path, module(&stem)).expect("write");
    }
    let mut shards = Vec::new();
    for shard in ["1/2", "2/2"] {
        let (status, stdout, stderr) = run_in(
            &project,
            dir.path(),
            &["run", "check", "--shard", shard, "--no-cache"],
        );
        assert_eq!(status, 1, "{stderr}");
        shards.push(files_checked(&stdout));
    }
    assert!(shards[0].is_disjoint(&shards[1]), "{shards:?}");
    let all: BTreeSet<String> = shards[0].union(&shards[1]).cloned().collect();
    assert_eq!(all, names.iter().cloned().collect::<BTreeSet<_>>());
    assert!(!shards[0].is_empty() && !shards[1].is_empty(), "{shards:?}");

    // The split depends on the path relative to the project, not on where
    // the project is nor on the paths given.
    let moved = dir.path().join("elsewhere");
    std::fs::rename(&project, &moved).expect("move");
    let (_, stdout, _) = run_in(
        &moved,
        dir.path(),
        &["run", "check", "--shard", "1/2", "--no-cache"],
    );
    assert_eq!(files_checked(&stdout), shards[0]);
    let (_, stdout, _) = run_in(
        &moved,
        dir.path(),
        &["run", "check", "pkg1", "--shard", "1/2", "--no-cache"],
    );
    let expected: BTreeSet<String> = shards[0]
        .iter()
        .filter(|p| p.starts_with("pkg1/"))
        .cloned()
        .collect();
    assert_eq!(files_checked(&stdout), expected);

    // `docs` writes an index of every module: a narrowed run is refused.
    let (status, _, stderr) = run_in(
        &moved,
        dir.path(),
        &["run", "docs", "--shard", "1/2", "--diff"],
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("index of every module"), "{stderr}");

    for bad in ["0/2", "3/2", "1/0", "half"] {
        let (status, _, stderr) = run_in(&moved, dir.path(), &["run", "check", "--shard", bad]);
        assert_eq!(status, 2, "{bad}: {stderr}");
        assert!(stderr.contains("I/N"), "{stderr}");
    }
}

#[test]
fn only_failed_runs_exactly_the_failed_units_of_a_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path();
    std::fs::write(
        project.join("a.py"),
        "\"\"\"Module a.\"\"\"\n\n\ndef kept(x):\n    return x\n\n\ndef failed(x):\n    return x\n\n\nclass Shop:\n    def buy(self, item):\n        return item\n",
    )
    .expect("write");
    std::fs::write(project.join("b.py"), module("b")).expect("write");
    // The report of a run in which two units of a.py failed.
    std::fs::write(
        project.join("before.json"),
        r#"{"pipeline": "generate", "units": 7, "failures": [
            {"path": "a.py", "line": 8, "qualname": "failed", "reason": "the model timed out"},
            {"path": "./a.py", "line": 13, "qualname": "Shop.buy", "reason": "the model timed out"},
            {"path": "gone.py", "line": 1, "qualname": "f", "reason": "the model timed out"}]}"#,
    )
    .expect("write");
    let (status, stdout, stderr) = run_in(
        project,
        project,
        &[
            "run",
            "generate",
            "--diff",
            "--only-failed",
            "before.json",
            "--report",
            "after.json",
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    let json = report(&project.join("after.json"));
    assert_eq!(json["units"], 2, "{json}");
    assert_eq!(json["by_state"]["generated"], 2, "{json}");
    assert!(
        stdout.contains("+++ b/a.py") && !stdout.contains("b/b.py"),
        "{stdout}"
    );
    assert!(!stdout.contains("def kept(x):\n+"), "{stdout}");

    // `check` too: the results cache neither answers for a.py nor keeps
    // a.py's partial findings for the next full run.
    std::fs::write(
        project.join("before.json"),
        r#"{"failures": [{"path": "a.py", "line": 4, "qualname": "kept", "reason": "x"}]}"#,
    )
    .expect("write");
    let (_, stdout, _) = run_in(project, project, &["run", "check"]);
    let full = stdout.lines().filter(|l| l.starts_with("a.py")).count();
    let (_, stdout, stderr) = run_in(
        project,
        project,
        &["run", "check", "--only-failed", "before.json"],
    );
    let only: Vec<&str> = stdout.lines().filter(|l| l.contains(".py:")).collect();
    assert_eq!(only.len(), 1, "{stdout}{stderr}");
    assert!(only[0].contains("`kept`"), "{stdout}");
    let (_, stdout, _) = run_in(project, project, &["run", "check"]);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("a.py")).count(),
        full
    );

    // A file that is not a report.
    std::fs::write(project.join("before.json"), "{\"units\": 1}").expect("write");
    let (status, _, stderr) = run_in(
        project,
        project,
        &["run", "generate", "--only-failed", "before.json"],
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("not a docpipe run report"), "{stderr}");
}

#[test]
fn only_failed_takes_the_failures_of_a_real_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path();
    std::fs::write(
        project.join("a.py"),
        "\"\"\"Module a.\"\"\"\n\n\ndef kept(x):\n    \"\"\"Return x.\n\n    Args:\n        x: The value.\n\n    Returns:\n        The value.\n    \"\"\"\n    return x\n\n\ndef failed(x):\n    return x\n",
    )
    .expect("write");
    std::fs::write(project.join("b.py"), "\"\"\"Module b.\"\"\"\n").expect("write");
    // A model server that is not there: the one unit that needs it fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base_url = format!("model.base_url=http://127.0.0.1:{port}/v1");
    let out = docpipe(project)
        .env("OPENAI_API_KEY", "not-used")
        .args([
            "run",
            "generate",
            "--report",
            "first.json",
            "--set",
            "model.provider=openai",
        ])
        .args([
            "--set",
            &base_url,
            "--set",
            "model.max_retries=0",
            "--set",
            "model.max_attempts=1",
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = report(&project.join("first.json"));
    assert_eq!(
        (
            first["units"].as_u64(),
            first["by_state"]["failed"].as_u64()
        ),
        (Some(4), Some(1)),
        "{first}"
    );

    let (status, _, stderr) = run_in(
        project,
        project,
        &[
            "run",
            "generate",
            "--only-failed",
            "first.json",
            "--report",
            "second.json",
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    let second = report(&project.join("second.json"));
    assert_eq!(second["units"], 1, "{second}");
    assert_eq!(second["by_state"]["generated"], 1, "{second}");
    let text = std::fs::read_to_string(project.join("a.py")).expect("read");
    assert!(text.contains("def failed(x):\n    \"\"\""), "{text}");
}

#[test]
fn a_file_url_source_is_cloned_checked_and_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = repository(dir.path(), &["a.py", "src/b.py"]);
    // After the tag: another commit that the tag does not have.
    std::fs::write(repo.join("src/later.py"), module("later")).expect("write");
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "-m", "later"]);
    let url = format!("file://{}", repo.display());
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");

    let (status, stdout, stderr) = run_in(
        &work,
        tmp.path(),
        &["run", "check", &format!("{url}@v1"), "--report", "r.json"],
    );
    assert_eq!(status, 1, "{stderr}");
    assert_eq!(
        files_checked(&stdout),
        set(&["a.py", "src/b.py"]),
        "{stdout}"
    );
    assert!(!stdout.contains("docpipe-clone"), "{stdout}");
    assert!(
        work.join("r.json").is_file(),
        "the report is written where the run started"
    );
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );

    // The default branch, a whole commit hash, and paths inside the repository.
    let (_, stdout, _) = run_in(&work, tmp.path(), &["run", "check", &url]);
    assert_eq!(
        files_checked(&stdout),
        set(&["a.py", "src/b.py", "src/later.py"])
    );
    let head = git(&repo, &["rev-parse", "HEAD~1"]);
    let (_, stdout, stderr) = run_in(
        &work,
        tmp.path(),
        &["run", "check", &format!("{url}@{head}"), "src"],
    );
    assert_eq!(files_checked(&stdout), set(&["src/b.py"]), "{stderr}");

    // generate shows its diff with the repository's paths, or is refused.
    let (status, stdout, stderr) = run_in(&work, tmp.path(), &["run", "generate", &url, "--diff"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("+++ b/src/later.py"), "{stdout}");
    let (status, _, stderr) = run_in(&work, tmp.path(), &["run", "generate", &url]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("add `--diff`"), "{stderr}");
    let (status, _, stderr) = run_in(
        &work,
        tmp.path(),
        &["run", "check", &url, "--changed-since", "HEAD"],
    );
    assert_eq!(status, 2, "{stderr}");

    // `--clone-timeout` without a URL source would go unheeded: refused.
    let (status, _, stderr) = run_in(&repo, tmp.path(), &["run", "check", "--clone-timeout", "5"]);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("`--clone-timeout` concerns a git URL source"),
        "{stderr}"
    );

    // Unknown revisions and repositories are usage errors naming them.
    let (status, _, stderr) = run_in(&work, tmp.path(), &["run", "check", &format!("{url}@nope")]);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("cannot clone") && stderr.contains("@nope"),
        "{stderr}"
    );
    let missing = format!("file://{}", dir.path().join("missing").display());
    let (status, _, stderr) = run_in(&work, tmp.path(), &["run", "check", &missing]);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );
    assert_eq!(leftovers(&work), vec![work.join("r.json")]);
}

/// A TCP port that accepts connections and never answers: a clone from it stalls.
fn stalled_server() -> (String, std::net::TcpListener) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (format!("http://127.0.0.1:{port}/repo.git"), listener)
}

#[test]
fn a_stalled_clone_times_out_or_is_interrupted_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = tempfile::tempdir().expect("tmp");
    let (url, _listener) = stalled_server();
    let started = std::time::Instant::now();
    let (status, _, stderr) = run_in(
        dir.path(),
        tmp.path(),
        &["run", "check", &url, "--clone-timeout", "1"],
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("took longer than 1 seconds"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );

    let child = Command::new(assert_cmd::cargo::cargo_bin!("docpipe"))
        .current_dir(dir.path())
        .env("TMPDIR", tmp.path())
        .env_remove("RUST_LOG")
        .args(["run", "check", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the clone has started (its directory exists).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while leftovers(tmp.path()).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no clone started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );
}

#[test]
fn a_url_source_interrupted_while_it_runs_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = dir.path().join("repo");
    support::big_corpus(&repo);
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    git(&repo, &["config", "user.name", "docpipe tests"]);
    git(&repo, &["config", "user.email", "tests@docpipe.invalid"]);
    git(&repo, &["config", "commit.gpgsign", "false"]);
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "-m", "corpus"]);
    let url = format!("file://{}", repo.display());
    for signals in [1, 2] {
        let child = Command::new(assert_cmd::cargo::cargo_bin!("docpipe"))
            .current_dir(dir.path())
            .env("TMPDIR", tmp.path())
            .env_remove("RUST_LOG")
            .args(["-v", "run", "check", &url, "--no-cache"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Interrupt once the clone is done and the run has started.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let clone_done = || {
            leftovers(tmp.path())
                .first()
                .is_some_and(|d| d.join("corpus/m1499.py").is_file())
        };
        while !clone_done() {
            assert!(
                std::time::Instant::now() < deadline,
                "the clone never finished"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..signals {
            Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .expect("kill");
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{signals} signals: {stderr}");
        assert!(
            leftovers(tmp.path()).is_empty(),
            "{signals} signals: {:?}",
            leftovers(tmp.path())
        );
    }
}
