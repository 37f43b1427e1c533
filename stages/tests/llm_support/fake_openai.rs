//! An in-process OpenAI / Azure OpenAI server on 127.0.0.1 for tests and the
//! benchmark: a small HTTP/1.1 responder (keep-alive, Content-Length bodies)
//! that records every request, counts requests in flight, and answers with
//! what the test's script says. Its default script writes a valid reply by
//! reading the built-in prompt (qualnames, parameters, returns, yields,
//! raises), so a run against it documents every unit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// Path without the query.
    pub path: String,
    /// Query string (without `?`).
    pub query: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Null` when it was not JSON).
    pub body: Value,
    /// When it arrived (fully read).
    pub at: Instant,
    /// 0-based index among all requests.
    pub index: usize,
}

impl Request {
    /// The header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of every message, joined.
    pub fn prompt(&self) -> String {
        self.body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["content"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }

    /// Which structured output mode the request uses.
    pub fn mode(&self) -> &'static str {
        if self.body.get("tools").is_some() {
            "tools"
        } else {
            match self
                .body
                .pointer("/response_format/type")
                .and_then(Value::as_str)
            {
                Some("json_schema") => "json_schema",
                Some("json_object") => "json_object",
                _ => "text",
            }
        }
    }
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP answer.
    Http {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: String,
    },
    /// Wait, then do the inner reply.
    After(Duration, Box<Reply>),
    /// Close the connection without answering.
    Close,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: Value) -> Reply {
        Reply::Http {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// An error status with OpenAI's error shape.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Http {
            status,
            headers: Vec::new(),
            body: json!({"error": {"message": message, "type": "test"}}).to_string(),
        }
    }

    /// Adds a header.
    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Http {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Reply::Http {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// Delays the reply.
    pub fn after(self, delay: Duration) -> Reply {
        Reply::After(delay, Box::new(self))
    }
}

/// Decides the reply to each request.
pub type Script = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Which protocol and key the server expects.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `POST /v1/chat/completions`; `Authorization: Bearer KEY` (or none).
    OpenAi(Option<String>),
    /// `POST /openai/deployments/{deployment}/chat/completions?api-version=..` with `api-key: KEY`.
    Azure { deployment: String, key: String },
}

struct State {
    auth: Auth,
    script: Mutex<Script>,
    requests: Mutex<Vec<Request>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    count: AtomicUsize,
}

/// A running fake server. Stops when dropped.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Starts a server expecting `auth`, answering with `script`.
    pub async fn start(auth: Auth, script: Script) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(State {
            auth,
            script: Mutex::new(script),
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            count: AtomicUsize::new(0),
        });
        let s = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                // No Nagle delay: a small answer must not wait for the client's delayed ACK.
                let _ = stream.set_nodelay(true);
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, s).await;
                });
            }
        });
        FakeServer {
            url: format!("http://127.0.0.1:{port}"),
            state,
            task,
        }
    }

    /// Replaces the script.
    pub fn set_script(&self, script: Script) {
        *self.state.script.lock().expect("script lock") = script;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().expect("requests lock").clone()
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn serve(stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let _method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
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
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        let request = Request {
            path,
            query,
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            at: Instant::now(),
            index: state.count.fetch_add(1, Ordering::SeqCst),
        };
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        state
            .requests
            .lock()
            .expect("requests lock")
            .push(request.clone());
        let reply = match check_protocol(&state.auth, &request) {
            Some(refusal) => refusal,
            None => {
                let script = state.script.lock().expect("script lock").clone();
                script(&request)
            }
        };
        let result = respond(&mut write, reply).await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !result? {
            return Ok(());
        }
    }
}

/// Returns whether the connection stays open.
async fn respond(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    reply: Reply,
) -> std::io::Result<bool> {
    let mut reply = reply;
    loop {
        match reply {
            Reply::After(delay, inner) => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            Reply::Close => return Ok(false),
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                    reason(status),
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                head.push_str(&body);
                write.write_all(head.as_bytes()).await?;
                write.flush().await?;
                return Ok(true);
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// The protocol's answer to a wrong path or key (echoing the key, as real
/// servers do, so tests see that clients scrub it).
fn check_protocol(auth: &Auth, request: &Request) -> Option<Reply> {
    match auth {
        Auth::OpenAi(key) => {
            if request.path != "/v1/chat/completions" {
                return Some(Reply::error(404, &format!("no route {}", request.path)));
            }
            if request.body.get("model").and_then(Value::as_str).is_none() {
                return Some(Reply::error(400, "you must provide a model parameter"));
            }
            let given = request.header("authorization").map(str::to_string);
            match (key, given) {
                (None, None) => None,
                (Some(k), Some(g)) if g == format!("Bearer {k}") => None,
                (_, g) => Some(Reply::error(
                    401,
                    &format!(
                        "Incorrect API key provided: {}",
                        g.unwrap_or_default().trim_start_matches("Bearer ")
                    ),
                )),
            }
        }
        Auth::Azure { deployment, key } => {
            let expected = format!("/openai/deployments/{deployment}/chat/completions");
            if request.path != expected || !request.query.starts_with("api-version=") {
                return Some(Reply::error(404, "Resource not found"));
            }
            match request.header("api-key") {
                Some(k) if k == key => None,
                other => Some(Reply::error(
                    401,
                    &format!(
                        "Access denied due to invalid subscription key {}",
                        other.unwrap_or_default()
                    ),
                )),
            }
        }
    }
}

/// A chat completion answering with `content`.
pub fn completion(content: &str, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    })
}

/// A chat completion answering with a tool call whose arguments are `args`.
pub fn tool_completion(args: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "docstrings", "arguments": args}}
        ]}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    })
}

/// One unit as the built-in prompt describes it.
#[derive(Debug, Clone, Default)]
pub struct PromptedUnit {
    /// Qualified name.
    pub qualname: String,
    /// Parameters to document.
    pub params: Vec<String>,
    /// A return value is expected.
    pub returns: bool,
    /// A generator.
    pub yields: bool,
    /// Exceptions to document.
    pub raises: Vec<String>,
}

/// The units a request's prompt asks about (built-in prompt format).
pub fn prompted_units(request: &Request) -> Vec<PromptedUnit> {
    let prompt = request.prompt();
    let mut units: Vec<PromptedUnit> = Vec::new();
    for line in prompt.lines() {
        if let Some(rest) = line.strip_prefix("### ") {
            let name = rest.split('`').nth(1).unwrap_or_default();
            units.push(PromptedUnit {
                qualname: name.to_string(),
                ..PromptedUnit::default()
            });
        } else if let Some(u) = units.last_mut() {
            if let Some(p) = line.strip_prefix("Parameters to document: ") {
                u.params = p
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_string)
                    .collect();
            } else if let Some(r) = line.strip_prefix("Returns: ") {
                u.returns = r.starts_with("yes");
            } else if let Some(y) = line.strip_prefix("Yields: ") {
                u.yields = y.starts_with("yes");
            } else if let Some(r) = line.strip_prefix("Raises: ")
                && r != "none found"
            {
                u.raises = r.split(", ").map(str::to_string).collect();
            }
        }
    }
    units
}

