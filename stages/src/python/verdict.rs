//! Python's own verdict on a file: a long-lived `python3` (or the
//! interpreter `[python] interpreter` names) that compiles what it is sent
//! and answers whether it compiles, with Python's message and line.
//!
//! tree-sitter's grammar accepts code that CPython rejects (see
//! [`super::rejections`]), and the user's Python version decides what is
//! valid (a 3.12 f-string is a syntax error on 3.11). So the writer asks the
//! user's interpreter about the new text before it replaces the old (and
//! about the old one when the new one is rejected), and writes nothing
//! Python rejects.
//!
//! The helper is started on first use and answers over pipes: a line with
//! the size of a source, the source's bytes; back one JSON line. It runs
//! with `-I -S` (no environment variables, no user site, no `site`), so it
//! starts in a few milliseconds and imports nothing of the project: compiling
//! never runs code. Without an interpreter the writer falls back on
//! docpipe's own checks, and says so once.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use docpipe_core::registry::{BuildContext, BuildError, OptionDoc};
use serde::Deserialize;

/// The `[python]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PythonSection {
    /// The interpreter: a name looked up on PATH or a path. Unset: `python3` on PATH, if any.
    pub interpreter: Option<String>,
    /// Which rewrites Python is asked about.
    pub check: Ask,
}

/// Which rewritten files the writer asks Python about.
///
/// A rewrite the writer's token comparison proves (CPython's tokens the
/// same but for docstrings in docstring places, see `writer::lexical`) is
/// accepted by Python exactly when the original is: asking Python about it
/// can only tell that the file was already rejected, and costs a compile
/// of every written file (about as much CPU as the whole `check` of the
/// same files). So by default Python is asked only where the tree-sitter
/// comparison decided, whose reading of the code is not CPython's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ask {
    /// Rewrites the tokens did not prove.
    #[default]
    Unproven,
    /// Every rewrite: a file Python already rejects is reported (`DP003`) and never written.
    Always,
}

impl PythonSection {
    /// The section's keys, for `docpipe stages`.
    pub fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "interpreter",
                ty: "string",
                default: Some("`python3` on PATH"),
                doc: "The Python that decides whether a file compiles before the writer rewrites it (a name on PATH or a path, such as \".venv/bin/python\"). Without one, docpipe checks the syntax itself and says so once.",
            },
            OptionDoc {
                name: "check",
                ty: "\"unproven\" | \"always\"",
                default: Some("\"unproven\""),
                doc: "Which rewritten files Python compiles: \"unproven\", those docpipe's comparison of CPython's tokens cannot prove unchanged but for docstrings (Python accepts a proven one exactly when it accepts the original); \"always\", every one, so that a file Python already rejects is reported (DP003) and never written, at the cost of a compile of each written file.",
            },
        ]
    }
}

/// The helper script: one JSON line with the version, then one JSON answer
/// per source read from stdin.
const HELPER: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
out = sys.stdout
out.write(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3]}) + "\n")
out.flush()
read = sys.stdin.buffer
while True:
    header = read.readline()
    if not header:
        break
    source = read.read(int(header))
    try:
        compile(source, "<docpipe>", "exec", dont_inherit=True)
        answer = {"ok": True}
    except SyntaxError as e:
        answer = {"ok": False, "kind": type(e).__name__, "message": e.msg, "line": e.lineno, "column": e.offset}
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:
        answer = {"ok": False, "kind": type(e).__name__, "message": str(e) or type(e).__name__}
    out.write(json.dumps(answer) + "\n")
    out.flush()
"#;

/// How long the helper may take to start, and to answer one file.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// What Python said about a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It compiles.
    Accepted,
    /// It does not.
    Rejected(PythonError),
    /// There is no interpreter to ask (the caller falls back on its own checks).
    Unavailable,
}

/// Python's reason for rejecting a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonError {
    /// The interpreter's version (`3.11.2`).
    pub version: String,
    /// The exception (`SyntaxError`, `IndentationError`, `TabError`, `RecursionError`, ...).
    pub kind: String,
    /// Python's message.
    pub message: String,
    /// 1-based line, when Python gave one.
    pub line: Option<usize>,
    /// 1-based column, when Python gave one.
    pub column: Option<usize>,
}

impl std::fmt::Display for PythonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (Python {}", self.message, self.version)?;
        if self.kind != "SyntaxError" {
            write!(f, ", {}", self.kind)?;
        }
        f.write_str(")")
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    column: Option<usize>,
}

#[derive(Deserialize)]
struct Hello {
    version: String,
}

