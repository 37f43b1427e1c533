//! Fusion: a transform that only one transform feeds, with as many workers,
//! runs inside that transform's workers instead of in its own task.
//!
//! Between two CPU-bound per-unit stages (the extractor and the analyzer,
//! say) a channel queues every unit, wakes a parked worker, has both sides
//! contend for the receiver, and may hand the unit to another core. Fused,
//! the upstream worker hands the item to the downstream stage's `process`
//! directly. (In `check` over the standard library that saved only 0.3 % of
//! the instructions, see BENCHMARKS.md; it also keeps each unit on the core
//! that built it, and it costs nothing.) Nothing a stage can observe changes: at most as many `process`
//! calls run at once as the stage has workers, `finish` runs once after
//! every item, errors and counters belong to the stage they came from.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::validate::Plan;
use crate::model::{Item, ItemKind};
use crate::registry::StageRole;
use crate::stage::{StageContext, StageError, Transform};

use super::fanout::Emitter;

/// What the executor counts per stage, for the report and the ledger check.
pub(crate) struct StageCounters {
    pub(crate) received: AtomicU64,
    pub(crate) units_in: AtomicU64,
    pub(crate) units_out: Arc<AtomicU64>,
    /// Files emitted (by a source, for the progress bar).
    pub(crate) files_out: Arc<AtomicU64>,
    pub(crate) busy_ns: AtomicU64,
    /// The stage's task has ended.
    pub(crate) ended: AtomicBool,
}

impl StageCounters {
    pub(crate) fn new() -> StageCounters {
        StageCounters {
            received: AtomicU64::new(0),
            units_in: AtomicU64::new(0),
            units_out: Arc::new(AtomicU64::new(0)),
            files_out: Arc::new(AtomicU64::new(0)),
            busy_ns: AtomicU64::new(0),
            ended: AtomicBool::new(false),
        }
    }

