//! The `token-budget` stage: `--estimate` calls no model, the `[budget]` caps
//! skip units past them with the reason, long units are shortened to fit.

mod llm_support;

use llm_support::fake_openai::{Auth, FakeServer, well_behaved};
use llm_support::{RunSpec, openai_settings, run, units};

fn set(url: &str, extra: &[&str]) -> Vec<String> {
    let mut s = openai_settings(url);
    s.extend(extra.iter().map(|e| e.to_string()));
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimate_counts_tokens_and_makes_no_request() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &[]),
            estimate: true,
            ..RunSpec::default()
        },
        units(2, 4),
    )
    .await
    .expect("runs");
    assert_eq!(ran.outcome.invariant, None);
    assert!(server.requests().is_empty(), "--estimate sent a request");
    assert_eq!(ran.count("skipped"), 8);
    for env in &ran.units {
        assert_eq!(env.state.reason(), Some("estimate only"));
        let budget = &env.extra["budget"];
        assert!(
            budget["prompt_tokens"].as_u64().is_some_and(|n| n > 100),
            "{budget}"
        );
        assert!(
            budget["cost_usd"].as_f64().is_some_and(|c| c > 0.0),
            "{budget}"
        );
    }
    assert_eq!(ran.outcome.report.model.requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_requests_skips_the_units_past_the_cap_with_the_reason() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["budget.max_requests=2"]),
            ..RunSpec::default()
        },
        units(1, 5),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 2, "{:?}", ran.reasons());
    assert_eq!(ran.count("skipped"), 3);
    assert!(
        ran.reasons().iter().all(|r| r.contains("max_requests")),
        "{:?}",
        ran.reasons()
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_cost_skips_the_units_past_the_cap_with_the_reason() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    // $1 per thousand prompt tokens: each unit costs well over $0.10, the cap admits few.
    let ran = run(
        RunSpec {
            set: set(
                &server.url,
                &[
                    "model.prices.gpt-4o-mini.input_per_mtok=1000",
                    "model.prices.gpt-4o-mini.output_per_mtok=1000",
                    "budget.max_cost_usd=1.5",
                ],
            ),
            ..RunSpec::default()
        },
        units(1, 6),
    )
    .await
    .expect("runs");
    let generated = ran.count("generated");
    assert!(
        (1..6).contains(&generated),
        "{generated} generated: {:?}",
        ran.reasons()
    );
    assert_eq!(ran.count("skipped"), 6 - generated);
    assert!(
        ran.reasons().iter().all(|r| r.contains("max_cost_usd")),
        "{:?}",
        ran.reasons()
    );
    assert!(ran.outcome.report.model.cost_usd > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_too_long_for_the_context_window_is_shortened_to_fit() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let mut input = units(1, 1);
    let unit = &mut input[0].2;
    let mut source = format!("{}\n    first_statement = alpha\n", unit.signature);
    for i in 0..2000 {
        source.push_str(&format!("    value_{i} = transform(alpha, beta, {i})\n"));
    }
    source.push_str("    return final_statement\n");
    unit.source = source.into();
    let ran = run(
        RunSpec {
            set: set(
                &server.url,
                &[
                    "model.context_window=6000",
                    "model.max_completion_tokens=1000",
                ],
            ),
            ..RunSpec::default()
        },
        input,
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 1, "{:?}", ran.reasons());
    let prompt = server.requests()[0].prompt();
    assert!(prompt.contains("first_statement = alpha"));
    assert!(prompt.contains("return final_statement"));
    assert!(prompt.contains("lines omitted to fit the context window"));
    let counter = docpipe_stages::budget::tokens::TokenCounter::for_model("gpt-4o-mini");
    assert!(
        counter.count(&prompt) < 6000 - 1000,
        "{} tokens",
        counter.count(&prompt)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_size_documents_several_units_of_a_file_in_one_request() {
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let ran = run(
        RunSpec {
            set: set(&server.url, &["model.batch_size=3"]),
            ..RunSpec::default()
        },
        units(2, 3),
    )
    .await
    .expect("runs");
    assert_eq!(ran.count("generated"), 6, "{:?}", ran.reasons());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.prompt().matches("### ").count(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_file_replaces_the_system_prompt_and_changes_the_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("prompt.toml");
    std::fs::write(&file, "system = \"You are terse. Style: {style}.\"\n").expect("write");
    let server = FakeServer::start(Auth::OpenAi(None), well_behaved()).await;
    let default = run(
        RunSpec {
            set: set(&server.url, &[]),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    let custom = run(
        RunSpec {
            set: set(
                &server.url,
                &[
                    &format!("model.prompt_file=\"{}\"", file.display()),
                    "style.name=\"google\"",
                ],
            ),
            ..RunSpec::default()
        },
        units(1, 1),
    )
    .await
    .expect("runs");
    assert_eq!(custom.count("generated"), 1, "{:?}", custom.reasons());
    let requests = server.requests();
    assert_eq!(
        requests[1].body["messages"][0]["content"],
        "You are terse. Style: google."
    );
    let version = |r: &llm_support::Ran| r.units[0].extra["prompt_version"].clone();
    assert_ne!(version(&default), version(&custom));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_model_goes_through_the_same_stages() {
    let ran = run(RunSpec::default(), units(1, 3)).await.expect("runs");
    assert_eq!(ran.count("generated"), 3, "{:?}", ran.reasons());
    assert!(ran.units.iter().all(|e| e.extra["model"] == "template"));
}
