//! One subprocess of an `exec` stage: starting it, the handshake, one unit
//! at a time, and what is left of it when it crashes, hangs or talks nonsense.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use docpipe_core::model::Envelope;
use docpipe_core::plugin::wire::WireEnvelope;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::{ExecSpec, PROTOCOL_VERSION};

/// Lines of standard error kept to explain a failure.
const STDERR_TAIL: usize = 20;
/// Longest line of a reply shown in a message.
const SHOWN_LINE: usize = 200;

/// A `unit` message, as docpipe sends it.
#[derive(serde::Serialize)]
struct UnitRequest<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: u64,
    envelope: WireEnvelope<'a>,
}

/// What became of one unit.
pub enum Answer {
    /// The process returned the unit.
    Unit(Box<Envelope>),
    /// The process said the unit failed, with this message.
    Refused(String),
    /// The process crashed, hung or wrote garbage: the reason for the unit.
    /// The process is gone.
    Broken(String),
}

/// A running process that has passed the handshake.
pub struct Worker {
    spec: Arc<ExecSpec>,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    line: String,
}

/// What a read of one reply line gave.
enum Read {
    Line(Value),
    Garbage(String),
    Closed,
    TimedOut,
}

impl Worker {
    /// Starts the process and shakes hands. An error is fatal for the run:
    /// a process that cannot start or does not speak the protocol would fail
    /// every unit the same way.
    pub async fn start(spec: Arc<ExecSpec>) -> Result<Worker, String> {
        let shown = spec.shown();
        let mut command = Command::new(&spec.command[0]);
        command
            .args(&spec.command[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            format!(
                "exec stage `{}`: cannot start `{shown}`: {e}; check `command` in the stage's table",
                spec.stage
            )
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(format!(
                "exec stage `{}`: `{shown}` started without pipes",
                spec.stage
            ));
        };
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let sink = tail.clone();
        let stage = spec.stage.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(stage = %stage, "stderr: {line}");
                if let Ok(mut t) = sink.lock() {
                    if t.len() == STDERR_TAIL {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        });
        let mut worker = Worker {
            spec,
            child,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: tail,
            line: String::new(),
        };
        let hello = json!({
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "stage": worker.spec.stage,
            "role": "transform",
            "options": worker.spec.options,
        });
        let what = "the handshake";
        if let Err(reason) = worker.send(&hello, what).await {
            return Err(worker.fatal(reason).await);
        }
        let reply = match worker.read(what).await {
            Read::Line(v) => v,
            Read::Garbage(line) => {
                let reason =
                    format!("answered the handshake with `{line}`, not a protocol message");
                return Err(worker.fatal(reason).await);
            }
            Read::Closed => {
                let reason = "exited before answering the handshake".to_string();
                return Err(worker.fatal(reason).await);
            }
            Read::TimedOut => {
                let reason = format!(
                    "did not answer the handshake within {:?}",
                    worker.spec.timeout
                );
                return Err(worker.fatal(reason).await);
            }
        };
        let protocol = reply.get("protocol").and_then(Value::as_u64);
        if reply.get("type").and_then(Value::as_str) != Some("hello") {
            let reason = format!(
                "answered the handshake with `{}`, not a `hello`",
                shorten(&reply.to_string())
            );
            return Err(worker.fatal(reason).await);
        }
        if protocol != Some(PROTOCOL_VERSION) {
            let reason = format!(
                "speaks protocol version {}, this docpipe speaks version {PROTOCOL_VERSION}; update the plugin (or docpipe) so both speak the same version",
                protocol.map_or("(none given)".to_string(), |p| p.to_string())
            );
            return Err(worker.fatal(reason).await);
        }
        let name = reply
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("(unnamed)");
        tracing::debug!(stage = %worker.spec.stage, "`{shown}` is {name}");
        Ok(worker)
    }

    /// Sends `env` and waits for its answer.
    pub async fn handle(&mut self, env: &Envelope) -> Answer {
        // Serialized straight to text: a `json!` value would copy the whole
        // unit into a tree first.
        let request = serde_json::to_string(&UnitRequest {
            kind: "unit",
            id: env.id,
            envelope: WireEnvelope::from_envelope(env),
        });
        let request = match request {
            Ok(r) => r,
            Err(e) => return Answer::Refused(format!("the unit cannot be sent as JSON: {e}")),
        };
        let what = format!("unit `{}`", env.unit.display_str());
        if let Err(reason) = self.send_line(request, &what).await {
            return Answer::Broken(self.broken(reason).await);
        }
        let reply = match self.read(&what).await {
            Read::Line(v) => v,
            Read::Garbage(line) => {
                let reason = format!(
                    "wrote `{line}` on its standard output, which is not a protocol message (JSON, one per line)"
                );
                return Answer::Broken(self.broken(reason).await);
            }
            Read::Closed => {
                return Answer::Broken(self.broken("exited while handling the unit".into()).await);
            }
            Read::TimedOut => {
                let reason = format!(
                    "did not answer within {:?} (`timeout_secs`); it was killed",
                    self.spec.timeout
                );
                return Answer::Broken(self.broken(reason).await);
            }
        };
        let id = reply.get("id").and_then(Value::as_u64);
        let kind = reply.get("type").and_then(Value::as_str);
        if id != Some(env.id) {
            let reason = format!(
                "answered unit {} with a message for {}: `{}`",
                env.id,
                id.map_or("no unit".to_string(), |i| format!("unit {i}")),
                shorten(&reply.to_string())
            );
            return Answer::Broken(self.broken(reason).await);
        }
        match kind {
            Some("error") => Answer::Refused(
                reply
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)")
                    .to_string(),
            ),
            Some("unit") => {
                let parsed = reply
                    .get("envelope")
                    .map(|e| WireEnvelope::deserialize(e).map_err(|err| err.to_string()));
                match parsed {
                    Some(Ok(wire)) => {
                        let done = wire.into_envelope(env.file.clone());
                        if done.id != env.id {
                            let reason =
                                format!("changed the unit's id from {} to {}", env.id, done.id);
                            return Answer::Broken(self.broken(reason).await);
                        }
                        Answer::Unit(Box::new(done))
                    }
                    Some(Err(e)) => {
                        Answer::Refused(format!("returned an envelope docpipe cannot read: {e}"))
                    }
                    None => Answer::Refused("returned a `unit` message without `envelope`".into()),
                }
            }
            _ => {
                let reason = format!(
                    "answered with `{}`, neither `unit` nor `error`",
                    shorten(&reply.to_string())
                );
                Answer::Broken(self.broken(reason).await)
            }
        }
    }

