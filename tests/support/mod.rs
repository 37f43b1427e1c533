//! What the end-to-end tests of the binary share: the repository, copies of
//! the sample project, and running `docpipe` in a directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A temporary directory holding a copy of examples/sample and no
/// pipeline.toml (so the built-in default applies).
pub fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("examples/sample"), &dir.path().join("sample"));
    dir
}

/// `docpipe` in `dir`, with no colour, no RUST_LOG and no OpenAI key.
pub fn docpipe(dir: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("docpipe");
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("OPENAI_API_KEY")
        .env("NO_COLOR", "1");
    cmd
}

/// What a run of `docpipe` gave.
pub struct Ran {
    /// The exit status (-1 when killed by a signal).
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `docpipe ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Ran {
    let out = docpipe(dir).args(args).output().expect("run");
    Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Files of [`big_corpus`].
pub const CORPUS_FILES: usize = 1500;

/// `dir/corpus`: 1,500 files of 200 undocumented functions each, big enough
/// that a run is still going when a test interrupts it. Returns the
/// directory and the text of every file.
pub fn big_corpus(dir: &Path) -> (PathBuf, String) {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).expect("mkdir");
    let mut body = String::new();
    for i in 0..200 {
        body.push_str(&format!(
            "def function_{i}(a, b=1, *args, **kwargs):\n    if a:\n        raise ValueError(a)\n    return a + b\n\n\n"
        ));
    }
    for f in 0..CORPUS_FILES {
        std::fs::write(corpus.join(format!("m{f}.py")), &body).expect("write");
    }
    (corpus, body)
}

/// A `redis-server` started for one test on a free port, stopped (by its
/// own pid) when dropped. Its data lives in a temporary directory.
pub struct RedisServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one. Fails, saying how to get it, when `redis-server` is not
    /// installed: a test that needs Redis never passes without it.
    pub fn start() -> RedisServer {
        let found = std::process::Command::new("redis-server")
            .arg("--version")
            .output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "redis-server is not installed; install it with \
             `apt-get update && apt-get install -y redis-server` (scripts/test does)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pidfile = dir.path().join("redis.pid");
        let status = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "yes"])
            .arg("--pidfile")
            .arg(&pidfile)
            .arg("--dir")
            .arg(dir.path())
            .status()
            .expect("run redis-server");
        assert!(status.success(), "redis-server did not start");
        let server = RedisServer { port, dir };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() || server.pid().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server on port {port} did not come up"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.path().join("redis.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Kills it at once (SIGKILL), as a crash or a lost machine would.
    pub fn kill(&self) {
        if let Some(pid) = self.pid() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            let _ = std::fs::remove_file(self.dir.path().join("redis.pid"));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
    }
}