/// A valid reply for `units`; `summary` is the summary of each.
pub fn reply_for(units: &[PromptedUnit], summary: &str) -> Value {
    let docs: Vec<Value> = units
        .iter()
        .map(|u| {
            json!({
                "qualname": u.qualname,
                "summary": summary,
                "description": "",
                "params": u.params.iter().map(|p| json!({"name": p, "ty": null, "description": format!("The {p}.")})).collect::<Vec<_>>(),
                "returns": if u.returns { json!({"ty": null, "description": "The result."}) } else { Value::Null },
                "yields": if u.yields { json!({"ty": null, "description": "Each item."}) } else { Value::Null },
                "raises": u.raises.iter().map(|e| json!({"exception": e, "description": "On error."})).collect::<Vec<_>>(),
                "examples": "",
                "notes": ""
            })
        })
        .collect();
    json!({ "docstrings": docs })
}

/// The reply a well-behaved model gives: valid JSON in the mode the request asked for.
pub fn good_reply(request: &Request) -> Reply {
    let reply = reply_for(&prompted_units(request), "Do the thing.").to_string();
    match request.mode() {
        "tools" => Reply::json(tool_completion(&reply)),
        "text" => Reply::json(completion(
            &format!("Here it is:\n```json\n{reply}\n```\n"),
            "stop",
        )),
        _ => Reply::json(completion(&reply, "stop")),
    }
}

/// A script answering every request with [`good_reply`].
pub fn well_behaved() -> Script {
    Arc::new(good_reply)
}
