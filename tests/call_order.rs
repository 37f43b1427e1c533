//! Dependency-ordered generation through the real `docpipe` binary, against
//! an in-process OpenAI-compatible server that records every request: a
//! callee is documented before its caller and its summary is in the caller's
//! prompt, in one file and across files; calls in a cycle fall back to
//! source order; a caller waits no longer than `max_wait_ms`; and
//! `order = "source"` shows no callees.

#[allow(dead_code)]
#[path = "../stages/tests/llm_support/fake_openai.rs"]
mod fake_openai;
mod support;

use std::sync::Arc;
use std::time::Duration;

use fake_openai::{Auth, FakeServer, Reply, Request, completion, prompted_units, reply_for};

/// What the server answers for each unit: "Summary of QUALNAME."
fn summary_of(qualname: &str) -> String {
    format!("Summary of {qualname}.")
}

/// A valid answer, each unit summarised by its name; `b` answers after `slow_b`.
fn script(slow_b: Duration) -> fake_openai::Script {
    Arc::new(move |request: &Request| {
        let units = prompted_units(request);
        let name = units
            .first()
            .map(|u| u.qualname.clone())
            .unwrap_or_default();
        let body = reply_for(&units, &summary_of(&name)).to_string();
        let reply = Reply::json(completion(&body, "stop"));
        if name == "b" {
            reply.after(slow_b)
        } else {
            reply.after(Duration::from_millis(40))
        }
    })
}

struct Fixture {
    dir: tempfile::TempDir,
    server: FakeServer,
    /// Runs the server; dropped last.
    _runtime: tokio::runtime::Runtime,
}

fn fixture(slow_b: Duration) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let app = dir.path().join("app");
    std::fs::create_dir_all(&app).expect("create app/");
    let files = [
        ("__init__.py", "\"\"\"The app.\"\"\"\n"),
        (
            "same.py",
            "\"\"\"Callers and callees.\"\"\"\n\n\ndef a(x):\n    return b(x) + 1\n\n\ndef b(x):\n    return x * 2\n\n\ndef lone():\n    pass\n",
        ),
        (
            "main.py",
            "\"\"\"The entry point.\"\"\"\nfrom app.util import helper\n\n\ndef run(x):\n    return helper(x)\n",
        ),
        (
            "util.py",
            "\"\"\"Utilities.\"\"\"\n\n\ndef helper(x):\n    return x\n",
        ),
        (
            "cycle.py",
            "\"\"\"Two functions calling each other.\"\"\"\n\n\ndef c(n):\n    return d(n - 1) if n else 0\n\n\ndef d(n):\n    return c(n - 1) if n else 1\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(app.join(name), text).expect("write a fixture file");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the server");
    let server = runtime.block_on(FakeServer::start(Auth::OpenAi(None), script(slow_b)));
    Fixture {
        dir,
        server,
        _runtime: runtime,
    }
}

impl Fixture {
    fn generate(&self, settings: &[&str]) -> support::Ran {
        let mut args: Vec<String> = vec!["-v".into(), "run".into(), "generate".into()];
        for s in [
            "model.provider=openai".to_string(),
            format!("model.base_url={}/v1", self.server.url),
            "model.name=gpt-4o-mini".into(),
            "model.concurrency=4".into(),
        ]
        .into_iter()
        .chain(settings.iter().map(|s| s.to_string()))
        {
            args.push("--set".into());
            args.push(s);
        }
        args.extend(["--no-cache".into(), "app".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::run(self.dir.path(), &args)
    }

    /// The prompt of the one request about `qualname`, and its index.
    fn asked(&self, qualname: &str) -> (usize, String) {
        let found: Vec<(usize, String)> = self
            .server
            .requests()
            .iter()
            .filter(|r| prompted_units(r).iter().any(|u| u.qualname == qualname))
            .map(|r| (r.index, r.prompt()))
            .collect();
        assert_eq!(found.len(), 1, "one request about `{qualname}`: {found:?}");
        found.into_iter().next().unwrap_or_default()
    }

    fn file(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).expect("read a fixture file")
    }
}

fn callee_line(name: &str, qualname: &str) -> String {
    format!("- `{name}`: {}", summary_of(qualname))
}

#[test]
fn callees_are_documented_first_and_summarised_in_the_callers_prompt() {
    let f = fixture(Duration::from_millis(300));
    let ran = f.generate(&[]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);

    // In one file: b (slow to answer) before a, and its summary in a's prompt.
    let (b_at, b_prompt) = f.asked("b");
    let (a_at, a_prompt) = f.asked("a");
    assert!(b_at < a_at, "b asked at {b_at}, a at {a_at}");
    assert!(
        a_prompt.contains(&callee_line("b", "b")),
        "a's prompt:\n{a_prompt}"
    );
    assert!(!b_prompt.contains("Functions it calls"), "{b_prompt}");

    // Across files, by import: helper before run.
    let (helper_at, _) = f.asked("helper");
    let (run_at, run_prompt) = f.asked("run");
    assert!(
        helper_at < run_at,
        "helper asked at {helper_at}, run at {run_at}"
    );
    assert!(
        run_prompt.contains(&callee_line("app.util.helper", "helper")),
        "run's prompt:\n{run_prompt}"
    );

    // A cycle: source order, c first without d's summary, d with c's.
    let (c_at, c_prompt) = f.asked("c");
    let (d_at, d_prompt) = f.asked("d");
    assert!(c_at < d_at);
    assert!(!c_prompt.contains("Functions it calls"), "{c_prompt}");
    assert!(
        d_prompt.contains(&callee_line("c", "c")),
        "d's prompt:\n{d_prompt}"
    );

    // An unrelated unit of the same file does not wait for b.
    let (lone_at, _) = f.asked("lone");
    assert!(lone_at < a_at, "lone asked at {lone_at}, after a at {a_at}");

    assert!(f.file("app/same.py").contains("Summary of a."));
    assert!(ran.stderr.contains("waited for callees"), "{}", ran.stderr);
}

#[test]
fn a_caller_waits_no_longer_than_the_bound() {
    let f = fixture(Duration::from_secs(3));
    let ran = f.generate(&["stages.generate.max_wait_ms=300"]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let requests = f.server.requests();
    let at = |q: &str| {
        requests
            .iter()
            .find(|r| prompted_units(r).iter().any(|u| u.qualname == q))
            .map(|r| r.at)
            .expect("a request")
    };
    // a went out after the bound, long before b's answer came back.
    let waited = at("a").duration_since(at("b"));
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
        "a waited {waited:?}"
    );
    let (_, a_prompt) = f.asked("a");
    assert!(!a_prompt.contains("Summary of b."), "{a_prompt}");
    assert!(
        ran.stderr.contains("1 at the bound of 300 ms"),
        "{}",
        ran.stderr
    );
}

#[test]
fn source_order_shows_no_callees() {
    let f = fixture(Duration::from_millis(40));
    let ran = f.generate(&["stages.generate.order=source"]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    for r in f.server.requests() {
        assert!(!r.prompt().contains("Functions it calls"), "{}", r.prompt());
    }
    assert!(!ran.stderr.contains("waited for callees"), "{}", ran.stderr);
}

#[test]
fn an_unknown_order_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ran = support::run(
        dir.path(),
        &[
            "run",
            "generate",
            "--set",
            "stages.generate.order=callers-first",
            ".",
        ],
    );
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("callees-first"), "{}", ran.stderr);
}

