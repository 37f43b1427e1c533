//! The stage traits: a [`Source`] produces items, a [`Transform`] turns items
//! into items on named output ports, a [`Sink`] consumes units at the end of the
//! graph. The executor connects them; stages never see channels.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::executor::Emitter;
use crate::model::{Envelope, Item};
use crate::report::{Diagnostics, RunStats};
use crate::selection::Selection;

/// A stage failed in a way that stops the run (I/O on the output, a broken
/// invariant). Per-unit problems are not errors: they end the unit failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The downstream stage is gone (the run is stopping); not reported.
    #[error("downstream closed")]
    Closed,
    /// A fatal problem, with what to do about it.
    #[error("{0}")]
    Fatal(String),
}

impl StageError {
    /// A fatal error with `message`.
    pub fn fatal(message: impl Into<String>) -> StageError {
        StageError::Fatal(message.into())
    }
}

/// How a writing sink treats files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Rewrite files in place.
    #[default]
    InPlace,
    /// Print a unified diff, write nothing.
    Diff,
    /// Write nothing; the run fails when anything would change.
    Check,
}

/// What the command line asked of this run; stages read what concerns them.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Paths given on the command line (empty: the source's own default).
    pub paths: Vec<PathBuf>,
    /// Directory the configuration was found in (relative paths in options resolve against it).
    pub base_dir: PathBuf,
    /// How writers treat files.
    pub write_mode: WriteMode,
    /// Print an estimate of tokens and cost and call no model.
    pub estimate: bool,
    /// Output format a reporting sink should use (`text`, `json`, `github`, `sarif`).
    pub format: Option<String>,
    /// Worker threads for CPU-bound stages.
    pub jobs: usize,
    /// Colour what is printed for people (`--color`): codes, paths.
    pub color: bool,
    /// Write files whose mode forbids writing by their owner (`--force`).
    pub force: bool,
    /// Apply the source's excludes to paths named on the command line too (`--force-exclude`).
    pub force_exclude: bool,
    /// Read and write no cache in this run (`--no-cache`).
    pub no_cache: bool,
    /// Report `# docpipe: ignore` comments that suppress nothing (`--warn-unused-ignores`).
    pub warn_unused_ignores: bool,
    /// Print counts of findings per code instead of the findings (`--statistics`).
    pub statistics: bool,
    /// Write the report to this file instead of stdout (`--output-file`).
    pub output_file: Option<PathBuf>,
    /// Directory of the pipeline.toml in use (`None`: the built-in default,
    /// whose project directory is the working directory). The disk cache
    /// lives in `.docpipe/cache` there.
    pub config_dir: Option<PathBuf>,
    /// The files and units the command line narrowed the run to
    /// (`--changed-since`, `--shard`, `--only-failed`); `None`: all of them.
    pub selection: Option<Arc<Selection>>,
}

impl RunOptions {
    /// The project directory: the configuration's, else `base_dir`.
    pub fn project_dir(&self) -> PathBuf {
        match &self.config_dir {
            Some(d) if !d.as_os_str().is_empty() => d.clone(),
            _ => self.base_dir.clone(),
        }
    }
}

/// A flag of `docpipe run` that only some stages act on. A stage type
/// declares the ones it reads ([`crate::registry::StageDescriptor::reads`]);
/// a run given a flag that no stage of its pipeline reads is refused, so a
/// flag never goes silently unheeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum RunFlag {
    /// `--check`: write nothing, fail when something would change.
    #[serde(rename = "--check")]
    Check,
    /// `--diff`: print what would change, write nothing.
    #[serde(rename = "--diff")]
    Diff,
    /// `--estimate`: count tokens and cost, call no model.
    #[serde(rename = "--estimate")]
    Estimate,
    /// `--format`: the output format of a report.
    #[serde(rename = "--format")]
    Format,
    /// `--force`: write files whose mode forbids it.
    #[serde(rename = "--force")]
    Force,
    /// `--force-exclude`: excludes apply to paths named on the command line.
    #[serde(rename = "--force-exclude")]
    ForceExclude,
    /// `--no-cache`: read and write no cache.
    #[serde(rename = "--no-cache")]
    NoCache,
    /// `--changed-since REV`: only files changed since a git revision.
    #[serde(rename = "--changed-since")]
    ChangedSince,
    /// `--shard I/N`: only one part of a split of the files.
    #[serde(rename = "--shard")]
    Shard,
    /// `--only-failed REPORT`: only the units a report lists as failed.
    #[serde(rename = "--only-failed")]
    OnlyFailed,
    /// `--warn-unused-ignores`: report `# docpipe: ignore` comments that suppress nothing.
    #[serde(rename = "--warn-unused-ignores")]
    WarnUnusedIgnores,
    /// `--statistics`: counts of findings per code instead of the findings.
    #[serde(rename = "--statistics")]
    Statistics,
    /// `--output-file`: the report goes to a file instead of stdout.
    #[serde(rename = "--output-file")]
    OutputFile,
}