/// Asks the user's Python whether sources compile. Shared by the writer's
/// file jobs: each question goes to an idle helper process, and up to
/// [`with_helpers`](Self::with_helpers) of them run at once (one per writer
/// worker, so that compiling one file never waits for another's answer).
pub struct PythonCheck {
    /// The resolved interpreter, or why there is none.
    interpreter: Result<PathBuf, String>,
    slots: Vec<Mutex<State>>,
    /// The next slot to wait for when every helper is busy.
    next: AtomicUsize,
    /// Set when Python could not be asked; the warning is said once.
    gone: AtomicBool,
    /// Which rewrites to ask about.
    ask: Ask,
}

enum State {
    NotStarted,
    Running(Helper),
    /// Could not be started or stopped answering.
    Gone,
}

struct Helper {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<String>,
    version: String,
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PythonCheck {
    /// The check the `[python]` section configures: an interpreter it names
    /// must exist (a configuration error otherwise); without a name, `python3`
    /// on PATH is used when there is one.
    pub fn from_context(ctx: &BuildContext<'_>) -> Result<PythonCheck, BuildError> {
        let section: PythonSection = ctx.section("python")?;
        let check = match section.interpreter.as_deref() {
            Some(name) => match find_executable(name) {
                Some(path) => Ok(PythonCheck::with_interpreter(Ok(path))),
                None => Err(BuildError::section(
                    "python",
                    "interpreter",
                    format!("`{name}` is not an executable file nor a program on PATH"),
                )
                .with_help("name the project's Python, such as \"python3.12\" or \".venv/bin/python\", or remove the key to use `python3` from PATH")),
            },
            None => Ok(PythonCheck::from_path()),
        };
        check.map(|c| c.asking(section.check))
    }

    /// `python3` from PATH, or no interpreter.
    pub fn from_path() -> PythonCheck {
        PythonCheck::with_interpreter(
            find_executable("python3").ok_or_else(|| "no `python3` on PATH".to_string()),
        )
    }

    /// A check with this interpreter.
    pub fn with_interpreter(interpreter: Result<PathBuf, String>) -> PythonCheck {
        PythonCheck {
            interpreter,
            slots: vec![Mutex::new(State::NotStarted)],
            next: AtomicUsize::new(0),
            gone: AtomicBool::new(false),
            ask: Ask::default(),
        }
    }

    /// Lets up to `helpers` Python processes answer at once (at least one).
    /// Each is started on first need: a run that rewrites few files starts few.
    pub fn with_helpers(mut self, helpers: usize) -> PythonCheck {
        self.slots = (0..helpers.max(1))
            .map(|_| Mutex::new(State::NotStarted))
            .collect();
        self
    }

    /// Asks about the rewrites `ask` says.
    pub fn asking(self, ask: Ask) -> PythonCheck {
        PythonCheck { ask, ..self }
    }

    /// Which rewrites Python is asked about.
    pub fn ask(&self) -> Ask {
        self.ask
    }

    /// A check that never asks Python (docpipe's own checks decide).
    pub fn disabled() -> PythonCheck {
        PythonCheck {
            interpreter: Err("disabled".into()),
            slots: vec![Mutex::new(State::Gone)],
            next: AtomicUsize::new(0),
            gone: AtomicBool::new(true),
            ask: Ask::default(),
        }
    }

    /// Whether `source` (a file's bytes, in its own encoding) compiles.
    /// `path` only names the file in a warning.
    pub fn compile(&self, path: &Path, source: &[u8]) -> Verdict {
        if self.gone.load(Ordering::Acquire) {
            return Verdict::Unavailable;
        }
        // An idle helper if there is one, else wait for the next in turn.
        let slot = self.slots.iter().find_map(|slot| slot.try_lock().ok());
        let slot = match slot {
            Some(slot) => Ok(slot),
            None => {
                let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
                self.slots[i].lock()
            }
        };
        let Ok(mut state) = slot else {
            return Verdict::Unavailable;
        };
        if matches!(*state, State::NotStarted) {
            *state = match &self.interpreter {
                Ok(interpreter) => match Helper::start(interpreter) {
                    Ok(helper) => {
                        tracing::debug!(
                            "asking Python {} ({}) before each rewrite",
                            helper.version,
                            interpreter.display()
                        );
                        State::Running(helper)
                    }
                    Err(e) => {
                        self.give_up(&format!(
                            "{} could not be started: {e}",
                            interpreter.display()
                        ));
                        State::Gone
                    }
                },
                Err(reason) => {
                    self.give_up(reason);
                    State::Gone
                }
            };
        }
        let State::Running(helper) = &mut *state else {
            return Verdict::Unavailable;
        };
        match helper.ask(source) {
            Ok(verdict) => verdict,
            Err(e) => {
                self.give_up(&format!(
                    "Python stopped answering while compiling {}: {e}",
                    path.display()
                ));
                *state = State::Gone;
                Verdict::Unavailable
            }
        }
    }

    /// Stops asking Python for the rest of the run (every helper, so that
    /// files are not judged by two different standards), warning once.
    fn give_up(&self, reason: &str) {
        if !self.gone.swap(true, Ordering::AcqRel) {
            warn_unavailable(reason);
        }
    }
}

fn warn_unavailable(reason: &str) {
    tracing::warn!(
        "cannot ask Python whether files compile ({reason}); docpipe checks the syntax itself, \
         which misses what newer Python versions changed. Set `[python] interpreter` to the project's Python"
    );
}

impl Helper {
    fn start(interpreter: &Path) -> Result<Helper, String> {
        let mut child = Command::new(interpreter)
            .args(["-I", "-S", "-c", HELPER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err("its pipes could not be opened".into());
        };
        // A reader thread, so that a helper that hangs costs a timeout, not the run.
        let (tx, answers) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("python-verdict".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        let mut helper = Helper {
            child,
            stdin,
            answers,
            version: String::new(),
        };
        let hello = helper.receive(START_TIMEOUT)?;
        let hello: Hello = serde_json::from_str(&hello)
            .map_err(|_| format!("it answered `{hello}` instead of its version"))?;
        helper.version = hello.version;
        Ok(helper)
    }

    fn receive(&self, timeout: Duration) -> Result<String, String> {
        match self.answers.recv_timeout(timeout) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("no answer within {} s", timeout.as_secs()))
            }
            Err(RecvTimeoutError::Disconnected) => Err("it exited".into()),
        }
    }

