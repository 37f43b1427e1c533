//! Exact accounting: every unit that entered the graph is counted once, in
//! one final state, in the report and in the live progress counters, also
//! when the run is interrupted part way or a stage fails.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use docpipe_core::executor::{Progress, RunOutcome};
use support::{Gauge, Seen};

fn registry() -> docpipe_core::registry::Registry {
    support::registry(Arc::new(Gauge::default()), Arc::new(Seen::default()))
}

/// Units fan out to two sinks; one holds units until their file is whole.
fn pipeline(pass_options: &str) -> String {
    format!(
        r#"
[stages.src]
type = "test-source"
files = 40
units_per_file = 25

[stages.pass]
type = "test-pass"
inputs = ["src"]
{pass_options}

[stages.split]
type = "test-split"
inputs = ["pass"]

[stages.records]
type = "test-sink"
inputs = ["split.even", "split.odd"]
whole_files = true

[stages.log]
type = "test-sink"
inputs = ["split.odd"]
"#
    )
}

fn assert_adds_up(outcome: &RunOutcome, progress: &Progress, context: &str) {
    let r = &outcome.report;
    let b = &r.by_state;
    assert_eq!(b.total(), r.units, "{context}: {b:?} of {} units", r.units);
    assert_eq!(r.failures.len() as u64, b.failed, "{context}");
    let live = [
        progress.kept.load(Ordering::Relaxed),
        progress.cached.load(Ordering::Relaxed),
        progress.generated.load(Ordering::Relaxed),
        progress.failed.load(Ordering::Relaxed),
        progress.skipped.load(Ordering::Relaxed),
        progress.cancelled.load(Ordering::Relaxed),
    ];
    assert_eq!(
        live,
        [
            b.kept,
            b.cached,
            b.generated,
            b.failed,
            b.skipped,
            b.cancelled
        ],
        "{context}: the progress counters and the report disagree"
    );
    assert_eq!(
        progress.finished.load(Ordering::Relaxed),
        r.units,
        "{context}"
    );
    assert_eq!(
        progress.entered.load(Ordering::Relaxed),
        r.units,
        "{context}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_to_two_sinks_counts_each_unit_once() {
    let registry = registry();
    let (outcome, handles) = support::run(&pipeline(""), None, &registry, 8).await;
    assert_eq!(outcome.invariant, None);
    assert_eq!(outcome.report.units, 1000);
    assert_eq!(outcome.report.by_state.generated, 1000);
    assert_adds_up(&outcome, &handles.progress, "whole run");
    assert_eq!(handles.progress.files_done.load(Ordering::Relaxed), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_accounts_for_every_unit_at_any_point() {
    let registry = registry();
    for cancel_after in [1, 2, 13, 64, 333, 640, 999] {
        let text = pipeline(&format!("cancel_after = {cancel_after}"));
        let (outcome, handles) = support::run(&text, None, &registry, 8).await;
        let context = format!("cancelled after {cancel_after} units");
        assert!(outcome.report.interrupted, "{context}");
        assert!(outcome.report.units >= cancel_after, "{context}");
        assert_adds_up(&outcome, &handles.progress, &context);
        // Units of files the holding sink had not completed, and units left
        // in channels, are cancelled, not skipped or lost.
        assert_eq!(outcome.report.by_state.skipped, 0, "{context}");
        assert!(
            outcome.report.units == 1000 || outcome.report.by_state.cancelled > 0,
            "{context}: {:?}",
            outcome.report.by_state
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_error_part_way_accounts_for_every_unit() {
    let registry = registry();
    for fail_after in [1, 100, 500] {
        let text = pipeline(&format!("fail_after = {fail_after}"));
        let (outcome, handles) = support::run(&text, None, &registry, 8).await;
        let context = format!("failed after {fail_after} units");
        assert!(outcome.fatal.is_some(), "{context}");
        assert_adds_up(&outcome, &handles.progress, &context);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_a_stage_drops_are_counted_failed_and_named() {
    let registry = registry();
    let (outcome, handles) = support::run(&pipeline("drop_every = 10"), None, &registry, 8).await;
    assert!(outcome.invariant.is_some());
    assert_eq!(outcome.report.by_state.failed, 100);
    assert!(
        outcome.report.failures[0]
            .reason
            .contains("never reached a sink")
    );
    assert_adds_up(&outcome, &handles.progress, "dropping every tenth unit");
}
