//! Issue 5's acceptance test, through the real `docpipe` binary: a copy of
//! two packages of the CPython standard library (`json` and `email`) is
//! documented by `docpipe run generate` against an in-process server on
//! 127.0.0.1 that speaks the OpenAI protocol (one test) or the Azure OpenAI
//! protocol (another), while it injects failures: 429 with `Retry-After` or
//! `retry-after-ms`, 500 and 503, dropped connections, bodies that are not
//! JSON, replies whose content is not JSON, breaks the schema, documents the
//! wrong parameters or is cut off, and replies whose strings try to break out
//! of the docstring.
//!
//! Which failure a unit meets is decided by a hash of its file, qualified
//! name and signature (read back from the prompt), and how many times the
//! server has been asked about it: the outcome of every unit is fixed in
//! advance, whatever order the concurrent requests arrive in, so the test
//! can say exactly which units must end failed.
//!
//! The tests check that every unit ends kept, generated or failed with a
//! reason; that every file still compiles and its code (the AST without
//! docstrings) is unchanged; that the server saw `[model] concurrency`
//! requests in flight and never more; that the API key is in no output; and
//! that `--estimate` sends no request and writes nothing.

#[allow(dead_code)]
#[path = "../stages/tests/llm_support/fake_openai.rs"]
mod fake_openai;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use fake_openai::{PromptedUnit, completion, reply_for, tool_completion};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The OpenAI key the runs are given; it must appear in no output.
const OPENAI_KEY: &str = "sk-docpipe-e2e-SECRET-4f1c9a7b2d6e";
/// The Azure key the runs are given; it must appear in no output.
const AZURE_KEY: &str = "azure-docpipe-e2e-SECRET-93be0c51a8";
const AZURE_DEPLOYMENT: &str = "docs-gpt4o-mini";
const AZURE_API_VERSION: &str = "2024-10-21";
const MODEL: &str = "gpt-4o-mini";
/// `[model] concurrency` of the runs.
const CONCURRENCY: usize = 8;
/// `[model] max_retries` of the runs.
const MAX_RETRIES: usize = 4;
/// `[model] max_attempts` (its default).
const MAX_ATTEMPTS: usize = 3;
/// How long the server takes for every answer, so that requests overlap.
const LATENCY: Duration = Duration::from_millis(50);
/// Marks the strings of replies that try to break out of the docstring.
const BREAKOUT: &str = "BREAKOUT";

// --- the packages ----------------------------------------------------------

/// The standard library directory, or `None` (with a note) without python3.
fn stdlib() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            assert!(
                dir.join("json").is_dir() && dir.join("email").is_dir(),
                "the standard library at {} has no json or email package",
                dir.display()
            );
            Some(dir)
        }
        _ => {
            eprintln!("note: python3 is not available; the models end-to-end test is skipped");
            None
        }
    }
}

/// The packages documented by the runs.
const PACKAGES: [&str; 2] = ["json", "email"];

/// Copies `from` to `to`, without `__pycache__`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read a standard library directory") {
        let entry = entry.expect("a directory entry");
        let name = entry.file_name();
        let target = to.join(&name);
        let kind = entry.file_type().expect("a file type");
        if kind.is_dir() {
            if name != "__pycache__" {
                copy_tree(&entry.path(), &target);
            }
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// A temporary directory with `lib/json` and `lib/email` copied from `stdlib`.
fn workspace(stdlib: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for package in PACKAGES {
        copy_tree(&stdlib.join(package), &dir.path().join("lib").join(package));
    }
    dir
}

/// Every file under `dir` with its bytes.
fn snapshot_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read a directory") {
            let entry = entry.expect("a directory entry");
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under the root")
                    .to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read a file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

// --- the server ------------------------------------------------------------

/// Which protocol the server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    OpenAi,
    Azure,
}