    /// Counts an item coming in.
    pub(crate) fn receive(&self, item: &Item) {
        self.received.fetch_add(1, Ordering::Relaxed);
        if item.kind() == ItemKind::Unit {
            self.units_in.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The first fatal error of a run: (stage, message).
pub(crate) type Fatal = Arc<Mutex<Option<(String, String)>>>;

/// Records a stage's error; returns whether the stage should go on.
pub(crate) fn note_error(
    fatal: &Mutex<Option<(String, String)>>,
    ctx: &StageContext,
    r: Result<(), StageError>,
) -> bool {
    match r {
        Ok(()) => true,
        Err(StageError::Closed) => false,
        Err(StageError::Fatal(message)) => {
            let mut f = fatal.lock().unwrap_or_else(|p| p.into_inner());
            if f.is_none() {
                *f = Some((ctx.name.to_string(), message));
            }
            ctx.cancel.cancel();
            false
        }
    }
}

tokio::task_local! {
    /// Time spent in fused stages called from the current call, so that a
    /// stage's busy time counts only its own work.
    static NESTED_NS: Cell<u64>;
}

/// Runs `fut` (a worker's loop, a `finish`) with busy time accounting for
/// fused stages it calls.
pub(crate) async fn accounting<F: Future>(fut: F) -> F::Output {
    NESTED_NS.scope(Cell::new(0), fut).await
}

/// Awaits `fut` and adds the time it took, less the time fused stages it
/// called took (they count their own), to `busy_ns`.
pub(crate) async fn timed<F: Future>(busy_ns: &AtomicU64, fut: F) -> F::Output {
    let nested_before = NESTED_NS.try_with(Cell::get).unwrap_or(0);
    let started = Instant::now();
    let out = fut.await;
    let elapsed = started.elapsed().as_nanos() as u64;
    let nested = NESTED_NS
        .try_with(Cell::get)
        .unwrap_or(0)
        .saturating_sub(nested_before);
    busy_ns.fetch_add(elapsed.saturating_sub(nested), Ordering::Relaxed);
    // The caller's own time excludes this call's whole duration.
    let _ = NESTED_NS.try_with(|c| c.set(nested_before + elapsed));
    out
}

/// A transform running inside its upstream's workers.
pub(crate) struct FusedStage {
    pub(crate) type_name: String,
    pub(crate) transform: Arc<dyn Transform>,
    pub(crate) ctx: StageContext,
    pub(crate) out: Emitter,
    pub(crate) counters: Arc<StageCounters>,
    pub(crate) fatal: Fatal,
}

impl FusedStage {
    /// Hands `item` to the stage. Its fatal error is recorded under its own
    /// name; the caller sees `Closed` and stops like any stage whose
    /// downstream went away.
    pub(crate) async fn deliver(&self, item: Item) -> Result<(), StageError> {
        if self.ctx.cancel.is_cancelled() {
            return Err(StageError::Closed);
        }
        self.counters.receive(&item);
        let r = timed(
            &self.counters.busy_ns,
            self.transform.process(item, &self.ctx, &self.out),
        )
        .await;
        if note_error(&self.fatal, &self.ctx, r) {
            Ok(())
        } else {
            Err(StageError::Closed)
        }
    }

    /// The stage's `finish`, once its upstream has finished.
    pub(crate) async fn finish(&self) {
        if self.ctx.cancel.is_cancelled() {
            return;
        }
        let r = timed(
            &self.counters.busy_ns,
            self.transform.finish(&self.ctx, &self.out),
        )
        .await;
        note_error(&self.fatal, &self.ctx, r);
    }
}

/// The longest chain of stages fused one into the next. Each fused stage
/// runs inside its upstream's `process` call, so a chain nests that many
/// calls (and futures) on one worker's stack; past this length a stage gets
/// its own task and channel again, and a pipeline of any length runs.
pub(crate) const MAX_FUSED_DEPTH: usize = 8;

/// For each stage, the stage it is fused into (`Some(upstream)`), decided
/// from the plan alone: stage `j` is fused into `i` when `j` is a transform
/// whose only input is one port of transform `i`, that port feeds nothing
/// else, both run the same number of workers (so fusing neither
/// serialises nor multiplies `j`'s calls), and the chain fused into the
/// same task stays within [`MAX_FUSED_DEPTH`].
pub(crate) fn fused_into(plan: &Plan, jobs: usize) -> Vec<Option<usize>> {
    let n = plan.stages.len();
    let mut into = vec![None; n];
    let mut depth = vec![0usize; n];
    let edges_into = plan.edges_into();
    let mut port_consumers: std::collections::HashMap<(usize, &str), usize> =
        std::collections::HashMap::new();
    for e in &plan.edges {
        *port_consumers.entry((e.from, e.port.as_str())).or_insert(0) += 1;
    }
    // Upstream first, so that each stage sees its upstream's depth.
    for j in plan.topological_order() {
        let stage = &plan.stages[j];
        if stage.descriptor.role != StageRole::Transform {
            continue;
        }
        let [e] = edges_into[j].as_slice() else {
            continue;
        };
        let edge = &plan.edges[*e];
        let upstream = &plan.stages[edge.from];
        let shared_port = port_consumers
            .get(&(edge.from, edge.port.as_str()))
            .is_some_and(|&c| c > 1);
        if upstream.descriptor.role == StageRole::Transform
            && !shared_port
            && upstream.concurrency.resolve(jobs) == stage.concurrency.resolve(jobs)
            && depth[edge.from] < MAX_FUSED_DEPTH
        {
            into[j] = Some(edge.from);
            depth[j] = depth[edge.from] + 1;
        }
    }
    into
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nested_time_counts_once() {
        let outer = AtomicU64::new(0);
        let inner = AtomicU64::new(0);
        let started = Instant::now();
        accounting(timed(&outer, async {
            std::thread::sleep(std::time::Duration::from_millis(20));
            timed(&inner, async {
                std::thread::sleep(std::time::Duration::from_millis(40));
            })
            .await;
        }))
        .await;
        let total = started.elapsed().as_nanos() as u64;
        let outer = outer.load(Ordering::Relaxed);
        let inner = inner.load(Ordering::Relaxed);
        assert!(inner >= 40_000_000, "inner {inner} ns");
        assert!(outer >= 20_000_000, "outer {outer} ns");
        // Counted once: the outer stage's own part excludes the inner call.
        assert!(outer + inner <= total, "{outer} + {inner} > {total} ns");
    }
}