    async fn send(&mut self, message: &Value, what: &str) -> Result<(), String> {
        self.send_line(message.to_string(), what).await
    }

    async fn send_line(&mut self, mut line: String, what: &str) -> Result<(), String> {
        line.push('\n');
        let write = async {
            self.stdin.write_all(line.as_bytes()).await?;
            self.stdin.flush().await
        };
        match tokio::time::timeout(self.spec.timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("could not be sent {what}: {e}")),
            Err(_) => Err(format!(
                "did not read {what} within {:?} (`timeout_secs`); it was killed",
                self.spec.timeout
            )),
        }
    }

    /// The next protocol line; log lines are logged and skipped.
    async fn read(&mut self, what: &str) -> Read {
        let deadline = tokio::time::Instant::now() + self.spec.timeout;
        loop {
            self.line.clear();
            let read =
                tokio::time::timeout_at(deadline, self.stdout.read_line(&mut self.line)).await;
            match read {
                Err(_) => return Read::TimedOut,
                Ok(Err(e)) => return Read::Garbage(format!("(unreadable: {e})")),
                Ok(Ok(0)) => return Read::Closed,
                Ok(Ok(_)) => {}
            }
            let text = self.line.trim();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(text) {
                Ok(v) if v.get("type").and_then(Value::as_str) == Some("log") => {
                    let message = v.get("message").and_then(Value::as_str).unwrap_or("");
                    match v.get("level").and_then(Value::as_str) {
                        Some("error") | Some("warn") | Some("warning") => {
                            tracing::warn!(stage = %self.spec.stage, "{message} (while handling {what})")
                        }
                        _ => tracing::info!(stage = %self.spec.stage, "{message}"),
                    }
                }
                Ok(v) if v.is_object() => return Read::Line(v),
                _ => return Read::Garbage(shorten(text)),
            }
        }
    }

    /// Kills the process; the message for a unit that met `reason`.
    async fn broken(&mut self, reason: String) -> String {
        let status = self.kill_and_status().await;
        format!(
            "exec stage `{}` (`{}`) {reason}{status}{}; the next unit starts a new process. Fix the plugin, or run it by hand with the line docpipe sent (docs/plugins.md)",
            self.spec.stage,
            self.spec.shown(),
            self.tail()
        )
    }

    /// Kills the process; the message that stops the run.
    async fn fatal(mut self, reason: String) -> String {
        let status = self.kill_and_status().await;
        format!(
            "exec stage `{}` (`{}`) {reason}{status}{}. Check that the command speaks docpipe's JSON-lines protocol version {PROTOCOL_VERSION} (docs/plugins.md)",
            self.spec.stage,
            self.spec.shown(),
            self.tail()
        )
    }

    async fn kill_and_status(&mut self) -> String {
        // A process that already exited keeps its status; one still running is killed.
        let status = match self.child.try_wait() {
            Ok(Some(s)) => Some(s),
            _ => {
                let _ = self.child.start_kill();
                self.child.wait().await.ok()
            }
        };
        // Give the stderr reader a moment to take the last lines.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        match status {
            Some(s) if s.code().is_some() => format!(" (exit status {})", s.code().unwrap_or(-1)),
            Some(s) => format!(" ({s})"),
            None => String::new(),
        }
    }

    fn tail(&self) -> String {
        let lines: Vec<String> = self
            .stderr
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        if lines.is_empty() {
            "; its stderr was empty".to_string()
        } else {
            format!("; its stderr ends:\n    {}\n", lines.join("\n    "))
        }
    }

    /// Kills the process (the run is stopping).
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Closes standard input and lets the process exit; kills it if it does not.
    pub async fn close(mut self) {
        let _ = self.stdin.shutdown().await;
        drop(self.stdin);
        if tokio::time::timeout(self.spec.timeout, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= SHOWN_LINE {
        text.to_string()
    } else {
        let cut: String = text.chars().take(SHOWN_LINE).collect();
        format!("{cut}...")
    }
}

use serde::Deserialize as _;