/// What the server does about one unit (the same on every run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Plan {
    /// A valid reply at once.
    Good,
    /// 429 with `retry-after-ms: 100` (Azure's header), then valid.
    RateLimitedMs,
    /// 429 with `Retry-After: 1`, then valid.
    RateLimitedSeconds,
    /// 500, then valid.
    ServerError,
    /// 503 twice, then valid.
    Unavailable,
    /// 200 with a body that is cut in the middle of its JSON, then valid.
    BodyNotJson,
    /// The connection closes without an answer, then valid.
    Dropped,
    /// A completion whose content is not JSON, then valid.
    ContentNotJson,
    /// A reply that breaks the schema, then valid.
    SchemaViolation,
    /// A reply documenting the wrong parameters, then valid.
    WrongParams,
    /// A reply cut off (`finish_reason: length`), then valid.
    Truncated,
    /// Every reply breaks the schema: the unit must end failed.
    AlwaysSchemaViolation,
    /// Every reply documents the wrong parameters: the unit must end failed
    /// (only units with parameters get this plan).
    AlwaysWrongParams,
    /// Every request gets a 500 whose message echoes the API key: the unit
    /// must end failed, and the key must not show.
    Always500,
    /// Valid replies whose strings try to break out of the docstring (kind 0-7).
    Breakout(u8),
}

impl Plan {
    /// The plan of the unit `key` (`params`: whether it has parameters).
    fn of(key: &str, params: bool) -> Plan {
        // FNV-1a: stable across runs and platforms.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        match h % 100 {
            0..=2 => Plan::RateLimitedMs,
            3 => Plan::RateLimitedSeconds,
            4..=6 => Plan::ServerError,
            7..=8 => Plan::Unavailable,
            9..=10 => Plan::BodyNotJson,
            11..=12 => Plan::Dropped,
            13..=15 => Plan::ContentNotJson,
            16..=18 => Plan::SchemaViolation,
            19..=21 if params => Plan::WrongParams,
            19..=21 => Plan::SchemaViolation,
            22..=23 => Plan::Truncated,
            24..=25 => Plan::AlwaysSchemaViolation,
            26..=27 if params => Plan::AlwaysWrongParams,
            26..=27 => Plan::AlwaysSchemaViolation,
            28 => Plan::Always500,
            n @ 29..=36 => Plan::Breakout(((n - 29) as u8) % BREAKOUT_KINDS),
            _ => Plan::Good,
        }
    }

    /// Whether the unit must end failed.
    fn must_fail(self) -> bool {
        matches!(
            self,
            Plan::AlwaysSchemaViolation | Plan::AlwaysWrongParams | Plan::Always500
        )
    }

    /// Whether a failed answer of this plan goes back to the model with the
    /// error in the prompt (rather than being retried by the transport).
    fn answer_failure(self) -> bool {
        matches!(
            self,
            Plan::ContentNotJson
                | Plan::SchemaViolation
                | Plan::WrongParams
                | Plan::Truncated
                | Plan::AlwaysSchemaViolation
                | Plan::AlwaysWrongParams
        )
    }
}

/// The unit a prompt asks about (the built-in prompt, one unit per request).
#[derive(Debug, Clone)]
struct Asked {
    /// File, qualified name and signature: identifies the unit.
    key: String,
    path: String,
    unit: PromptedUnit,
    /// The prompt says the previous answer was rejected.
    feedback: bool,
}

/// Reads the built-in prompt: the file from the first line, then the first
/// unit's header lines up to its source.
fn asked(prompt: &str) -> Result<Asked, String> {
    let mut lines = prompt.lines();
    let path = lines
        .by_ref()
        .find_map(|l| l.strip_prefix("Document 1 definition(s) from `"))
        .and_then(|rest| rest.split('`').next())
        .ok_or("the prompt names no file of exactly one definition")?
        .to_string();
    let mut unit = PromptedUnit::default();
    let mut signature = String::new();
    for line in lines {
        if line == "Source:" {
            break;
        }
        if let Some(rest) = line.strip_prefix("### ") {
            unit.qualname = rest.split('`').nth(1).unwrap_or_default().to_string();
        } else if let Some(s) = line.strip_prefix("Signature: ") {
            signature = s.to_string();
        } else if let Some(p) = line.strip_prefix("Parameters to document: ") {
            unit.params = p
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
        } else if let Some(r) = line.strip_prefix("Returns: ") {
            unit.returns = r.starts_with("yes");
        } else if let Some(y) = line.strip_prefix("Yields: ") {
            unit.yields = y.starts_with("yes");
        } else if let Some(r) = line.strip_prefix("Raises: ")
            && r != "none found"
        {
            unit.raises = r.split(", ").map(str::to_string).collect();
        }
    }
    if unit.qualname.is_empty() {
        return Err("the prompt has no `### N. `qualname`` header".into());
    }
    Ok(Asked {
        key: format!("{path}\n{}\n{signature}", unit.qualname),
        path,
        unit,
        feedback: prompt.contains("Your previous answer was rejected"),
    })
}

