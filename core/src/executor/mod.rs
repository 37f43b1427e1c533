//! Runs a [`Plan`] on tokio: one task per source and sink, `concurrency`
//! workers per transform, bounded channels between them (backpressure),
//! fan-out by cloning, fan-in by sharing a channel, a clean end of stream,
//! cancellation, and the unit ledger checked at the end.

mod fanout;
mod fuse;
mod ledger;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use fanout::Emitter;
use fanout::{Consumer, Port};
use fuse::{Fatal, FusedStage, StageCounters, accounting, fused_into, note_error, timed};
pub use ledger::{Ledger, UnitName};

use crate::config::ConfigError;
use crate::config::validate::{Plan, Validated};
use crate::model::{Envelope, Item, ItemKind, UnitState};
use crate::printable;
use crate::registry::{BuildContext, Registry, StageRole};
use crate::report::{Diagnostics, RunReport, RunStats, StageReport};
use crate::stage::{BuiltStage, RunOptions, SinkSummary, StageContext, StageError};

/// Builds every stage of `plan` for a real run.
pub fn build_stages(
    validated: &Validated,
    plan: &Plan,
    registry: &Registry,
    run: Arc<RunOptions>,
) -> Result<Vec<BuiltStage>, ConfigError> {
    let config = &validated.config;
    let mut built = Vec::new();
    let mut errors = Vec::new();
    for s in &plan.stages {
        let ctx = BuildContext {
            stage: &s.name,
            config,
            registry,
            run: run.clone(),
            validate_only: false,
        };
        match s.descriptor.build(&s.options, &ctx) {
            Ok(b) => built.push(b),
            Err(e) => errors.extend(e.into_diagnostics(config, &s.name, &[])),
        }
    }
    if errors.is_empty() {
        Ok(built)
    } else {
        Err(ConfigError::many(&config.doc.source, errors))
    }
}

/// Knobs of the executor.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Capacity of each channel between stages.
    pub channel_capacity: usize,
    /// Workers for stages whose concurrency follows `--jobs`.
    pub jobs: usize,
    /// Run a transform fed only by another transform with as many workers
    /// inside that transform's workers (see `fuse`). Off only to compare.
    pub fuse: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            channel_capacity: 64,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            fuse: true,
        }
    }
}

/// An item that kept a transform worker this long is followed by a yield
/// (see the worker loop). Parsing a file takes milliseconds; handling a unit
/// takes microseconds and does not pay for the extra scheduling.
const LONG_ITEM: Duration = Duration::from_micros(200);

/// Live counters for a progress bar or a status line.
#[derive(Debug, Default)]
pub struct Progress {
    /// Units that entered the graph.
    pub entered: AtomicU64,
    /// Units that left it: every copy released by a sink.
    pub finished: AtomicU64,
    /// Of those, kept as they were.
    pub kept: AtomicU64,
    /// Of those, with a docstring from the cache.
    pub cached: AtomicU64,
    /// Of those, with a docstring from the model.
    pub generated: AtomicU64,
    /// Of those, failed.
    pub failed: AtomicU64,
    /// Of those, skipped.
    pub skipped: AtomicU64,
    /// Of those, cancelled.
    pub cancelled: AtomicU64,
    /// Files the sources listed (or, for a source that does not list ahead, emitted).
    pub files_found: AtomicU64,
    /// Files done: every unit settled, or left out with a file-level finding.
    pub files_done: AtomicU64,
    /// Every source has listed its files or ended: `files_found` is the total.
    pub listing_done: AtomicBool,
}

