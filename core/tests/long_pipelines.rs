//! Pipelines of any length: validation and the executor walk the graph
//! without recursion, so a chain of ten thousand stages neither overflows a
//! stack nor takes quadratic time (BENCHMARKS.md, stages, has the timings).

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use support::{Gauge, Seen};

const STAGES: usize = 10_000;

fn registry() -> docpipe_core::registry::Registry {
    support::registry(Arc::new(Gauge::default()), Arc::new(Seen::default()))
}

/// `src -> p0 -> p1 -> ... -> p{n-1} -> sink`, plus `extra` after the chain.
fn chain(n: usize, extra: &str) -> String {
    let mut text =
        String::from("[stages.src]\ntype = \"test-source\"\nfiles = 3\nunits_per_file = 4\n");
    let mut previous = "src".to_string();
    for i in 0..n {
        text.push_str(&format!(
            "\n[stages.p{i}]\ntype = \"test-pass\"\ninputs = [\"{previous}\"]\n"
        ));
        previous = format!("p{i}");
    }
    text.push_str(&format!(
        "\n[stages.sink]\ntype = \"test-sink\"\ninputs = [\"{previous}\"]\n{extra}"
    ));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_chained_stages_validate_and_run_every_unit_to_the_sink() {
    let registry = registry();
    let (outcome, _) = support::run(&chain(STAGES, ""), None, &registry, 4).await;
    assert_eq!(outcome.fatal, None);
    assert_eq!(outcome.invariant, None);
    assert_eq!(outcome.report.units, 12);
    assert_eq!(outcome.report.by_state.generated, 12);
    assert_eq!(outcome.report.stages.len(), STAGES + 2);
    let last = &outcome.report.stages[STAGES];
    assert_eq!((last.name.as_str(), last.received), ("p9999", 12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fusion_nests_a_bounded_number_of_stages_however_long_the_chain() {
    let registry = registry();
    let (outcome, _) = support::run(&chain(100, ""), None, &registry, 4).await;
    assert_eq!(outcome.invariant, None);
    let into: HashMap<&str, Option<&str>> = outcome
        .report
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.fused_into.as_deref()))
        .collect();
    let mut longest = 0;
    for s in &outcome.report.stages {
        let mut depth = 0;
        let mut at = s.name.as_str();
        while let Some(Some(up)) = into.get(at) {
            depth += 1;
            at = up;
        }
        longest = longest.max(depth);
    }
    // p0 is fed by the source (a task of its own); p1.. fuse in runs of 8.
    assert_eq!(longest, 8, "{into:?}");
    assert!(into["p1"].is_some() && into["p9"].is_none(), "{into:?}");
}

#[test]
fn a_cycle_through_ten_thousand_stages_is_found_and_printed() {
    // p0 takes input from the last stage too: every stage is on the cycle.
    let text = chain(STAGES, "").replacen(
        "inputs = [\"src\"]",
        &format!("inputs = [\"src\", \"p{}\"]", STAGES - 1),
        1,
    );
    let rendered = match support::check(&text, &[], &registry()) {
        Ok(_) => panic!("a cycle validated"),
        Err(e) => e.render(false),
    };
    assert!(
        rendered.contains("the stages form a cycle: p0 -> p1 -> p2"),
        "{}",
        &rendered[..rendered.len().min(400)]
    );
    assert!(rendered.contains("p9999 -> p0\n"));
}