/// What the server did about one unit.
#[derive(Debug, Clone)]
struct UnitLog {
    plan: Plan,
    path: String,
    qualname: String,
    /// Requests about it.
    requests: usize,
    /// Of which with the previous answer's errors in the prompt.
    with_feedback: usize,
}

#[derive(Default)]
struct ServerState {
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    units: Mutex<HashMap<String, UnitLog>>,
    /// Requests that broke the protocol (wrong path, key, model, prompt).
    protocol_errors: Mutex<Vec<String>>,
}

/// A running fake server; it stops when dropped (with its runtime).
struct Server {
    url: String,
    state: Arc<ServerState>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start(protocol: Protocol) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the fake server");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("the local address").port();
        let state = Arc::new(ServerState::default());
        let shared = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                // No Nagle delay: a small answer must not wait for a delayed ACK.
                let _ = stream.set_nodelay(true);
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, protocol, state).await;
                });
            }
        });
        Server {
            url: format!("http://127.0.0.1:{port}"),
            state,
            _runtime: runtime,
        }
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    fn units(&self) -> HashMap<String, UnitLog> {
        self.state.units.lock().expect("units lock").clone()
    }

    fn protocol_errors(&self) -> Vec<String> {
        self.state
            .protocol_errors
            .lock()
            .expect("protocol errors lock")
            .clone()
    }
}

/// One answer of the server.
enum Answer {
    Http {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Close the connection without answering.
    Close,
}

fn error_answer(status: u16, message: &str) -> Answer {
    Answer::Http {
        status,
        headers: Vec::new(),
        body: json!({"error": {"message": message, "type": "test"}}).to_string(),
    }
}

fn ok_answer(body: Value) -> Answer {
    Answer::Http {
        status: 200,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

/// Serves one connection: HTTP/1.1, keep-alive, `Content-Length` bodies.
/// A request counts as in flight from when it is read until just before its
/// answer is written, so the count never exceeds what the client has out.
async fn serve(
    stream: TcpStream,
    protocol: Protocol,
    state: Arc<ServerState>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let target = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let mut headers: Vec<(String, String)> = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).await? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).await?;
        state.requests.fetch_add(1, Ordering::SeqCst);
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let answer = answer(protocol, &target, &headers, &body, &state);
        tokio::time::sleep(LATENCY).await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        match answer {
            Answer::Close => return Ok(()),
            Answer::Http {
                status,
                headers,
                body,
            } => {
                let mut out = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                    match status {
                        200 => "OK",
                        429 => "Too Many Requests",
                        500 => "Internal Server Error",
                        503 => "Service Unavailable",
                        _ => "Status",
                    },
                    body.len()
                );
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                // One write per answer.
                write.write_all(out.as_bytes()).await?;
                write.flush().await?;
            }
        }
    }
}