/// `n` modules, each with a chain `top -> mid -> leaf`, `top` also calling
/// `app.util.shared`, and an unrelated `free`; the server answers after `latency`.
fn many_files(n: usize, latency: Duration) -> Fixture {
    let f = fixture(Duration::from_millis(40));
    let app = f.dir.path().join("app");
    std::fs::write(
        app.join("util.py"),
        "\"\"\"Utilities.\"\"\"\n\n\ndef helper(x):\n    return x\n\n\ndef shared(x):\n    return x\n",
    )
    .expect("write util.py");
    for i in 0..n {
        let text = format!(
            "\"\"\"Module {i}.\"\"\"\nfrom app.util import shared\n\n\ndef top_{i}(x):\n    return mid_{i}(x) + shared(x)\n\n\ndef mid_{i}(x):\n    return leaf_{i}(x)\n\n\ndef leaf_{i}(x):\n    return x\n\n\ndef free_{i}(x):\n    return x\n"
        );
        std::fs::write(app.join(format!("m{i:03}.py")), text).expect("write a module");
    }
    f.server.set_script(Arc::new(move |request: &Request| {
        let units = prompted_units(request);
        let name = units
            .first()
            .map(|u| u.qualname.clone())
            .unwrap_or_default();
        let body = reply_for(&units, &summary_of(&name)).to_string();
        Reply::json(completion(&body, "stop")).after(latency)
    }));
    f
}

#[test]
fn many_files_keep_the_slots_busy_while_callers_wait() {
    let n = 40;
    let latency = Duration::from_millis(50);
    let ordered = many_files(n, latency);
    let started = std::time::Instant::now();
    let ran = ordered.generate(&["model.concurrency=8"]);
    let ordered_wall = started.elapsed();
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let requests = ordered.server.requests();
    let index_of = |q: &str| {
        requests
            .iter()
            .find(|r| prompted_units(r).iter().any(|u| u.qualname == q))
            .map(|r| (r.index, r.prompt()))
            .unwrap_or_else(|| panic!("no request about `{q}`"))
    };
    for i in 0..n {
        let (leaf, _) = index_of(&format!("leaf_{i}"));
        let (mid, mid_prompt) = index_of(&format!("mid_{i}"));
        let (top, top_prompt) = index_of(&format!("top_{i}"));
        assert!(leaf < mid && mid < top, "module {i}: {leaf} {mid} {top}");
        assert!(mid_prompt.contains(&callee_line(&format!("leaf_{i}"), &format!("leaf_{i}"))));
        assert!(top_prompt.contains(&callee_line(&format!("mid_{i}"), &format!("mid_{i}"))));
        assert!(
            top_prompt.contains(&callee_line("app.util.shared", "shared")),
            "{top_prompt}"
        );
    }
    let waited = ran
        .stderr
        .lines()
        .find(|l| l.contains("waited for callees"))
        .unwrap_or_default()
        .to_string();

    let source = many_files(n, latency);
    let started = std::time::Instant::now();
    let ran = source.generate(&["model.concurrency=8", "stages.generate.order=source"]);
    let source_wall = started.elapsed();
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    eprintln!(
        "{} requests; callees-first {ordered_wall:?}, source {source_wall:?}; {waited}",
        requests.len()
    );
    // Waiting units hold no slot: ordering costs little more than the
    // chains' depth (three answers), not a request per waiting unit.
    assert!(
        ordered_wall <= source_wall * 2 + Duration::from_secs(1),
        "callees-first {ordered_wall:?}, source {source_wall:?}"
    );
}