impl Progress {
    /// Counts a unit that left the graph in `state`.
    fn settle(&self, state: &UnitState) {
        let counter = match state {
            UnitState::Pending | UnitState::Kept => &self.kept,
            UnitState::Cached => &self.cached,
            UnitState::Generated => &self.generated,
            UnitState::Failed { .. } => &self.failed,
            UnitState::Skipped { .. } => &self.skipped,
            UnitState::Cancelled => &self.cancelled,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.finished.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads the counters the executor keeps elsewhere.
    fn sample(
        &self,
        ledger: &Ledger,
        stats: &RunStats,
        diagnostics: &Diagnostics,
        sources: &[(Arc<str>, Arc<StageCounters>)],
    ) {
        self.entered.store(ledger.entered(), Ordering::Relaxed);
        let mut found = 0;
        let mut listed = true;
        for (name, counters) in sources {
            let emitted = counters.files_out.load(Ordering::Relaxed);
            match stats.listed(name) {
                Some(n) => found += n.max(emitted),
                None => {
                    found += emitted;
                    listed &= counters.ended.load(Ordering::Relaxed);
                }
            }
        }
        self.files_found.store(found, Ordering::Relaxed);
        self.listing_done.store(listed, Ordering::Relaxed);
        self.files_done.store(
            ledger.files_settled() + diagnostics.len(),
            Ordering::Relaxed,
        );
    }
}

/// Shared pieces a run needs besides the plan.
#[derive(Clone)]
pub struct RunHandles {
    /// Cancel to stop the run (Ctrl+C, SIGTERM).
    pub cancel: CancellationToken,
    /// The command line's wishes.
    pub run: Arc<RunOptions>,
    /// File-level findings.
    pub diagnostics: Arc<Diagnostics>,
    /// Model and cache counters.
    pub stats: Arc<RunStats>,
    /// Progress counters.
    pub progress: Arc<Progress>,
}

impl RunHandles {
    /// Fresh handles for `run`.
    pub fn new(run: Arc<RunOptions>) -> RunHandles {
        RunHandles {
            cancel: CancellationToken::new(),
            run,
            diagnostics: Arc::new(Diagnostics::default()),
            stats: Arc::new(RunStats::default()),
            progress: Arc::new(Progress::default()),
        }
    }
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report.
    pub report: RunReport,
    /// What the sinks said.
    pub sinks: Vec<(String, SinkSummary)>,
    /// The first fatal error, by stage.
    pub fatal: Option<(String, String)>,
    /// The unit ledger did not balance (names the stage and units).
    pub invariant: Option<String>,
}

impl RunOutcome {
    /// Problems reported by sinks.
    pub fn problems(&self) -> u64 {
        self.sinks.iter().map(|(_, s)| s.problems).sum()
    }
}

/// Runs `stages` (built from `plan`, in the same order) to the end.
pub async fn execute(
    plan: &Plan,
    stages: Vec<BuiltStage>,
    handles: RunHandles,
    options: ExecOptions,
) -> RunOutcome {
    let started = Instant::now();
    let n = plan.stages.len();
    let ledger = Arc::new(Ledger::default());
    let report = Arc::new(Mutex::new(RunReport {
        pipeline: plan.pipeline.clone().unwrap_or_default(),
        ..RunReport::default()
    }));
    let fatal: Fatal = Arc::new(Mutex::new(None));
    let sinks: Arc<Mutex<Vec<(String, SinkSummary)>>> = Arc::new(Mutex::new(Vec::new()));

    // Stages fused into their upstream get neither a task nor a channel.
    let fused: Vec<Option<usize>> = if options.fuse {
        fused_into(plan, options.jobs)
            .into_iter()
            .zip(&stages)
            .map(|(into, built)| into.filter(|_| matches!(built, BuiltStage::Transform(_))))
            .collect()
    } else {
        vec![None; n]
    };

    // One input channel per stage that has inputs and its own task; every
    // upstream edge gets a sender.
    let mut receivers: Vec<Option<mpsc::Receiver<Item>>> = Vec::with_capacity(n);
    let mut senders: Vec<Option<mpsc::Sender<Item>>> = Vec::with_capacity(n);
    for (j, s) in plan.stages.iter().enumerate() {
        if s.descriptor.role == StageRole::Source || fused[j].is_some() {
            receivers.push(None);
            senders.push(None);
        } else {
            let (tx, rx) = mpsc::channel(options.channel_capacity.max(1));
            receivers.push(Some(rx));
            senders.push(Some(tx));
        }
    }
    let counters: Vec<Arc<StageCounters>> =
        (0..n).map(|_| Arc::new(StageCounters::new())).collect();
    let contexts: Vec<StageContext> = plan
        .stages
        .iter()
        .map(|planned| StageContext {
            name: Arc::from(planned.name.as_str()),
            cancel: handles.cancel.clone(),
            run: handles.run.clone(),
            diagnostics: handles.diagnostics.clone(),
            stats: handles.stats.clone(),
        })
        .collect();
    let mut stages: Vec<Option<BuiltStage>> = stages.into_iter().map(Some).collect();

    // Emitters, downstream first: a fused stage, emitter included, becomes a
    // consumer of its upstream's port.
    // Per-port counters for the report, kept apart from the senders so that
    // holding them does not keep channels open.
    let mut port_counts: Vec<Vec<(String, Arc<AtomicU64>)>> = vec![Vec::new(); n];
    let mut emitters: Vec<Option<Emitter>> = (0..n).map(|_| None).collect();
    let mut fused_stages: Vec<Option<Arc<FusedStage>>> = (0..n).map(|_| None).collect();
    let edges_from = plan.edges_from();
    for i in downstream_first(plan) {
        let s = &plan.stages[i];
        if s.descriptor.role == StageRole::Sink {
            continue;
        }
        let ports = s
            .descriptor
            .ports
            .iter()
            .map(|p| Port {
                name: p.name.to_string(),
                consumers: edges_from[i]
                    .iter()
                    .map(|&e| &plan.edges[e])
                    .filter(|e| e.port == p.name)
                    .filter_map(|e| match &fused_stages[e.to] {
                        Some(stage) => Some(Consumer::Fused(stage.clone())),
                        None => senders[e.to].clone().map(Consumer::Channel),
                    })
                    .collect(),
                emitted: Arc::new(AtomicU64::new(0)),
            })
            .collect::<Vec<Port>>();
        port_counts[i] = ports
            .iter()
            .map(|p| (p.name.clone(), p.emitted.clone()))
            .collect();
        let emitter = Emitter {
            stage: Arc::from(s.name.as_str()),
            ports: Arc::new(ports),
            ledger: ledger.clone(),
            cancel: handles.cancel.clone(),
            units_out: counters[i].units_out.clone(),
            files_out: counters[i].files_out.clone(),
        };
        match (fused[i], stages[i].take()) {
            (Some(_), Some(BuiltStage::Transform(transform))) => {
                fused_stages[i] = Some(Arc::new(FusedStage {
                    type_name: s.descriptor.type_name.clone(),
                    transform,
                    ctx: contexts[i].clone(),
                    out: emitter,
                    counters: counters[i].clone(),
                    fatal: fatal.clone(),
                }));
            }
            (_, stage) => {
                stages[i] = stage;
                emitters[i] = Some(emitter);
            }
        }
    }
    // Only emitters hold senders now: channels close when their upstreams end.
    drop(senders);
    // The stages fused below each stage, each after the one feeding it: the
    // order their `finish` runs in once the stage itself has finished.
    // (Only for stages with a task: a chain left over would hold senders.)
    let mut chains: Vec<Vec<Arc<FusedStage>>> = (0..n)
        .map(|i| match fused[i] {
            None => fused_below(&edges_from, plan, &fused, &fused_stages, i),
            Some(_) => Vec::new(),
        })
        .collect();
    drop(fused_stages);

    let mut tasks = JoinSet::new();
    for (i, (stage, (rx, emitter))) in stages
        .into_iter()
        .zip(receivers.into_iter().zip(emitters))
        .enumerate()
    {
        let Some(stage) = stage else {
            continue; // fused: runs in its upstream's workers
        };
        let planned = &plan.stages[i];
        let ctx = contexts[i].clone();
        let counters = counters[i].clone();
        let fatal = fatal.clone();
        let workers = planned.concurrency.resolve(options.jobs);
        match (stage, rx, emitter) {
            (BuiltStage::Source(mut source), _, Some(out)) => {
                let type_name = planned.descriptor.type_name.clone();
                tasks.spawn(async move {
                    tracing::info!("stage `{}` ({type_name}) started", ctx.name);
                    let r = timed(&counters.busy_ns, source.run(&ctx, &out)).await;
                    note_error(&fatal, &ctx, r);
                    counters.ended.store(true, Ordering::Relaxed);
                    log_end(&ctx.name, &type_name, &counters);
                });
            }
            (BuiltStage::Transform(transform), Some(rx), Some(out)) => {
                let rx = Arc::new(tokio::sync::Mutex::new(rx));
                let chain = std::mem::take(&mut chains[i]);
                let type_name = planned.descriptor.type_name.clone();
                tasks.spawn(accounting(async move {
                    tracing::info!(
                        "stage `{}` ({type_name}) started with {}",
                        ctx.name,
                        printable::count(workers as u64, "worker", "workers")
                    );
                    for stage in &chain {
                        tracing::info!(
                            "stage `{}` ({}) started in the workers of `{}`",
                            stage.ctx.name,
                            stage.type_name,
                            ctx.name
                        );
                    }
                    let mut workers_set = JoinSet::new();
                    for _ in 0..workers {
                        let rx = rx.clone();
                        let out = out.clone();
                        let ctx = ctx.clone();
                        let transform = transform.clone();
                        let counters = counters.clone();
                        let fatal = fatal.clone();
                        workers_set.spawn(accounting(async move {
                            loop {
                                if ctx.cancel.is_cancelled() {
                                    break;
                                }
                                let item = {
                                    let mut guard = rx.lock().await;
                                    tokio::select! {
                                        item = guard.recv() => item,
                                        _ = ctx.cancel.cancelled() => None,
                                    }
                                };
                                let Some(item) = item else { break };
                                counters.receive(&item);
                                let t = Instant::now();
                                let r =
                                    timed(&counters.busy_ns, transform.process(item, &ctx, &out))
                                        .await;
                                if !note_error(&fatal, &ctx, r) {
                                    break;
                                }
                                if t.elapsed() >= LONG_ITEM {
                                    // The first task this item woke waits in this
                                    // thread's LIFO slot, which other workers cannot
                                    // steal from; without a yield it waits for the
                                    // next long item too, and a core idles meanwhile.
                                    tokio::task::yield_now().await;
                                }
                            }
                        }));
                    }
                    while workers_set.join_next().await.is_some() {}
                    if !ctx.cancel.is_cancelled() {
                        let r = timed(&counters.busy_ns, transform.finish(&ctx, &out)).await;
                        note_error(&fatal, &ctx, r);
                    }
                    for stage in &chain {
                        stage.finish().await;
                    }
                    counters.ended.store(true, Ordering::Relaxed);
                    log_end(&ctx.name, &type_name, &counters);
                    for stage in &chain {
                        stage.counters.ended.store(true, Ordering::Relaxed);
                        log_end(&stage.ctx.name, &stage.type_name, &stage.counters);
                    }
                    drop(chain);
                    drop(out);
                }));
            }
            (BuiltStage::Sink(mut sink), Some(mut rx), None) => {
                let report = report.clone();
                let ledger = ledger.clone();
                let sinks = sinks.clone();
                let progress = handles.progress.clone();
                let name = planned.name.clone();
                let type_name = planned.descriptor.type_name.clone();
                tasks.spawn(async move {
                    tracing::info!("stage `{name}` ({type_name}) started");
                    let release = |released: Vec<Envelope>, counters: &StageCounters| {
                        counters
                            .units_out
                            .fetch_add(released.len() as u64, Ordering::Relaxed);
                        for env in &released {
                            if let Some(settled) = ledger.release(env.id, &env.state) {
                                progress.settle(&settled.state);
                                if let Ok(mut r) = report.lock() {
                                    r.record(&settled.unit, &settled.state);
                                }
                            }
                        }
                    };
                    loop {
                        let item = tokio::select! {
                            item = rx.recv() => item,
                            _ = ctx.cancel.cancelled() => None,
                        };
                        let Some(item) = item else { break };
                        counters.receive(&item);
                        let Item::Unit(env) = item else {
                            note_error(
                                &fatal,
                                &ctx,
                                Err(StageError::fatal(
                                    "a sink received a file; sinks take units",
                                )),
                            );
                            break;
                        };
                        let r = timed(&counters.busy_ns, sink.consume(*env, &ctx)).await;
                        match r {
                            Ok(released) => release(released, &counters),
                            Err(e) => {
                                note_error(&fatal, &ctx, Err(e));
                                break;
                            }
                        }
                    }
                    drop(rx);
                    let r = timed(
                        &counters.busy_ns,
                        sink.finish(&ctx, ctx.cancel.is_cancelled()),
                    )
                    .await;
                    match r {
                        Ok(finish) => {
                            release(finish.released, &counters);
                            if let Ok(mut s) = sinks.lock() {
                                s.push((name.clone(), finish.summary));
                            }
                        }
                        Err(e) => {
                            note_error(&fatal, &ctx, Err(e));
                        }
                    }
                    counters.ended.store(true, Ordering::Relaxed);
                    log_end(&name, &type_name, &counters);
                });
            }
            _ => {
                note_error(
                    &fatal,
                    &ctx,
                    Err(StageError::fatal(format!(
                        "stage `{}` was built as the wrong kind of stage for its role",
                        planned.name
                    ))),
                );
            }
        }
    }
    // A chain no task took (its stage failed to start) must not keep channels open.
    drop(chains);
    // Progress: counters kept elsewhere, sampled while tasks run.
    let sources: Vec<(Arc<str>, Arc<StageCounters>)> = plan
        .stages
        .iter()
        .enumerate()
        .filter(|(_, s)| s.descriptor.role == StageRole::Source)
        .map(|(i, s)| (Arc::from(s.name.as_str()), counters[i].clone()))
        .collect();
    let sample = {
        let (progress, ledger) = (handles.progress.clone(), ledger.clone());
        let (stats, diagnostics) = (handles.stats.clone(), handles.diagnostics.clone());
        move || progress.sample(&ledger, &stats, &diagnostics, &sources)
    };
    let sampler = {
        let sample = sample.clone();
        tokio::spawn(async move {
            loop {
                sample();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined
            && e.is_panic()
        {
            let mut f = fatal.lock().unwrap_or_else(|p| p.into_inner());
            if f.is_none() {
                *f = Some(("<executor>".into(), format!("a stage panicked: {e}")));
            }
            handles.cancel.cancel();
        }
    }
    sampler.abort();

    let fatal = fatal.lock().map(|f| f.clone()).unwrap_or(None);
    let interrupted = handles.cancel.is_cancelled() && fatal.is_none();
    let invariant = if interrupted || fatal.is_some() {
        None
    } else {
        check_invariant(plan, &counters, &ledger)
    };
    // Every unit that entered is accounted for: those still in flight
    // (in a channel, a worker, a request) when the run stopped are cancelled;
    // in a run that did not stop, a unit still here was lost by a stage
    // (`invariant` names it) and counts as failed.
    let rest = if handles.cancel.is_cancelled() {
        UnitState::Cancelled
    } else {
        UnitState::Failed {
            reason: "lost: it never reached a sink (a stage dropped it; see the error)".into(),
        }
    };
    for settled in ledger.settle_rest(&rest) {
        handles.progress.settle(&settled.state);
        if let Ok(mut r) = report.lock() {
            r.record(&settled.unit, &settled.state);
        }
    }
    sample();
    let mut report = report.lock().map(|r| r.clone()).unwrap_or_default();
    report.units = ledger.entered();
    report.interrupted = interrupted;
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.fill_stats(&handles.stats);
    report.file_errors = handles.diagnostics.snapshot();
    let sinks = sinks.lock().map(|s| s.clone()).unwrap_or_default();
    report.files_written = sinks.iter().map(|(_, s)| s.files_written).sum();
    for (i, s) in plan.stages.iter().enumerate() {
        let c = &counters[i];
        report.stages.push(StageReport {
            name: s.name.clone(),
            type_name: s.descriptor.type_name.clone(),
            received: c.received.load(Ordering::Relaxed),
            emitted: port_counts[i]
                .iter()
                .map(|(name, n)| (name.clone(), n.load(Ordering::Relaxed)))
                .collect::<BTreeMap<_, _>>(),
            busy_ms: c.busy_ns.load(Ordering::Relaxed) / 1_000_000,
            fused_into: fused[i].map(|up| plan.stages[up].name.clone()),
        });
    }
    RunOutcome {
        report,
        sinks,
        fatal,
        invariant,
    }
}

/// Logs a stage's end with what went through it (`-v`).
fn log_end(name: &str, type_name: &str, counters: &StageCounters) {
    tracing::info!(
        "stage `{name}` ({type_name}) finished: {} in, {} out, {:.2}s busy",
        counters.received.load(Ordering::Relaxed),
        counters.units_out.load(Ordering::Relaxed) + counters.files_out.load(Ordering::Relaxed),
        counters.busy_ns.load(Ordering::Relaxed) as f64 / 1e9
    );
}

/// Stage indices, each after every stage it feeds.
fn downstream_first(plan: &Plan) -> Vec<usize> {
    let mut order = plan.topological_order();
    order.reverse();
    order
}

/// The stages fused (directly or through others) into stage `i`, each after
/// the stage that feeds it. Iterative: fused chains are short (see
/// `fuse::MAX_FUSED_DEPTH`), but nothing here depends on it.
fn fused_below(
    edges_from: &[Vec<usize>],
    plan: &Plan,
    fused: &[Option<usize>],
    stages: &[Option<Arc<FusedStage>>],
    i: usize,
) -> Vec<Arc<FusedStage>> {
    let mut chain = Vec::new();
    let mut todo: Vec<usize> = edges_from[i].iter().rev().copied().collect();
    while let Some(e) = todo.pop() {
        let (from, to) = (plan.edges[e].from, plan.edges[e].to);
        if fused[to] == Some(from)
            && let Some(stage) = &stages[to]
        {
            chain.push(stage.clone());
            todo.extend(edges_from[to].iter().rev().copied());
        }
    }
    chain
}

/// Every unit in must come out once per stage; every copy must be released once.
fn check_invariant(
    plan: &Plan,
    counters: &[Arc<StageCounters>],
    ledger: &Ledger,
) -> Option<String> {
    let mut problems = Vec::new();
    for (i, s) in plan.stages.iter().enumerate() {
        let c = &counters[i];
        let units_in = c.units_in.load(Ordering::Relaxed);
        let units_out = c.units_out.load(Ordering::Relaxed);
        let takes_units = s.descriptor.input == Some(ItemKind::Unit);
        if takes_units && units_in != units_out {
            let verb = if s.descriptor.role == StageRole::Sink {
                "released"
            } else {
                "emitted"
            };
            let what = if units_out < units_in {
                format!("{} unit(s) lost", units_in - units_out)
            } else {
                format!("{} unit(s) duplicated", units_out - units_in)
            };
            problems.push(format!(
                "stage `{}` ({}) received {units_in} unit(s) and {verb} {units_out}: {what}",
                s.name, s.descriptor.type_name
            ));
        }
    }
    let imbalanced = ledger.imbalanced();
    if !imbalanced.is_empty() {
        let shown: Vec<String> = imbalanced
            .iter()
            .take(5)
            .map(|(name, n)| {
                if *n > 0 {
                    format!("{name} (never reached a sink)")
                } else {
                    format!("{name} (reached a sink {} extra time(s))", -n)
                }
            })
            .collect();
        problems.push(format!(
            "{} unit(s) did not reach a sink exactly once: {}{}",
            imbalanced.len(),
            shown.join(", "),
            if imbalanced.len() > 5 { ", ..." } else { "" }
        ));
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!(
            "every unit must reach a sink exactly once; {}",
            problems.join("; ")
        ))
    }
}
