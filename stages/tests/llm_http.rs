//! The OpenAI and Azure backends over real HTTP against the in-process fake
//! server: success, auth failures, 429 with Retry-After, 5xx, malformed and
//! schema-violating replies, truncation, timeouts, fallback of the
//! structured output mode, concurrency and rpm limits.

mod llm_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use llm_support::fake_openai::{Auth, FakeServer, Reply, completion, good_reply, well_behaved};
use llm_support::{RunSpec, openai_settings, run, units};
use serde_json::json;

fn set(url: &str, extra: &[&str]) -> Vec<String> {
    let mut s = openai_settings(url);
    s.extend(extra.iter().map(|e| e.to_string()));
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_documents_every_unit_through_set_overrides() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    // Exactly the overrides the README gives.
    let settings = vec![
        "model.provider=openai".to_string(),
        format!("model.base_url={}/v1", server.url),
        "model.name=gpt-4o-mini".to_string(),
    ];
    let ran = run(
        RunSpec {
            set: settings,
            ..RunSpec::default()
        },
        units(2, 3),
    )
    .await
    .expect("runs");
    assert_eq!(ran.outcome.invariant, None);
    assert_eq!(ran.count("generated"), 6, "{:?}", ran.reasons());
    for env in &ran.units {
        let draft = env.draft.as_ref().expect("a draft");
        assert_eq!(draft.summary, "Do the thing.");
        let names: Vec<&str> = draft.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta"]);
        assert!(draft.returns.is_some());
        assert!(
            env.extra["prompt_version"]
                .as_str()
                .is_some_and(|v| v.starts_with("p-"))
        );
        assert_eq!(env.attempts, 1);
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 6);
    for r in &requests {
        assert_eq!(r.path, "/v1/chat/completions");
        assert_eq!(r.body["model"], "gpt-4o-mini");
        assert_eq!(r.mode(), "json_schema");
        assert_eq!(r.body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(
            r.header("authorization"),
            None,
            "no key configured: no Authorization header"
        );
    }
    let model = &ran.outcome.report.model;
    assert_eq!(
        (
            model.requests,
            model.retries,
            model.prompt_tokens,
            model.completion_tokens
        ),
        (6, 0, 600, 300)
    );
    // 600 x $0.15/M + 300 x $0.60/M
    assert!(
        (model.cost_usd - 0.000_27).abs() < 1e-9,
        "{}",
        model.cost_usd
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_sends_the_key_as_a_bearer_token() {
    let server =
        FakeServer::start(Auth::OpenAi(Some("sk-local-123456".into())), well_behaved()).await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            env: vec![("OPENAI_API_KEY", "sk-local-123456")],
            ..RunSpec::default()
        },
        units(1, 2),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 2, "{:?}", ran.reasons());
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer sk-local-123456")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_uses_the_deployment_path_and_api_key_header_from_the_environment() {
    let server = FakeServer::start(
        Auth::Azure {
            deployment: "docs-gpt4o".into(),
            key: "azure-key-abcdef".into(),
        },
        well_behaved(),
    )
    .await;
    let ran = run(
        RunSpec {
            set: vec!["model.provider=azure".into()],
            env: vec![
                ("AZURE_OPENAI_ENDPOINT", server.url.as_str()),
                ("AZURE_OPENAI_DEPLOYMENT", "docs-gpt4o"),
                ("AZURE_OPENAI_API_VERSION", "2024-10-21"),
                ("AZURE_OPENAI_API_KEY", "azure-key-abcdef"),
            ],
            ..RunSpec::default()
        },
        units(1, 3),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 3, "{:?}", ran.reasons());
    let r = &server.requests()[0];
    assert_eq!(r.path, "/openai/deployments/docs-gpt4o/chat/completions");
    assert_eq!(r.query, "api-version=2024-10-21");
    assert_eq!(r.header("api-key"), Some("azure-key-abcdef"));
    assert_eq!(r.header("authorization"), None);
    assert!(ran.units[0].extra["model"].as_str() == Some("azure:docs-gpt4o"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_azure_key_is_a_configuration_error_naming_the_variable() {
    let err = run(
        RunSpec {
            set: vec![
                "model.provider=azure".into(),
                "model.endpoint=https://x.openai.azure.com".into(),
                "model.deployment=d".into(),
            ],
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .err()
    .expect("a build error");
    assert!(err.contains("AZURE_OPENAI_API_KEY"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_fails_fast_without_retries() {
    let server =
        FakeServer::start(Auth::OpenAi(Some("sk-right-000000".into())), well_behaved()).await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.concurrency=1"]),
            env: vec![("OPENAI_API_KEY", "sk-wrong-999999")],
            ..RunSpec::default()
        },
        units(1, 4),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("failed"), 4);
    assert_eq!(
        server.requests().len(),
        1,
        "401 is not retried, and later units do not ask again"
    );
    for reason in ran.reasons() {
        assert!(reason.contains("refused the credentials (401)"), "{reason}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_after_429_honouring_retry_after() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index == 0 {
                Reply::error(429, "Rate limit reached").with_header("retry-after", "1")
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].at - requests[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "waited only {waited:?}"
    );
    assert_eq!(ran.outcome.report.model.retries, 1);
    assert_eq!(ran.outcome.report.model.requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_reset_headers_set_the_wait() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index == 0 {
                Reply::error(429, "Rate limit reached")
                    .with_header("x-ratelimit-reset-requests", "700ms")
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1);
    let requests = server.requests();
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(650));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let server =
        FakeServer::start(Auth::OpenAi(None), Arc::new(|_| Reply::error(500, "boom"))).await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.max_retries=2", "model.concurrency=1"]),
            ..RunSpec::default()
        },
        units(1, 2),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("failed"), 2);
    assert_eq!(server.requests().len(), 6, "1 try + 2 retries per unit");
    for reason in ran.reasons() {
        assert!(
            reason.contains("gave up after 3 attempt(s)")
                && reason.contains("server error (500): boom"),
            "{reason}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_asks_whether_the_server_runs_at_the_url() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let url = format!("http://127.0.0.1:{port}");
    let ran = run(
        RunSpec {
            set: set(
                &url,
                &[
                    "model.max_retries=1",
                    "model.retry_backoff_ms=1",
                    "model.concurrency=1",
                ],
            ),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("failed"), 1);
    for reason in ran.reasons() {
        assert!(
            reason.contains(&format!(
                "is the server running at {url}/v1/chat/completions?"
            )) && !reason.contains("max_retries"),
            "{reason}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_then_success_generates() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index < 2 {
                Reply::error(503, "overloaded")
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    assert_eq!(ran.outcome.report.model.retries, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json_is_retried() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index == 0 {
                Reply::Http {
                    status: 200,
                    headers: vec![],
                    body: "<html>proxy error</html>".into(),
                }
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_asked_again_with_the_error() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index == 0 {
                Reply::json(completion("{\"docstrings\": [", "stop"))
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    assert_eq!(ran.units[0].attempts, 2);
    let second = server.requests()[1].prompt();
    assert!(
        second.contains("Your previous answer was rejected") && second.contains("not valid JSON"),
        "{second}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_violation_fails_after_max_attempts_with_the_path() {
    let bad = json!({"docstrings": [{"qualname": "func_0", "summary": 42}]}).to_string();
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(move |_| Reply::json(completion(&bad, "stop"))),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("failed"), 1);
    assert_eq!(server.requests().len(), 3, "max_attempts = 3 answers");
    let reason = &ran.reasons()[0];
    assert!(
        reason.starts_with("no valid docstring after 3 answer(s)"),
        "{reason}"
    );
    assert!(reason.contains("/docstrings/0"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_mismatch_is_fed_back_and_fixed() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index == 0 {
                let wrong = json!({"docstrings": [{"qualname": "func_0", "summary": "Do.", "description": "",
                    "params": [{"name": "gamma", "ty": null, "description": "G."}], "returns": null, "yields": null,
                    "raises": [], "examples": "", "notes": ""}]});
                Reply::json(completion(&wrong.to_string(), "stop"))
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    let second = server.requests()[1].prompt();
    assert!(
        second.contains("parameter `alpha` of `func_0` is not documented"),
        "{second}"
    );
    assert!(
        second.contains("documented parameter `gamma` is not a parameter of `func_0`"),
        "{second}"
    );
    assert!(
        second.contains("the return value of `func_0` is not documented"),
        "{second}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_reply_is_asked_again_with_more_completion_tokens() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index == 0 {
                Reply::json(completion("{\"docstrings\": [{\"qual", "length"))
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    let requests = server.requests();
    let first = requests[0].body["max_tokens"].as_u64().expect("max_tokens");
    let second = requests[1].body["max_tokens"].as_u64().expect("max_tokens");
    assert_eq!(second, first * 2);
    assert!(requests[1].prompt().contains("cut off"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_slower_than_the_timeout_is_retried() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| {
            if r.index == 0 {
                good_reply(r).after(Duration::from_secs(3))
            } else {
                good_reply(r)
            }
        }),
    )
    .await;
    let started = std::time::Instant::now();
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.timeout_s=0.3"]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    assert_eq!(ran.outcome.report.model.retries, 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the slow reply was awaited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_always_slower_than_the_timeout_fails_the_unit_with_the_reason() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| good_reply(r).after(Duration::from_secs(2))),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.timeout_s=0.2", "model.max_retries=1"]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("failed"), 1);
    assert!(
        ran.reasons()[0].contains("no answer within 0.2 s"),
        "{:?}",
        ran.reasons()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_that_try_to_break_out_of_the_docstring_reach_the_draft_intact() {
    let hostile = "Ends here.\"\"\" ; import os; os.system('x') #";
    let description =
        "Backslashes \\ \\\\ \\n '''single''' and \"\"\"triple\"\"\" quotes, a NUL \u{0} too.";
    let reply = json!({"docstrings": [{"qualname": "func_0", "summary": hostile, "description": description,
        "params": [{"name": "alpha", "ty": "str\"\"\"", "description": "\\\"\"\""}, {"name": "beta", "ty": null, "description": "B."}],
        "returns": {"ty": null, "description": "R."}, "yields": null, "raises": [], "examples": ">>> f('\"\"\"')", "notes": ""}]})
    .to_string();
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(move |_| Reply::json(completion(&reply, "stop"))),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    let draft = ran.units[0].draft.as_ref().expect("draft");
    assert_eq!(draft.summary, hostile);
    assert_eq!(draft.description, description);
    assert_eq!(draft.params[0].ty.as_deref(), Some("str\"\"\""));
    assert_eq!(draft.params[0].description, "\\\"\"\"");
    assert_eq!(draft.examples, ">>> f('\"\"\"')");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_output_steps_down_and_remembers_the_mode_that_works() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| match r.mode() {
            "json_schema" => Reply::error(400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model"),
            "tools" => Reply::error(400, "tools are not supported by this server"),
            _ => good_reply(r),
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.concurrency=1"]),
            ..RunSpec::default()
        },
        units(1, 3),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 3, "{:?}", ran.reasons());
    let modes: Vec<&'static str> = server.requests().iter().map(|r| r.mode()).collect();
    assert_eq!(
        modes,
        [
            "json_schema",
            "tools",
            "json_object",
            "json_object",
            "json_object"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_mode_reads_a_fenced_block_and_tools_mode_reads_arguments() {
    for (mode, expected) in [("text", "text"), ("tools", "tools")] {
        let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
        let ran = run(
            RunSpec {
                set: set(&server.url, &[&format!("model.structured_output={mode}")]),
                ..RunSpec::default()
            },
            units(1, 2),
        )
        .await
        .expect("runs");
        assert_eq!(ran.count("generated"), 2, "{mode}: {:?}", ran.reasons());
        assert!(server.requests().iter().all(|r| r.mode() == expected));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observed_concurrency_reaches_the_limit_and_never_exceeds_it() {
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(|r| good_reply(r).after(Duration::from_millis(100))),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.concurrency=5"]),
            ..RunSpec::default()
        },
        units(4, 10),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 40, "{:?}", ran.reasons());
    assert_eq!(server.max_in_flight(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpm_paces_requests_so_a_run_at_its_quota_meets_no_429() {
    // The server allows 10 requests in any sliding second (600 per minute, counted finely).
    let rejected = Arc::new(AtomicUsize::new(0));
    let times: Arc<std::sync::Mutex<Vec<std::time::Instant>>> = Arc::default();
    let (r2, t2) = (rejected.clone(), times.clone());
    let server = FakeServer::start(
        Auth::OpenAi(None),
        Arc::new(move |r| {
            let mut t = t2.lock().expect("lock");
            let recent = t
                .iter()
                .filter(|x| r.at.duration_since(**x) < Duration::from_millis(1000))
                .count();
            // One of tolerance for timer jitter between client and server clocks.
            if recent >= 11 {
                r2.fetch_add(1, Ordering::SeqCst);
                return Reply::error(429, "Rate limit reached for requests");
            }
            t.push(r.at);
            good_reply(r)
        }),
    )
    .await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.rpm=600", "model.concurrency=16"]),
            ..RunSpec::default()
        },
        units(2, 10),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 20, "{:?}", ran.reasons());
    assert_eq!(
        rejected.load(Ordering::SeqCst),
        0,
        "no 429 at the configured quota"
    );
    let requests = server.requests();
    let span = requests[requests.len() - 1].at - requests[0].at;
    assert!(
        span >= Duration::from_millis(1850),
        "20 requests at 10/s took only {span:?}"
    );
}
