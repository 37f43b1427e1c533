//! The executor: backpressure, fan-out and fan-in, cancellation, fatal errors
//! and the unit ledger.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use support::{Gauge, Seen};

fn fresh() -> (Arc<Gauge>, Arc<Seen>, docpipe_core::registry::Registry) {
    let gauge = Arc::new(Gauge::default());
    let seen = Arc::new(Seen::default());
    let registry = support::registry(gauge.clone(), seen.clone());
    (gauge, seen, registry)
}

const LINEAR: &str = r#"
[stages.src]
type = "test-source"
units_per_file = 5000

[stages.pass]
type = "test-pass"
inputs = ["src"]

[stages.sink]
type = "test-sink"
inputs = ["pass"]
delay_us = 20
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sink_keeps_units_in_flight_bounded_by_the_channels() {
    let (gauge, _, registry) = fresh();
    let (outcome, _) = support::run(LINEAR, None, &registry, 8).await;
    assert_eq!(outcome.report.units, 5000);
    assert_eq!(outcome.report.finished(), 5000);
    assert!(outcome.invariant.is_none(), "{:?}", outcome.invariant);
    // Two channels of 8, one item in the transform's hands, one in the
    // source's and one in the sink's: without backpressure this would be ~5000.
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!(peak <= 2 * 8 + 3, "peak units in flight {peak}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_clones_to_every_consumer_and_fan_in_merges() {
    let (_, seen, registry) = fresh();
    let text = r#"
[stages.src]
type = "test-source"
files = 3
units_per_file = 100

[stages.split]
type = "test-split"
inputs = ["src"]

[stages.a]
type = "test-pass"
inputs = ["split.even"]

[stages.b]
type = "test-pass"
inputs = ["split.even", "split.odd"]
concurrency = 4

[stages.all]
type = "test-sink"
inputs = ["a", "b"]

[stages.odd_only]
type = "test-sink"
inputs = ["split.odd"]
"#;
    let (outcome, _) = support::run(text, None, &registry, 4).await;
    assert!(outcome.invariant.is_none(), "{:?}", outcome.invariant);
    assert_eq!(outcome.report.units, 300);
    let by_sink = seen.by_sink.lock().unwrap().clone();
    // Even units reach `all` twice (through a and b), odd ones once, plus once at `odd_only`.
    assert_eq!(by_sink["all"], 150 * 2 + 150);
    assert_eq!(by_sink["odd_only"], 150);
    // Each unit counts once in the report, however many sinks its copies reached.
    assert_eq!(outcome.report.finished(), 300);
    let split = outcome
        .report
        .stages
        .iter()
        .find(|s| s.name == "split")
        .unwrap();
    assert_eq!(split.received, 300);
    assert_eq!(split.emitted["even"], 150);
    assert_eq!(split.emitted["odd"], 150);
    let b = outcome
        .report
        .stages
        .iter()
        .find(|s| s.name == "b")
        .unwrap();
    assert_eq!(b.received, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_names_a_stage_that_drops_units() {
    let (_, _, registry) = fresh();
    let text = LINEAR.replace("inputs = [\"src\"]", "inputs = [\"src\"]\ndrop_every = 10");
    let (outcome, _) = support::run(&text, None, &registry, 8).await;
    let message = outcome.invariant.expect("dropped units must be reported");
    assert!(
        message.contains(
            "stage `pass` (test-pass) received 5000 unit(s) and emitted 4500: 500 unit(s) lost"
        ),
        "{message}"
    );
    assert!(message.contains("never reached a sink"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_names_a_stage_that_duplicates_units() {
    let (_, _, registry) = fresh();
    let text = LINEAR.replace(
        "inputs = [\"src\"]",
        "inputs = [\"src\"]\nduplicate_every = 1000",
    );
    let (outcome, _) = support::run(&text, None, &registry, 8).await;
    let message = outcome
        .invariant
        .expect("duplicated units must be reported");
    assert!(
        message.contains("emitted 5005: 5 unit(s) duplicated"),
        "{message}"
    );
    assert!(
        message.contains("reached a sink 1 extra time(s)"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_part_way_stops_new_work_and_finishes_only_whole_files() {
    let (gauge, seen, registry) = fresh();
    let text = r#"
[stages.src]
type = "test-source"
files = 100
units_per_file = 50

[stages.pass]
type = "test-pass"
inputs = ["src"]
cancel_after = 1225

[stages.sink]
type = "test-sink"
inputs = ["pass"]
whole_files = true
"#;
    let (outcome, handles) = support::run(text, None, &registry, 4).await;
    assert!(handles.cancel.is_cancelled());
    assert!(outcome.report.interrupted);
    assert!(outcome.fatal.is_none());
    assert!(
        outcome.invariant.is_none(),
        "the ledger is not judged after an interrupt"
    );
    assert_eq!(gauge.sink_finished_cancelled.load(Ordering::SeqCst), 1);
    // Stopped early: far from the 5000 units the source would make.
    assert!(
        outcome.report.units < 1400,
        "units {}",
        outcome.report.units
    );
    // Only whole files were completed; the part-file's units were released as skipped.
    let done = seen.files_done.lock().unwrap().len() as u64;
    assert!(done <= 25, "files done {done}");
    assert_eq!(outcome.report.by_state.generated, done * 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_fatal_error_stops_the_run_and_names_the_stage() {
    let (_, _, registry) = fresh();
    let text = LINEAR.replace("inputs = [\"src\"]", "inputs = [\"src\"]\nfail_after = 100");
    let (outcome, handles) = support::run(&text, None, &registry, 8).await;
    let (stage, message) = outcome.fatal.expect("fatal error reported");
    assert_eq!(stage, "pass");
    assert_eq!(message, "disk full while testing");
    assert!(handles.cancel.is_cancelled());
    assert!(outcome.report.units < 5000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_pipelines_run_only_their_stages() {
    let (_, seen, registry) = fresh();
    let text = format!(
        "{LINEAR}\n[stages.other]\ntype = \"test-sink\"\ninputs = [\"src\"]\n\n[pipelines.main]\nstages = [\"src\", \"pass\", \"sink\"]\n\n[pipelines.direct]\nstages = [\"src\", \"other\"]\n"
    );
    let (outcome, _) = support::run(&text, Some("direct"), &registry, 8).await;
    assert_eq!(outcome.report.pipeline, "direct");
    assert_eq!(outcome.report.finished(), 5000);
    let by_sink = seen.by_sink.lock().unwrap().clone();
    assert_eq!(by_sink.get("other"), Some(&5000));
    assert_eq!(by_sink.get("sink"), None);
}

/// `a` feeds `b` feeds `c`, all with one worker; `b` and `c` hold every unit
/// until `finish`, as batching stages do.
const CHAIN: &str = r#"
[stages.src]
type = "test-source"
files = 10
units_per_file = 300

[stages.a]
type = "test-pass"
inputs = ["src"]

[stages.b]
type = "test-pass"
inputs = ["a"]
hold = true

[stages.c]
type = "test-pass"
inputs = ["b"]
hold = true

[stages.sink]
type = "test-sink"
inputs = ["c"]
"#;

fn fused_into(outcome: &docpipe_core::executor::RunOutcome) -> Vec<(String, Option<String>)> {
    outcome
        .report
        .stages
        .iter()
        .map(|s| (s.name.clone(), s.fused_into.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transform_fed_by_one_transform_with_as_many_workers_runs_in_its_workers() {
    let (_, seen, registry) = fresh();
    let (outcome, _) = support::run(CHAIN, None, &registry, 8).await;
    assert_eq!(
        fused_into(&outcome),
        [
            ("src".to_string(), None),
            ("a".to_string(), None),
            ("b".to_string(), Some("a".to_string())),
            ("c".to_string(), Some("b".to_string())),
            ("sink".to_string(), None),
        ]
    );
    // `c` finished after `b` had handed it every unit: none was held back.
    assert!(outcome.invariant.is_none(), "{:?}", outcome.invariant);
    assert!(outcome.fatal.is_none(), "{:?}", outcome.fatal);
    assert_eq!(outcome.report.finished(), 3000);
    assert_eq!(seen.by_sink.lock().unwrap().get("sink"), Some(&3000));
    // Fused stages keep their own counters.
    for stage in &outcome.report.stages[1..4] {
        assert_eq!(stage.received, 3000, "{}", stage.name);
        assert_eq!(stage.emitted.get("out"), Some(&3000), "{}", stage.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fusion_changes_nothing_but_where_stages_run() {
    let (_, _, registry) = fresh();
    let (fused, _) = support::run_with(CHAIN, None, &registry, 8, true).await;
    let (_, _, registry) = fresh();
    let (apart, _) = support::run_with(CHAIN, None, &registry, 8, false).await;
    assert!(fused_into(&apart).iter().all(|(_, into)| into.is_none()));
    assert_eq!(fused.report.by_state, apart.report.by_state);
    let counts = |o: &docpipe_core::executor::RunOutcome| {
        o.report
            .stages
            .iter()
            .map(|s| (s.name.clone(), s.received, s.emitted.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&fused), counts(&apart));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_with_other_worker_counts_or_shared_ports_stay_apart() {
    let (_, _, registry) = fresh();
    // `b` has more workers than `a`: fused, its calls would be serialised.
    let text = CHAIN.replace(
        "hold = true\n\n[stages.c]",
        "hold = true\nconcurrency = 3\n\n[stages.c]",
    );
    let (outcome, _) = support::run(&text, None, &registry, 8).await;
    let into = fused_into(&outcome);
    assert_eq!(into[2], ("b".to_string(), None));
    assert_eq!(into[3], ("c".to_string(), None));
    assert_eq!(outcome.report.finished(), 3000);
    // A port that feeds two stages clones each item: no fusion either.
    let (_, _, registry) = fresh();
    let text = format!(
        "{CHAIN}\n[stages.d]\ntype = \"test-pass\"\ninputs = [\"a\"]\n\n[stages.sink2]\ntype = \"test-sink\"\ninputs = [\"d\"]\n"
    );
    let (outcome, _) = support::run(&text, None, &registry, 8).await;
    let into = fused_into(&outcome);
    assert_eq!(into[2], ("b".to_string(), None));
    assert_eq!(into[3], ("c".to_string(), Some("b".to_string())));
    assert_eq!(into[5], ("d".to_string(), None));
    assert_eq!(outcome.report.finished(), 3000);
    assert!(outcome.invariant.is_none(), "{:?}", outcome.invariant);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fused_stage_s_fatal_error_names_that_stage() {
    let (_, _, registry) = fresh();
    let text = CHAIN.replacen("hold = true", "fail_after = 100", 1);
    let (outcome, handles) = support::run(&text, None, &registry, 8).await;
    assert_eq!(
        fused_into(&outcome)[2],
        ("b".to_string(), Some("a".to_string()))
    );
    let (stage, message) = outcome.fatal.expect("fatal error reported");
    assert_eq!(stage, "b");
    assert_eq!(message, "disk full while testing");
    assert!(handles.cancel.is_cancelled());
    assert!(outcome.report.units < 3000);
}
