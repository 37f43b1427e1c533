//! API keys never appear in logs, errors, reports or Debug output: runs that
//! fail with a known key (401 echoing it, 429 and 5xx retries) are searched
//! for the key in every string they produce.

mod llm_support;

use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};

use docpipe_core::chat::{ChatMessage, ChatRequest, Model};
use docpipe_stages::llm::openai::{ChatModel, Endpoint};
use docpipe_stages::llm::secrets::Secret;
use docpipe_stages::llm::section::ModelSection;
use llm_support::fake_openai::{Auth, FakeServer, Reply, good_reply};
use llm_support::{RunSpec, openai_settings, run, units};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const KEY: &str = "sk-proj-SECRETabcdef0123456789XYZ";
const AZURE_KEY: &str = "azkey-0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Every tracing event and span field, as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Visitor<'a>(&'a Mutex<String>);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if let Ok(mut s) = self.0.lock() {
            s.push_str(&format!("{}={value:?}\n", field.name()));
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Visitor(&self.0));
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Visitor(&self.0));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        event.record(&mut Visitor(&self.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn capture() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let c = Capture::default();
            let _ = tracing::subscriber::set_global_default(c.clone());
            c
        })
        .clone()
}

/// Fails when `text` holds the key or a long piece of it.
fn assert_clean(what: &str, text: &str) {
    for key in [KEY, AZURE_KEY] {
        let chars: Vec<char> = key.chars().collect();
        for window in chars.windows(10) {
            let piece: String = window.iter().collect();
            assert!(
                !text.contains(&piece),
                "{what} contains `{piece}` of the key:\n{text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_in_no_log_error_report_or_debug_output() {
    let logs = capture();
    let server = FakeServer::start(
        Auth::OpenAi(Some("sk-the-right-one-000".into())),
        Arc::new(good_reply),
    )
    .await;
    let mut produced: Vec<(String, String)> = Vec::new();

    // A failing run (401 echoing the key) through the whole pipeline.
    let ran = run(
        RunSpec {
            set: openai_settings(&server.url),
            env: vec![("OPENAI_API_KEY", KEY)],
            ..RunSpec::default()
        },
        units(1, 3),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("failed"), 3);
    assert!(ran.reasons()[0].contains("401"), "{:?}", ran.reasons());
    produced.push((
        "report".into(),
        serde_json::to_string(&ran.outcome.report).expect("json"),
    ));
    produced.push(("report debug".into(), format!("{:?}", ran.outcome)));
    for env in &ran.units {
        produced.push(("envelope".into(), serde_json::to_string(env).expect("json")));
        produced.push(("envelope debug".into(), format!("{env:?}")));
    }

    // Retried failures log warnings: 429 and 500 bodies that echo the key.
    let server2 = FakeServer::start(
        Auth::OpenAi(Some(KEY.into())),
        Arc::new(|r| match r.index {
            0 => Reply::error(429, &format!("Rate limit for key {KEY}"))
                .with_header("retry-after", "0"),
            1 => Reply::error(500, &format!("upstream failed for {KEY}")),
            _ => good_reply(r),
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: openai_settings(&server2.url),
            env: vec![("OPENAI_API_KEY", KEY)],
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    produced.push((
        "report after retries".into(),
        serde_json::to_string(&ran.outcome.report).expect("json"),
    ));

    // The model itself: Debug, and the error of a refused request.
    let section = ModelSection {
        max_retries: 0,
        ..ModelSection::default()
    };
    for (endpoint, key) in [
        (
            Endpoint::OpenAi {
                url: format!("{}/v1/chat/completions", server.url),
                key: Some(Secret::new(KEY)),
                model: "gpt-4o-mini".into(),
            },
            KEY,
        ),
        (
            Endpoint::Azure {
                url: format!(
                    "{}/openai/deployments/d/chat/completions?api-version=1",
                    server.url
                ),
                key: Secret::new(AZURE_KEY),
            },
            AZURE_KEY,
        ),
    ] {
        produced.push(("endpoint debug".into(), format!("{endpoint:?}")));
        let model = ChatModel::new("test".into(), endpoint, &section).expect("builds");
        produced.push(("model debug".into(), format!("{model:?}")));
        let err = model
            .complete(ChatRequest {
                messages: vec![ChatMessage::new("user", "hi")],
                ..ChatRequest::default()
            })
            .await
            .expect_err("refused");
        produced.push(("error display".into(), err.to_string()));
        produced.push(("error debug".into(), format!("{err:?}")));
        assert!(!err.to_string().is_empty());
        let _ = key;
    }

    let logged = logs.0.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        logged.contains("retrying"),
        "the retries were logged:\n{logged}"
    );
    produced.push(("logs".into(), logged));
    // The server did receive the key: the search would find it if it leaked.
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.header("authorization") == Some(&format!("Bearer {KEY}")))
    );
    for (what, text) in &produced {
        assert_clean(what, text);
    }
}
