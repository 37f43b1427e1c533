//! A git URL as the source of a run (`docpipe run check
//! https://host/org/repo.git@v1.2`): a shallow clone into a temporary
//! directory that the run works in, so that findings and reports name paths
//! inside the repository, and that is removed afterwards whatever happens
//! (success, error, Ctrl+C; a second Ctrl+C removes it before exiting).

use std::path::{Path, PathBuf};
use std::time::Duration;

use docpipe_core::printable;
use tokio_util::sync::CancellationToken;

use super::git::{self, CloneError};
use super::signals;

/// Seconds a clone may take unless `--clone-timeout` says otherwise.
pub const DEFAULT_TIMEOUT_S: u64 = 300;

/// URL schemes taken as a git repository rather than a path.
const SCHEMES: [&str; 5] = ["https://", "http://", "ssh://", "git://", "file://"];

/// A repository to clone: its URL and the revision after `@`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// What `git clone` is given.
    pub url: String,
    /// A branch, a tag or a whole commit hash (`None`: the default branch).
    pub rev: Option<String>,
}

/// Whether the command-line argument `arg` names a git repository by URL.
pub fn is_url(arg: &str) -> bool {
    SCHEMES.iter().any(|s| {
        arg.get(..s.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(s))
    })
}

impl GitSource {
    /// Splits `URL@REV`. The revision starts at the first `@` after the
    /// host (an `@` before it belongs to `user@host`).
    pub fn parse(arg: &str) -> Result<GitSource, String> {
        let scheme_end = arg.find("://").map_or(0, |i| i + 3);
        let path_start = arg[scheme_end..]
            .find('/')
            .map_or(arg.len(), |i| scheme_end + i);
        let (url, rev) = match arg[path_start..].find('@') {
            Some(i) => {
                let at = path_start + i;
                (&arg[..at], Some(&arg[at + 1..]))
            }
            None => (arg, None),
        };
        if rev.is_some_and(str::is_empty) {
            return Err(format!(
                "`{}` ends with `@` but names no revision; write URL@BRANCH, URL@TAG or URL@COMMIT, or leave `@` out for the default branch",
                printable::text(arg)
            ));
        }
        if rev.is_some_and(|r| r.starts_with('-')) {
            return Err(format!(
                "`{}`: a revision cannot start with `-`",
                printable::text(arg)
            ));
        }
        Ok(GitSource {
            url: url.to_string(),
            rev: rev.map(str::to_string),
        })
    }
}

impl std::fmt::Display for GitSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rev {
            Some(rev) => write!(f, "{}@{rev}", self.url),
            None => f.write_str(&self.url),
        }
    }
}

/// Why a checkout is not there.
#[derive(Debug)]
pub enum CheckoutError {
    /// git refused: an unknown repository or revision, no access (what
    /// to do is in the message).
    Failed(String),
    /// The clone took longer than the timeout.
    TimedOut(String),
    /// The run was interrupted while cloning; nothing is left behind.
    Interrupted,
}

/// A shallow clone in a temporary directory, which the process works in
/// from [`Checkout::enter`] on. Dropping it goes back to the previous
/// working directory and removes the clone.
pub struct Checkout {
    dir: Option<tempfile::TempDir>,
    previous: Option<PathBuf>,
}

impl Checkout {
    /// Clones `source`, giving up after `timeout` or when `cancel` fires;
    /// the temporary directory is gone when this returns an error.
    pub fn clone(
        source: &GitSource,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Checkout, CheckoutError> {
        let dir = tempfile::Builder::new()
            .prefix("docpipe-clone-")
            .tempdir()
            .map_err(|e| {
                CheckoutError::Failed(format!(
                    "cannot create a temporary directory to clone {source} into: {e}; set TMPDIR to a writable directory"
                ))
            })?;
        signals::remove_on_exit(dir.path());
        let checkout = Checkout {
            dir: Some(dir),
            previous: None,
        };
        tracing::info!("cloning {source} into {}", printable::path(checkout.root()));
        let started = std::time::Instant::now();
        git::shallow_clone(
            &source.url,
            source.rev.as_deref(),
            checkout.root(),
            timeout,
            cancel,
        )
        .map_err(|e| match e {
            CloneError::Interrupted => CheckoutError::Interrupted,
            CloneError::TimedOut(t) => CheckoutError::TimedOut(format!(
                "cloning {source} took longer than {} seconds and was stopped; give it more time with --clone-timeout SECS, or check that the host answers",
                t.as_secs()
            )),
            CloneError::Failed(said) => CheckoutError::Failed(format!(
                "cannot clone {source}: {said}; check the URL{}",
                match &source.rev {
                    Some(_) => " and that the revision after `@` is a branch, a tag or a whole commit hash",
                    None => "",
                }
            )),
        })?;
        tracing::info!("cloned {source} in {:.1?}", started.elapsed());
        Ok(checkout)
    }

    /// The root of the clone.
    pub fn root(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }

    /// Makes the clone the working directory, so that every path the run
    /// shows is relative to the repository's root.
    pub fn enter(&mut self) -> Result<(), String> {
        let previous = std::env::current_dir().map_err(|e| format!("no working directory: {e}"))?;
        std::env::set_current_dir(self.root()).map_err(|e| {
            format!(
                "cannot work in the clone {}: {e}",
                printable::path(self.root())
            )
        })?;
        self.previous = Some(previous);
        Ok(())
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let _ = std::env::set_current_dir(previous);
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if let Err(e) = dir.close() {
                tracing::warn!(
                    "cannot remove the clone {}: {e}; remove it by hand",
                    printable::path(&path)
                );
            }
            signals::keep_on_exit(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url("https://github.com/psf/requests.git"));
        assert!(is_url("FILE:///tmp/repo"));
        assert!(is_url("ssh://git@host/org/repo.git"));
        assert!(!is_url("src/"));
        assert!(!is_url("https"));
        assert!(!is_url("C:/x"));
    }

    #[test]
    fn the_revision_follows_the_first_at_after_the_host() {
        let parse = |s: &str| GitSource::parse(s).expect(s);
        assert_eq!(
            parse("https://host/org/repo.git"),
            GitSource {
                url: "https://host/org/repo.git".into(),
                rev: None
            }
        );
        assert_eq!(
            parse("https://host/org/repo.git@feature/x"),
            GitSource {
                url: "https://host/org/repo.git".into(),
                rev: Some("feature/x".into())
            }
        );
        assert_eq!(
            parse("ssh://git@host/org/repo.git@v1.2"),
            GitSource {
                url: "ssh://git@host/org/repo.git".into(),
                rev: Some("v1.2".into())
            }
        );
        assert_eq!(
            parse("file:///tmp/repo@0123abcd").rev.as_deref(),
            Some("0123abcd")
        );
        assert!(GitSource::parse("file:///tmp/repo@").is_err());
        assert!(GitSource::parse("file:///tmp/repo@--upload-pack=x").is_err());
    }
}