/// Checks the protocol, then answers according to the unit's plan.
fn answer(
    protocol: Protocol,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    state: &ServerState,
) -> Answer {
    let refuse = |why: String| {
        state
            .protocol_errors
            .lock()
            .expect("protocol errors lock")
            .push(why.clone());
        error_answer(400, &why)
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match protocol {
        Protocol::OpenAi => {
            if path != "/v1/chat/completions" {
                return refuse(format!("unexpected path {target}"));
            }
            if header("authorization") != Some(format!("Bearer {OPENAI_KEY}").as_str()) {
                return refuse("missing or wrong Authorization header".into());
            }
        }
        Protocol::Azure => {
            let expected = format!("/openai/deployments/{AZURE_DEPLOYMENT}/chat/completions");
            if path != expected || query != format!("api-version={AZURE_API_VERSION}") {
                return refuse(format!("unexpected path {target}"));
            }
            if header("api-key") != Some(AZURE_KEY) || header("authorization").is_some() {
                return refuse("missing or wrong api-key header".into());
            }
        }
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return refuse("the request body is not JSON".into());
    };
    if protocol == Protocol::OpenAi && request["model"] != MODEL {
        return refuse(format!("unexpected model {}", request["model"]));
    }
    let prompt = request["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["content"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let asked = match asked(&prompt) {
        Ok(a) => a,
        Err(e) => return refuse(e),
    };
    // The how-many-th request about this unit (1-based), and its plan.
    let (plan, nth) = {
        let mut units = state.units.lock().expect("units lock");
        let log = units.entry(asked.key.clone()).or_insert_with(|| UnitLog {
            plan: Plan::of(&asked.key, !asked.unit.params.is_empty()),
            path: asked.path.clone(),
            qualname: asked.unit.qualname.clone(),
            requests: 0,
            with_feedback: 0,
        });
        log.requests += 1;
        if asked.feedback {
            log.with_feedback += 1;
        }
        (log.plan, log.requests)
    };
    let valid = reply_for(std::slice::from_ref(&asked.unit), "Do the thing.");
    let first = nth == 1;
    match plan {
        Plan::RateLimitedMs if first => Answer::Http {
            status: 429,
            headers: vec![("retry-after-ms", "100".into())],
            body: json!({"error": {"message": "Rate limit reached", "type": "requests"}})
                .to_string(),
        },
        Plan::RateLimitedSeconds if first => Answer::Http {
            status: 429,
            headers: vec![("retry-after", "1".into())],
            body: json!({"error": {"message": "Rate limit reached", "type": "requests"}})
                .to_string(),
        },
        Plan::ServerError if first => error_answer(500, "The server had an error"),
        Plan::Unavailable if nth <= 2 => error_answer(503, "The engine is currently overloaded"),
        Plan::BodyNotJson if first => Answer::Http {
            status: 200,
            headers: Vec::new(),
            body: "{\"id\": \"chatcmpl-cut\", \"choices\": [{\"index\": 0, \"mess".into(),
        },
        Plan::Dropped if first => Answer::Close,
        Plan::Always500 => {
            // Real servers echo credentials in error messages; the client must scrub them.
            let given = header("authorization")
                .or_else(|| header("api-key"))
                .unwrap_or_default();
            error_answer(500, &format!("internal error while serving key {given}"))
        }
        Plan::ContentNotJson if first => shaped(
            &request,
            "Sure! Here are the docstrings: {\"docstrings\": [{\"qualname\": ",
            "stop",
        ),
        Plan::SchemaViolation if first => shaped(&request, &schema_violation(&valid), "stop"),
        Plan::AlwaysSchemaViolation => shaped(&request, &schema_violation(&valid), "stop"),
        Plan::WrongParams if first => shaped(&request, &wrong_params(&valid), "stop"),
        Plan::AlwaysWrongParams => shaped(&request, &wrong_params(&valid), "stop"),
        Plan::Truncated if first => {
            let text = valid.to_string();
            shaped(&request, &text[..text.len() / 2], "length")
        }
        Plan::Breakout(kind) => shaped(&request, &breakout(&valid, kind), "stop"),
        _ => shaped(&request, &valid.to_string(), "stop"),
    }
}

/// A completion carrying `content` the way the request asked for it
/// (tool call, fenced block in text, or the content itself).
fn shaped(request: &Value, content: &str, finish_reason: &str) -> Answer {
    if request.get("tools").is_some() {
        return ok_answer(tool_completion(content));
    }
    match request
        .pointer("/response_format/type")
        .and_then(Value::as_str)
    {
        Some("json_schema" | "json_object") => ok_answer(completion(content, finish_reason)),
        _ => ok_answer(completion(
            &format!("Here it is:\n```json\n{content}\n```\n"),
            finish_reason,
        )),
    }
}

/// `valid` with a summary that is a number, a missing key and an extra one.
fn schema_violation(valid: &Value) -> String {
    let mut v = valid.clone();
    if let Some(doc) = v
        .pointer_mut("/docstrings/0")
        .and_then(Value::as_object_mut)
    {
        doc.insert("summary".into(), json!(42));
        doc.remove("notes");
        doc.insert("confidence".into(), json!("high"));
    }
    v.to_string()
}

/// `valid` documenting a parameter that does not exist instead of the first one.
fn wrong_params(valid: &Value) -> String {
    let mut v = valid.clone();
    if let Some(params) = v
        .pointer_mut("/docstrings/0/params")
        .and_then(Value::as_array_mut)
    {
        if params.is_empty() {
            params.push(json!({"name": "not_a_parameter", "ty": null, "description": "Invented."}));
        } else {
            params[0] = json!({"name": "not_a_parameter", "ty": null, "description": "Invented."});
        }
    }
    v.to_string()
}

/// The field and text of breakout reply `kind`: strings that would end or
/// corrupt the docstring if written as they are.
fn breakout_text(kind: u8) -> (&'static str, String) {
    match kind {
        0 => (
            "description",
            format!("Ends the docstring \"\"\" here; import os; os.system('true') {BREAKOUT}."),
        ),
        1 => ("description", format!("A trailing backslash {BREAKOUT} \\")),
        2 => ("description", format!("Holds a NUL \u{0} byte {BREAKOUT}.")),
        3 => (
            "notes",
            format!("'''\"\"\"\\\n\"\"\"; raise SystemExit  # {BREAKOUT}\n\"\"\""),
        ),
        4 => (
            "description",
            format!("Escapes \\N{{BULLET}} \\x41 \\u0041 \\t and \\ {BREAKOUT}."),
        ),
        5 => ("description", format!("Ends with a quote {BREAKOUT}\"")),
        6 => (
            "description",
            format!("Odd line ends\r\nand\rbreaks\u{2028}and a form feed\u{c} {BREAKOUT}."),
        ),
        _ => (
            "examples",
            format!(">>> print(\"\"\"{BREAKOUT}\"\"\")\n{BREAKOUT}\n>>> '\\\\'"),
        ),
    }
}

/// Number of breakout kinds.
const BREAKOUT_KINDS: u8 = 8;

/// `valid` with the breakout text of `kind`.
fn breakout(valid: &Value, kind: u8) -> String {
    let mut v = valid.clone();
    if let Some(doc) = v
        .pointer_mut("/docstrings/0")
        .and_then(Value::as_object_mut)
    {
        let (field, text) = breakout_text(kind);
        doc.insert(field.into(), Value::String(text));
    }
    v.to_string()
}

/// `text` with every run of whitespace made one space (the writer wraps).
fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// --- the runs --------------------------------------------------------------

fn docpipe(dir: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("docpipe");
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("OPENAI_API_KEY")
        .env_remove("AZURE_OPENAI_API_KEY")
        .env_remove("AZURE_OPENAI_ENDPOINT")
        .env_remove("AZURE_OPENAI_DEPLOYMENT")
        .env_remove("AZURE_OPENAI_API_VERSION")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(300));
    cmd
}