impl RunFlag {
    /// The flag as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RunFlag::Check => "--check",
            RunFlag::Diff => "--diff",
            RunFlag::Estimate => "--estimate",
            RunFlag::Format => "--format",
            RunFlag::Force => "--force",
            RunFlag::ForceExclude => "--force-exclude",
            RunFlag::NoCache => "--no-cache",
            RunFlag::ChangedSince => "--changed-since",
            RunFlag::Shard => "--shard",
            RunFlag::OnlyFailed => "--only-failed",
            RunFlag::WarnUnusedIgnores => "--warn-unused-ignores",
            RunFlag::Statistics => "--statistics",
            RunFlag::OutputFile => "--output-file",
        }
    }
}

impl std::fmt::Display for RunFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every stage can reach while it runs.
#[derive(Clone)]
pub struct StageContext {
    /// The stage's name in pipeline.toml.
    pub name: Arc<str>,
    /// Cancelled on Ctrl+C, SIGTERM or the first fatal error: stop taking new work.
    pub cancel: CancellationToken,
    /// The command line's wishes.
    pub run: Arc<RunOptions>,
    /// File-level findings (unreadable files, syntax errors) for the report.
    pub diagnostics: Arc<Diagnostics>,
    /// Model and cache counters for the report.
    pub stats: Arc<RunStats>,
}

/// Produces items (files, usually) until it is done or cancelled.
#[async_trait]
pub trait Source: Send {
    /// Emits every item, then returns. Should return soon after `ctx.cancel` fires.
    async fn run(&mut self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError>;
}

/// Turns each input item into output items on its ports. A unit that comes in
/// must go out exactly once (on one port); a file may become any number of units.
/// With `concurrency > 1` several `process` calls run at once.
#[async_trait]
pub trait Transform: Send + Sync {
    /// Handles one item.
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError>;

    /// Called once after the input ended, for stages that hold items back
    /// (batching). Not called when the run was cancelled.
    async fn finish(&self, ctx: &StageContext, out: &Emitter) -> Result<(), StageError> {
        let _ = (ctx, out);
        Ok(())
    }
}

/// What a sink says about the run when its input has ended.
#[derive(Debug, Clone, Default)]
pub struct SinkSummary {
    /// Problems the sink found that make the run fail (findings of `check`,
    /// files that `--check` would change). Failed units count on their own.
    pub problems: u64,
    /// Files the sink wrote.
    pub files_written: u64,
    /// The sink's account of the run in a few words, for the closing line,
    /// when the units by state say nothing about it (a report:
    /// `9 findings in 3 of 10 files; docstring coverage 87.5%`).
    pub headline: Option<String>,
}

/// Consumes units at the end of the graph.
///
/// A sink *releases* each unit it received exactly once, from `consume` or
/// from `finish`, with its final state; the executor records released units
/// in the report. A writer holds a file's units until the file is whole, so
/// their final state can still depend on whether the file could be written.
#[async_trait]
pub trait Sink: Send {
    /// Takes one unit; returns the units it is done with (this one, several
    /// held ones, or none yet).
    async fn consume(
        &mut self,
        env: Envelope,
        ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError>;

    /// The input has ended, or the run was cancelled (then finish only whole
    /// files and write nothing partial). Releases every unit still held.
    async fn finish(
        &mut self,
        ctx: &StageContext,
        cancelled: bool,
    ) -> Result<SinkFinish, StageError>;
}

/// What [`Sink::finish`] hands back.
#[derive(Debug, Default)]
pub struct SinkFinish {
    /// The sink's verdict.
    pub summary: SinkSummary,
    /// Units still held, with their final state.
    pub released: Vec<Envelope>,
}

/// A built stage, ready to run.
pub enum BuiltStage {
    /// A source.
    Source(Box<dyn Source>),
    /// A transform.
    Transform(Arc<dyn Transform>),
    /// A sink.
    Sink(Box<dyn Sink>),
}
