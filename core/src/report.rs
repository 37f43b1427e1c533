//! The JSON run report and the counters stages fill while a run goes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::executor::UnitName;
use crate::model::{Finding, UnitState};

/// A finding about a whole file (it could not be read or parsed): the file has
/// no units, and is never rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDiagnostic {
    /// The file.
    pub path: PathBuf,
    /// What was found.
    pub finding: Finding,
}

/// File-level findings collected during a run. A file with one is done:
/// it has no units (it could not be read, decoded or parsed, or was skipped).
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Mutex<Vec<FileDiagnostic>>,
    count: AtomicU64,
}

impl Diagnostics {
    /// Records a finding about `path`.
    pub fn push(&self, path: PathBuf, finding: Finding) {
        tracing::info!(
            path = %crate::printable::path(&path),
            code = %finding.code,
            "file left out: {}",
            crate::printable::text(&finding.message)
        );
        if let Ok(mut items) = self.items.lock() {
            items.push(FileDiagnostic { path, finding });
            self.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Findings recorded so far.
    pub fn len(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether none was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything recorded so far, sorted by path and line.
    pub fn snapshot(&self) -> Vec<FileDiagnostic> {
        let mut v = self.items.lock().map(|i| i.clone()).unwrap_or_default();
        v.sort_by(|a, b| (&a.path, a.finding.line).cmp(&(&b.path, b.finding.line)));
        v
    }
}

/// Counters for the report's `model` and `cache` sections. Stages add to them.
#[derive(Debug, Default)]
pub struct RunStats {
    /// HTTP requests sent to a model (or template calls).
    pub model_requests: AtomicU64,
    /// Transport retries.
    pub model_retries: AtomicU64,
    /// Prompt tokens.
    pub prompt_tokens: AtomicU64,
    /// Completion tokens.
    pub completion_tokens: AtomicU64,
    /// Cost in micro-dollars.
    pub cost_micro_usd: AtomicU64,
    /// Cache hits.
    pub cache_hits: AtomicU64,
    /// Cache misses.
    pub cache_misses: AtomicU64,
    /// Cache tier errors (a tier down).
    pub cache_errors: AtomicU64,
    /// Cached values evicted because they failed validation.
    pub cache_evictions: AtomicU64,
    /// The same counters per tier (`memory`, `disk`, `redis`, `check`).
    cache_tiers: Mutex<BTreeMap<String, CacheTierReport>>,
    /// Files each source has listed, by stage name (see [`RunStats::files_listed`]).
    listed: Mutex<BTreeMap<String, u64>>,
    /// The convention count of `[style] name = "auto"`, once a stage made it.
    conventions: Mutex<Option<ConventionsReport>>,
}

impl RunStats {
    /// Records how the convention of new docstrings was chosen.
    pub fn set_conventions(&self, report: ConventionsReport) {
        if let Ok(mut slot) = self.conventions.lock() {
            *slot = Some(report);
        }
    }

    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The source `stage` has listed all it will handle: `files` files.
    /// A source that lists before it reads (as `python-source` walks the
    /// tree first) lets the progress bar know the run's size early; for
    /// one that does not, the files it emitted count once it has ended.
    pub fn files_listed(&self, stage: &str, files: u64) {
        if let Ok(mut listed) = self.listed.lock() {
            listed.insert(stage.to_string(), files);
        }
    }

    /// Adds to the counters of cache tier `tier` (the report's `cache.tiers`).
    pub fn cache_tier(&self, tier: &str, add: CacheTierReport) {
        if let Ok(mut tiers) = self.cache_tiers.lock() {
            let t = tiers.entry(tier.to_string()).or_default();
            t.hits += add.hits;
            t.misses += add.misses;
            t.errors += add.errors;
            t.evictions += add.evictions;
            t.requests += add.requests;
        }
    }

    /// What source `stage` announced with [`RunStats::files_listed`].
    pub fn listed(&self, stage: &str) -> Option<u64> {
        self.listed.lock().ok()?.get(stage).copied()
    }

    fn model(&self) -> ModelReport {
        ModelReport {
            requests: self.model_requests.load(Ordering::Relaxed),
            retries: self.model_retries.load(Ordering::Relaxed),
            prompt_tokens: self.prompt_tokens.load(Ordering::Relaxed),
            completion_tokens: self.completion_tokens.load(Ordering::Relaxed),
            cost_usd: self.cost_micro_usd.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }

    fn cache(&self) -> CacheReport {
        CacheReport {
            hits: self.cache_hits.load(Ordering::Relaxed),
            misses: self.cache_misses.load(Ordering::Relaxed),
            errors: self.cache_errors.load(Ordering::Relaxed),
            evictions: self.cache_evictions.load(Ordering::Relaxed),
            tiers: self
                .cache_tiers
                .lock()
                .map(|t| t.clone())
                .unwrap_or_default(),
        }
    }
}

/// Units by final state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByState {
    /// Docstring left as it was.
    pub kept: u64,
    /// Docstring from the cache.
    pub cached: u64,
    /// Docstring from the model.
    pub generated: u64,
    /// Something went wrong.
    pub failed: u64,
    /// Deliberately not processed.
    pub skipped: u64,
    /// In flight when the run was interrupted.
    #[serde(default)]
    pub cancelled: u64,
}

impl ByState {
    /// Every unit counted.
    pub fn total(&self) -> u64 {
        self.kept + self.cached + self.generated + self.failed + self.skipped + self.cancelled
    }

    /// Counts one unit in `state`.
    pub fn add(&mut self, state: &UnitState) {
        match state {
            UnitState::Pending | UnitState::Kept => self.kept += 1,
            UnitState::Cached => self.cached += 1,
            UnitState::Generated => self.generated += 1,
            UnitState::Failed { .. } => self.failed += 1,
            UnitState::Skipped { .. } => self.skipped += 1,
            UnitState::Cancelled => self.cancelled += 1,
        }
    }
}

/// A unit that ended failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReport {
    /// File.
    pub path: PathBuf,
    /// 1-based line of the definition.
    pub line: usize,
    /// Qualified name.
    pub qualname: String,
    /// What went wrong.
    pub reason: String,
}

/// What one stage did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageReport {
    /// Name in the file.
    pub name: String,
    /// Stage type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Items received.
    pub received: u64,
    /// Items emitted, per port.
    pub emitted: BTreeMap<String, u64>,
    /// Time spent inside the stage's own code, summed over its workers.
    pub busy_ms: u64,
    /// The stage that runs this one inside its workers (fusion), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fused_into: Option<String>,
}

/// The report's `model` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// Requests sent.
    pub requests: u64,
    /// Transport retries.
    pub retries: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Estimated cost.
    pub cost_usd: f64,
}