/// `docpipe` set up for `protocol` against `server`, with quick retries.
fn configured(dir: &Path, protocol: Protocol, server: &Server) -> assert_cmd::Command {
    let mut cmd = docpipe(dir);
    let common = [
        format!("model.concurrency={CONCURRENCY}"),
        format!("model.max_retries={MAX_RETRIES}"),
        format!("model.max_attempts={MAX_ATTEMPTS}"),
        "model.retry_backoff_ms=20".into(),
        "model.max_backoff_s=2".into(),
        "model.timeout_s=20".into(),
    ];
    match protocol {
        Protocol::OpenAi => {
            for s in [
                "model.provider=openai".to_string(),
                format!("model.base_url={}/v1", server.url),
                format!("model.name={MODEL}"),
            ] {
                cmd.args(["--set", &s]);
            }
            cmd.env("OPENAI_API_KEY", OPENAI_KEY);
        }
        Protocol::Azure => {
            cmd.args(["--set", "model.provider=azure"])
                .env("AZURE_OPENAI_ENDPOINT", &server.url)
                .env("AZURE_OPENAI_DEPLOYMENT", AZURE_DEPLOYMENT)
                .env("AZURE_OPENAI_API_VERSION", AZURE_API_VERSION)
                .env("AZURE_OPENAI_API_KEY", AZURE_KEY);
        }
    }
    for s in common {
        cmd.args(["--set", &s]);
    }
    cmd
}

/// Compiles every module of the copy and compares its AST without
/// docstrings with the original's. Prints a JSON summary.
const PY_CHECK: &str = r#"
import ast, json, os, sys

orig_root, copy_root, mark = sys.argv[1], sys.argv[2], sys.argv[3]

def modules(root):
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for f in files:
            if f.endswith(".py"):
                p = os.path.join(d, f)
                out[os.path.relpath(p, root)] = p
    return out

