//! git through its command line: the work tree a path is in, the files
//! changed since a revision, and shallow clones with a timeout.
//!
//! The command line rather than a git library: it is what CI images and
//! developers' machines have, it honours the user's credentials helpers and
//! configuration, and it keeps a large native dependency out of the build.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docpipe_core::printable;
use tokio_util::sync::CancellationToken;

/// `git` with its prompts off: a run must never wait for a password.
fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .stdin(Stdio::null());
    cmd
}

/// `git` run for its output; an error says what git said.
fn output(cmd: &mut Command, what: &str) -> Result<Vec<u8>, String> {
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{what} needs git, which is not on PATH; install git")
        } else {
            format!("{what}: cannot run git: {e}")
        }
    })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(last_lines(&out.stderr))
    }
}

/// The last lines git wrote on stderr, on one line.
fn last_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    printable::text(&tail.join("; ")).into_owned()
}

/// The root of the git work tree that `path` (a file or a directory) is in.
pub fn work_tree_root(path: &Path, flag: &str) -> Result<PathBuf, String> {
    let dir = if path.is_dir() {
        path
    } else {
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    };
    let out = output(
        git()
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--show-toplevel"]),
        flag,
    )
    .map_err(|e| {
        if e.contains("needs git") {
            e
        } else {
            format!(
                "{flag} needs a git work tree, and {} is not inside one ({e}); run it in a clone, or leave the flag out",
                printable::path(path)
            )
        }
    })?;
    let text = String::from_utf8_lossy(&out);
    Ok(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}

/// Splits git's `-z` output into paths under `root`.
fn nul_paths(root: &Path, bytes: &[u8]) -> Vec<PathBuf> {
    bytes
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| root.join(path_from_bytes(p)))
        .collect()
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The files of the work tree at `root` that differ from revision `rev`
/// (committed since, staged or not; deleted files left out), and the
/// untracked files git does not ignore; absolute paths.
pub fn changed_since(root: &Path, rev: &str) -> Result<Vec<PathBuf>, String> {
    let flag = format!("--changed-since {rev}");
    let commit = format!("{rev}^{{commit}}");
    output(
        git().current_dir(root).args([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &commit,
        ]),
        &flag,
    )
    .map_err(|_| {
        format!(
            "{flag}: git knows no revision `{}` in {}; give a branch, a tag or a commit (`git log --oneline` lists them; a shallow CI checkout may need more history, e.g. `fetch-depth: 0`)",
            printable::text(rev),
            printable::path(root)
        )
    })?;
    let changed = output(
        git().current_dir(root).args([
            "-c",
            "core.quotepath=off",
            "diff",
            "--name-only",
            "--no-relative",
            "--no-renames",
            "--diff-filter=d",
            "-z",
            &commit,
            "--",
        ]),
        &flag,
    )
    .map_err(|e| format!("{flag}: git diff failed in {}: {e}", printable::path(root)))?;
    let untracked = output(
        git().current_dir(root).args([
            "ls-files",
            "--others",
            "--exclude-standard",
            "--full-name",
            "-z",
        ]),
        &flag,
    )
    .map_err(|e| {
        format!(
            "{flag}: git ls-files failed in {}: {e}",
            printable::path(root)
        )
    })?;
    let mut paths = nul_paths(root, &changed);
    paths.extend(nul_paths(root, &untracked));
    Ok(paths)
}

/// Why a clone did not happen.
#[derive(Debug)]
pub enum CloneError {
    /// git refused or failed (unknown repository or revision, no access).
    Failed(String),
    /// It took longer than the timeout; the child was killed.
    TimedOut(Duration),
    /// The run was interrupted; the child was killed.
    Interrupted,
}

/// Whether `rev` is a whole commit hash (SHA-1 or SHA-256), which
/// `git clone --branch` does not take.
pub fn is_commit_hash(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Clones `url` at `rev` (a branch or tag, a whole commit hash, or the
/// remote's default branch) into the empty directory `into`, one commit
/// deep, giving up after `timeout` or when `cancel` fires.
pub fn shallow_clone(
    url: &str,
    rev: Option<&str>,
    into: &Path,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), CloneError> {
    let deadline = Instant::now() + timeout;
    let steps: Vec<Vec<&OsStr>> = match rev {
        Some(sha) if is_commit_hash(sha) => vec![
            vec!["init".as_ref(), "--quiet".as_ref(), into.as_os_str()],
            vec![
                "-C".as_ref(),
                into.as_os_str(),
                "fetch".as_ref(),
                "--quiet".as_ref(),
                "--depth=1".as_ref(),
                "--end-of-options".as_ref(),
                url.as_ref(),
                sha.as_ref(),
            ],
            vec![
                "-C".as_ref(),
                into.as_os_str(),
                "-c".as_ref(),
                "advice.detachedHead=false".as_ref(),
                "checkout".as_ref(),
                "--quiet".as_ref(),
                "FETCH_HEAD".as_ref(),
            ],
        ],
        _ => {
            let mut args: Vec<&OsStr> = vec![
                "-c".as_ref(),
                "advice.detachedHead=false".as_ref(),
                "clone".as_ref(),
                "--quiet".as_ref(),
                "--depth=1".as_ref(),
                "--no-tags".as_ref(),
            ];
            if let Some(rev) = rev {
                args.push("--branch".as_ref());
                args.push(rev.as_ref());
            }
            args.extend(["--".as_ref(), url.as_ref(), into.as_os_str()]);
            vec![args]
        }
    };
    for args in steps {
        let mut cmd = git();
        // A clone started from a git hook (pre-commit) must not act on the
        // repository the hook runs in.
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
        ] {
            cmd.env_remove(var);
        }
        cmd.args(&args).stdout(Stdio::null()).stderr(Stdio::piped());
        run_until(cmd, deadline, timeout, cancel)?;
    }
    Ok(())
}

/// Runs `cmd`, killing it at `deadline` or when `cancel` fires.
fn run_until(
    mut cmd: Command,
    deadline: Instant,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), CloneError> {
    let mut child = cmd.spawn().map_err(|e| {
        CloneError::Failed(if e.kind() == std::io::ErrorKind::NotFound {
            "a git URL source needs git, which is not on PATH; install git".to_string()
        } else {
            format!("cannot run git: {e}")
        })
    })?;
    // Read stderr on its own thread so that a chatty git never blocks on a full pipe.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    });
    let stop = |child: &mut std::process::Child, why: CloneError| {
        let _ = child.kill();
        let _ = child.wait();
        Err(why)
    };
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let said = stderr
                    .and_then(|h| h.join().ok())
                    .map(|b| last_lines(&b))
                    .unwrap_or_default();
                return if status.success() {
                    Ok(())
                } else {
                    Err(CloneError::Failed(if said.is_empty() {
                        format!("git exited with {status}")
                    } else {
                        said
                    }))
                };
            }
            Ok(None) => {}
            Err(e) => return stop(&mut child, CloneError::Failed(e.to_string())),
        }
        if cancel.is_cancelled() {
            return stop(&mut child, CloneError::Interrupted);
        }
        if Instant::now() >= deadline {
            return stop(&mut child, CloneError::TimedOut(timeout));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_commit_hashes_are_told_from_names() {
        assert!(is_commit_hash(&"a".repeat(40)));
        assert!(is_commit_hash(&"0123456789abcdef".repeat(4)));
        assert!(!is_commit_hash("v1.0"));
        assert!(!is_commit_hash("abc1234"));
        assert!(!is_commit_hash(&"g".repeat(40)));
    }

    #[test]
    fn git_s_nul_separated_paths_join_the_root() {
        let paths = nul_paths(Path::new("/r"), b"a.py\0src/b c.py\0");
        assert_eq!(
            paths,
            vec![PathBuf::from("/r/a.py"), PathBuf::from("/r/src/b c.py")]
        );
    }
}