    fn ask(&mut self, source: &[u8]) -> Result<Verdict, String> {
        let header = format!("{}\n", source.len());
        self.stdin
            .write_all(header.as_bytes())
            .and_then(|()| self.stdin.write_all(source))
            .and_then(|()| self.stdin.flush())
            .map_err(|e| e.to_string())?;
        let line = self.receive(ANSWER_TIMEOUT)?;
        let answer: Answer =
            serde_json::from_str(&line).map_err(|_| format!("unexpected answer `{line}`"))?;
        if answer.ok {
            return Ok(Verdict::Accepted);
        }
        Ok(Verdict::Rejected(PythonError {
            version: self.version.clone(),
            kind: answer.kind,
            message: answer.message,
            line: answer.line.filter(|&l| l > 0),
            column: answer.column.filter(|&c| c > 0),
        }))
    }
}

/// `name` as a path (when it has a separator) or the first executable of
/// that name on PATH.
pub fn find_executable(name: &str) -> Option<PathBuf> {
    let candidate = Path::new(name);
    if candidate.components().count() > 1 {
        return is_executable(candidate).then(|| candidate.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> PythonCheck {
        let check = PythonCheck::from_path();
        assert!(
            check.interpreter.is_ok(),
            "these tests need python3 on PATH (apt-get install python3)"
        );
        check
    }

    #[test]
    fn python_accepts_valid_code_and_rejects_what_tree_sitter_accepts() {
        let check = python();
        let path = Path::new("t.py");
        assert_eq!(
            check.compile(path, b"def f():\n    return 1\n"),
            Verdict::Accepted
        );
        let Verdict::Rejected(e) = check.compile(path, b"x = 1\nreturn x\n") else {
            panic!("`return` at module level compiled");
        };
        assert_eq!(e.message, "'return' outside function");
        assert_eq!(e.line, Some(2));
        assert!(e.version.starts_with("3."), "{}", e.version);
        // The same helper answers again after a rejection.
        assert_eq!(check.compile(path, b"x = 1\n"), Verdict::Accepted);
    }

    #[test]
    fn a_source_python_gives_up_on_is_rejected_not_fatal() {
        let check = python();
        let deep = format!("x = {}1\n", "-".repeat(100_000));
        let Verdict::Rejected(e) = check.compile(Path::new("t.py"), deep.as_bytes()) else {
            panic!("compiled");
        };
        assert!(
            e.kind == "RecursionError" || e.kind == "MemoryError" || e.kind == "SyntaxError",
            "{e:?}"
        );
    }

    #[test]
    fn without_an_interpreter_the_verdict_is_unavailable() {
        let check = PythonCheck::with_interpreter(Err("no `python3` on PATH".into()));
        assert_eq!(
            check.compile(Path::new("t.py"), b"return\n"),
            Verdict::Unavailable
        );
        let broken = PythonCheck::with_interpreter(Ok(PathBuf::from("/nonexistent/python3")));
        assert_eq!(
            broken.compile(Path::new("t.py"), b"x = 1\n"),
            Verdict::Unavailable
        );
    }
}