def stripped(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            b = node.body
            if b and isinstance(b[0], ast.Expr) and isinstance(b[0].value, ast.Constant) \
                    and isinstance(b[0].value.value, str):
                node.body = b[1:]
    return ast.dump(tree)

def docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            d = ast.get_docstring(node, clean=False)
            if d is not None:
                yield d

before, after = modules(orig_root), modules(copy_root)
result = {"files": len(after), "missing": sorted(set(before) - set(after)),
          "extra": sorted(set(after) - set(before)), "changed": 0,
          "compile_errors": [], "code_changed": [], "breakout_docstrings": []}
for rel in sorted(set(before) & set(after)):
    with open(before[rel], "rb") as f:
        old = f.read()
    with open(after[rel], "rb") as f:
        new = f.read()
    if old == new:
        continue
    result["changed"] += 1
    try:
        compile(new, rel, "exec", dont_inherit=True)
        new_tree = ast.parse(new, rel)
    except (SyntaxError, ValueError) as e:
        result["compile_errors"].append(f"{rel}: {e}")
        continue
    for d in docstrings(new_tree):
        if mark in d:
            result["breakout_docstrings"].append(d)
    if stripped(ast.parse(old, rel)) != stripped(new_tree):
        result["code_changed"].append(rel)
print(json.dumps(result))
"#;

/// The Python check of the copy under `dir` against the standard library.
fn python_check(dir: &Path, stdlib: &Path) -> Value {
    let script = dir.join("check_copy.py");
    std::fs::write(&script, PY_CHECK).expect("write the check script");
    let mut summary = json!({});
    for package in PACKAGES {
        let out = Command::new("python3")
            .arg(&script)
            .arg(stdlib.join(package))
            .arg(dir.join("lib").join(package))
            .arg(BREAKOUT)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "the check script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("the check script prints JSON");
        summary[package] = v;
    }
    summary
}

/// What one run gave.
struct Outcome {
    code: i32,
    report: Value,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn run_generate(dir: &Path, protocol: Protocol, server: &Server) -> Outcome {
    let start = Instant::now();
    let out = configured(dir, protocol, server)
        .args(["-vvv", "run", "generate", "lib", "--report", "report.json"])
        .output()
        .expect("run docpipe");
    let elapsed = start.elapsed();
    let report_text = std::fs::read_to_string(dir.join("report.json")).unwrap_or_default();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_str(&report_text).unwrap_or(Value::Null),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed,
    }
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// The acceptance scenario for `protocol`.
fn documents_a_real_package_under_injected_failures(protocol: Protocol) {
    let Some(stdlib) = stdlib() else {
        return;
    };
    let dir = workspace(&stdlib);
    let server = Server::start(protocol);
    let run = run_generate(dir.path(), protocol, &server);
    let report = &run.report;
    let context = format!(
        "exit {}\n--- stderr (end) ---\n{}",
        run.code,
        run.stderr
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(report.is_object(), "no report.json was written\n{context}");
    assert!(
        server.protocol_errors().is_empty(),
        "requests broke the protocol: {:?}",
        server.protocol_errors()
    );

    // Every unit ended kept, generated or failed; none skipped, none lost.
    let units = count(&report["units"]);
    let by_state = &report["by_state"];
    let state = |s: &str| count(&by_state[s]);
    let (kept, generated, failed) = (state("kept"), state("generated"), state("failed"));
    assert!(units > 500, "a real package has hundreds of units: {units}");
    assert_eq!(
        (state("cached"), state("skipped")),
        (0, 0),
        "no unit may be cached or skipped: {by_state}"
    );
    assert_eq!(
        kept + generated + failed,
        units,
        "by_state must account for every unit: {by_state}"
    );
    assert_eq!(report["interrupted"], false);
    assert!(
        report["file_errors"]
            .as_array()
            .is_some_and(|e| e.is_empty()),
        "{}",
        report["file_errors"]
    );

    // Exit 1 exactly when a unit failed, never 2.
    assert_eq!(
        run.code,
        if failed > 0 { 1 } else { 0 },
        "exit status with {failed} failed unit(s)\n{context}"
    );

    // Failures: each with a reason, exactly the units whose plan must fail
    // (and breakout units the product rejected, which are reported below).
    let failures = report["failures"]
        .as_array()
        .expect("failures is a list")
        .clone();
    assert_eq!(
        failures.len() as u64,
        failed,
        "one failure entry per failed unit"
    );
    let logs = server.units();
    let plan_of: HashMap<(String, String), Vec<Plan>> =
        logs.values().fold(HashMap::new(), |mut m, l| {
            m.entry((l.path.clone(), l.qualname.clone()))
                .or_default()
                .push(l.plan);
            m
        });
    let mut failed_by_plan: BTreeMap<String, usize> = BTreeMap::new();
    let mut reasons_by_plan: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut failed_names = BTreeSet::new();
    for f in &failures {
        let reason = f["reason"].as_str().unwrap_or_default();
        assert!(!reason.trim().is_empty(), "a failure without a reason: {f}");
        let name = (
            f["path"].as_str().unwrap_or_default().to_string(),
            f["qualname"].as_str().unwrap_or_default().to_string(),
        );
        let plans = plan_of
            .get(&name)
            .unwrap_or_else(|| panic!("a failed unit the server was never asked about: {f}"));
        assert!(
            plans
                .iter()
                .any(|p| p.must_fail() || matches!(p, Plan::Breakout(_))),
            "{f} failed although the server's plan for it was {plans:?}"
        );
        let plan = format!("{:?}", plans[0]);
        *failed_by_plan.entry(plan.clone()).or_default() += 1;
        // The reason without the unit-specific tail, to show its kinds.
        let kind: String = reason.chars().take(90).collect();
        reasons_by_plan.entry(plan).or_default().insert(kind);
        failed_names.insert(name);
    }
    for log in logs.values() {
        if log.plan.must_fail() {
            assert!(
                failed_names.contains(&(log.path.clone(), log.qualname.clone())),
                "{}::{} ({:?}) should have ended failed",
                log.path,
                log.qualname,
                log.plan
            );
        }
    }
    for f in &failures {
        let reason = f["reason"].as_str().unwrap_or_default();
        let plans = &plan_of[&(
            f["path"].as_str().unwrap_or_default().to_string(),
            f["qualname"].as_str().unwrap_or_default().to_string(),
        )];
        if plans.contains(&Plan::Always500) {
            assert!(
                reason.contains("500") && reason.contains(&format!("{} attempt", MAX_RETRIES + 1)),
                "{reason}"
            );
        } else if plans
            .iter()
            .any(|p| matches!(p, Plan::AlwaysSchemaViolation | Plan::AlwaysWrongParams))
        {
            assert!(
                reason.contains(&format!("after {MAX_ATTEMPTS} answer(s)")),
                "{reason}"
            );
        }
    }

    // The server's side of the retries: transport failures were asked again,
    // rejected answers were asked again with the errors in the prompt, and no
    // unit was asked more often than the limits allow.
    for log in logs.values() {
        let most = MAX_ATTEMPTS * (MAX_RETRIES + 1);
        assert!(log.requests <= most, "{log:?} asked more than {most} times");
        let expected = match log.plan {
            Plan::Good | Plan::Breakout(_) => None,
            Plan::Unavailable => Some(3),
            Plan::Always500 => Some(MAX_RETRIES + 1),
            Plan::AlwaysSchemaViolation | Plan::AlwaysWrongParams => Some(MAX_ATTEMPTS),
            _ => Some(2),
        };
        if let Some(n) = expected {
            assert!(
                log.requests >= n,
                "{log:?}: expected at least {n} request(s)"
            );
        }
        if log.plan.answer_failure() {
            assert!(
                log.with_feedback >= 1,
                "{log:?}: the second answer must be asked with the errors in the prompt"
            );
        }
    }

    // No file corrupted: every module compiles, its code is unchanged.
    let check = python_check(dir.path(), &stdlib);
    let mut changed = 0;
    let mut breakouts: Vec<String> = Vec::new();
    for package in PACKAGES {
        let c = &check[package];
        assert_eq!(c["missing"], json!([]), "{package}: {c}");
        assert_eq!(c["extra"], json!([]), "{package}: {c}");
        assert_eq!(
            c["compile_errors"],
            json!([]),
            "{package}: files no longer compile"
        );
        assert_eq!(c["code_changed"], json!([]), "{package}: code changed");
        changed += count(&c["changed"]);
        breakouts.extend(
            c["breakout_docstrings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_string)),
        );
    }
    assert!(generated > 0 && changed > 0, "nothing was documented");
    // A breakout text that was written reads back as the model wrote it
    // (wrapping aside): escaped, not dropped, truncated or interpreted.
    let expected: Vec<String> = (0..BREAKOUT_KINDS)
        .map(|k| normalized(&breakout_text(k).1))
        .collect();
    assert!(!breakouts.is_empty(), "no breakout reply reached a file");
    for d in &breakouts {
        let d = normalized(d);
        assert!(
            expected.iter().any(|e| d.contains(e.as_str())),
            "a docstring holds a mangled breakout text: {d:?}"
        );
    }
    assert_eq!(
        count(&report["files_written"]),
        changed,
        "files_written must count the files that changed"
    );

    // Concurrency: reached and never exceeded.
    assert_eq!(
        server.max_in_flight(),
        CONCURRENCY,
        "the most requests in flight at the server"
    );

    // The key is in no output.
    let key = match protocol {
        Protocol::OpenAi => OPENAI_KEY,
        Protocol::Azure => AZURE_KEY,
    };
    let report_text =
        std::fs::read_to_string(dir.path().join("report.json")).expect("read report.json");
    for (what, text) in [
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
        ("report.json", &report_text),
    ] {
        assert!(!text.contains(key), "the API key leaked into {what}");
        assert!(
            !text.contains("SECRET"),
            "part of the API key leaked into {what}"
        );
    }
    for (path, bytes) in snapshot_tree(&dir.path().join("lib")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("SECRET"),
            "part of the API key was written into {}",
            path.display()
        );
    }

    // The report's model section.
    let model = &report["model"];
    assert!(count(&model["requests"]) > 0, "{model}");
    assert_eq!(
        count(&model["requests"]),
        server.requests() as u64,
        "the report counts every request the server saw, retries of calls that gave up included: {model}"
    );
    // Every transport retry of a unit that finally got an answer is counted.
    let transport_retries: usize = logs
        .values()
        .map(|l| match l.plan {
            Plan::RateLimitedMs
            | Plan::RateLimitedSeconds
            | Plan::ServerError
            | Plan::BodyNotJson
            | Plan::Dropped => 1,
            Plan::Unavailable => 2,
            _ => 0,
        })
        .sum();
    assert!(transport_retries > 0, "no transport failure was injected");
    assert!(
        count(&model["retries"]) >= transport_retries as u64,
        "the report counts fewer retries than the server forced: {model}"
    );
    assert!(count(&model["prompt_tokens"]) > 0, "{model}");
    assert!(count(&model["completion_tokens"]) > 0, "{model}");
    assert!(
        model["cost_usd"].as_f64().is_some_and(|c| c > 0.0),
        "{model}"
    );

    let mut plans: BTreeMap<String, usize> = BTreeMap::new();
    for log in logs.values() {
        *plans.entry(format!("{:?}", log.plan)).or_default() += 1;
    }
    eprintln!(
        "{protocol:?}: {units} units: {kept} kept, {generated} generated, {failed} failed; \
         {changed} files changed; {:.1} s\n  \
         server: {} requests, max {} in flight; report model: {model}\n  \
         plans of the units asked: {plans:?}\n  \
         failed by plan: {failed_by_plan:?}\n  reasons: {reasons_by_plan:#?}\n  \
         breakout docstrings written: {}",
        run.elapsed.as_secs_f64(),
        server.requests(),
        server.max_in_flight(),
        breakouts.len(),
    );
    for d in &breakouts {
        eprintln!("    {d:?}");
    }
}

#[test]
fn openai_endpoint_documents_a_real_package_under_injected_failures() {
    documents_a_real_package_under_injected_failures(Protocol::OpenAi);
}

#[test]
fn azure_endpoint_documents_a_real_package_under_injected_failures() {
    documents_a_real_package_under_injected_failures(Protocol::Azure);
}

#[test]
fn estimate_makes_no_request_and_writes_nothing() {
    let Some(stdlib) = stdlib() else {
        return;
    };
    let dir = workspace(&stdlib);
    let before = snapshot_tree(dir.path());
    let server = Server::start(Protocol::OpenAi);
    let out = configured(dir.path(), Protocol::OpenAi, &server)
        .args(["run", "generate", "lib", "--estimate"])
        .output()
        .expect("run docpipe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "--estimate exits 0\n{stdout}\n{stderr}"
    );
    assert_eq!(server.requests(), 0, "--estimate must call no model");
    assert_eq!(
        snapshot_tree(dir.path()),
        before,
        "--estimate must write nothing"
    );
    let all = format!("{stdout}{stderr}");
    assert!(!all.contains(OPENAI_KEY), "the API key leaked");
    assert!(all.contains("no model was called"), "{all}");
    // The estimate covers every unit that would be sent, with their tokens and cost.
    let figure = |label: &str| -> f64 {
        all.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.trim_start_matches('$').parse().ok())
            .unwrap_or_else(|| panic!("the estimate has no `{label}` figure: {all}"))
    };
    let units = figure("units:");
    assert!(units > 500.0, "{all}");
    assert_eq!(
        figure("requests:"),
        units,
        "one request per unit at batch_size 1"
    );
    assert!(figure("prompt tokens:") > units * 50.0, "{all}");
    assert!(figure("cost:") > 0.0, "{all}");
}