/// The report's `cache` section: units looked up (a unit answered by any
/// tier is one hit), and the same per tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheReport {
    /// Lookups answered.
    pub hits: u64,
    /// Lookups not answered.
    pub misses: u64,
    /// Tier errors.
    pub errors: u64,
    /// Cached values evicted because they failed validation.
    #[serde(default)]
    pub evictions: u64,
    /// Per tier (`memory`, `disk`, `redis`; `check` for the file results of `check`).
    #[serde(default)]
    pub tiers: BTreeMap<String, CacheTierReport>,
}

/// One tier's counters in the report's `cache.tiers`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheTierReport {
    /// Lookups this tier answered.
    pub hits: u64,
    /// Lookups this tier was asked and could not answer.
    pub misses: u64,
    /// Operations that failed.
    pub errors: u64,
    /// Values evicted because they failed validation.
    pub evictions: u64,
    /// Requests that reached the tier (batched: for Redis, round trips).
    #[serde(default)]
    pub requests: u64,
}

/// The report's `conventions` section: which docstring convention new
/// docstrings were written in, and why (`[style] name = "auto"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConventionsReport {
    /// The convention of new docstrings.
    pub new_docstrings: String,
    /// Existing docstrings by the convention they are written in (prose
    /// alone counts for none).
    pub docstrings: BTreeMap<String, u64>,
}

/// The JSON run report (`--report FILE`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Pipeline that ran.
    pub pipeline: String,
    /// Units that entered the graph.
    pub units: u64,
    /// Units by final state.
    pub by_state: ByState,
    /// Files written.
    pub files_written: u64,
    /// Units that ended failed.
    pub failures: Vec<FailureReport>,
    /// File-level findings (unreadable files, syntax errors).
    pub file_errors: Vec<FileDiagnostic>,
    /// Per stage counters.
    pub stages: Vec<StageReport>,
    /// Wall time.
    pub duration_ms: u64,
    /// Model usage.
    pub model: ModelReport,
    /// Cache usage.
    pub cache: CacheReport,
    /// The run was interrupted (Ctrl+C, SIGTERM).
    pub interrupted: bool,
    /// How the convention of new docstrings was chosen, when it was counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conventions: Option<ConventionsReport>,
}

impl RunReport {
    /// Records a unit that has left the graph (every copy released by a
    /// sink, or given up when the run stopped) in its final `state`.
    pub fn record(&mut self, unit: &UnitName, state: &UnitState) {
        self.by_state.add(state);
        if let UnitState::Failed { reason } = state {
            self.failures.push(FailureReport {
                path: unit.path.to_path_buf(),
                line: unit.line,
                qualname: unit.name.to_string(),
                reason: reason.clone(),
            });
        }
    }

    /// Fills the `model`, `cache` and `conventions` sections from the counters.
    pub fn fill_stats(&mut self, stats: &RunStats) {
        self.model = stats.model();
        self.cache = stats.cache();
        self.conventions = stats.conventions.lock().ok().and_then(|c| c.clone());
    }

    /// Units accounted for in `by_state`: all of them, `units`, at the end of a run.
    pub fn finished(&self) -> u64 {
        self.by_state.total()
    }
}
