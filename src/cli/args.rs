//! Command-line flags.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use docpipe_core::config::MAX_WORKERS;
use docpipe_core::selection::Shard;

/// Keeps Python docstrings complete and correct.
#[derive(Debug, Parser)]
#[command(name = "docpipe", version, about, long_about = None)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Configuration file (default: pipeline.toml in the working directory or
    /// its parents, else the built-in default).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a configuration value, typed like the file: `--set model.provider=openai`,
    /// `--set stages.extract.concurrency=4`. Repeatable; later ones win.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Worker threads for CPU-bound stages, 1 to 4096 (default: all cores).
    #[arg(short = 'j', long, global = true, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less output: errors only, no progress bar, no summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Write the JSON run report to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline (default `check`, which writes nothing) over paths (default: the source's own, usually `.`).
    Run(RunArgs),
    /// Check the configuration and exit: 0 when valid, 2 with located errors otherwise.
    Validate,
    /// Print a pipeline's graph (every stage when none is named).
    Graph(GraphArgs),
    /// List every registered stage type with its options and ports.
    Stages(StagesArgs),
    /// Write a commented starter pipeline.toml, or append a `[tool.docpipe]` table to pyproject.toml (never overwrites).
    Init(InitArgs),
    /// Inspect and manage the cache tiers of `[cache] tiers`.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Plugin authoring (`docpipe plugin new NAME --kind stage`).
    Plugin(PluginArgs),
    /// `docpipe NAME ARGS...` runs `docpipe-NAME ARGS...` from PATH, as cargo does.
    #[command(external_subcommand)]
    External(Vec<OsString>),
}

/// `docpipe cache`.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Entries, size, and hits and misses since the last clear, per tier.
    Stats(CacheTierArgs),
    /// Remove every entry (and reset the counters) of every tier, or of one.
    Clear(CacheTierArgs),
    /// Remove the entries carrying a tag, or those of one file.
    Invalidate(InvalidateArgs),
}

/// The tier a `docpipe cache` command concerns.
#[derive(Debug, Args)]
pub struct CacheTierArgs {
    /// Only this tier (`disk`, `redis`, ...; default: every tier of `[cache] tiers`).
    #[arg(long, value_name = "TIER")]
    pub tier: Option<String>,
}

/// `docpipe cache invalidate`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct InvalidateArgs {
    /// A tag: `path:REL` (a file relative to the project), `model:PROVIDER/NAME`, `style:NAME`.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// A file: its docstrings and check results go.
    #[arg(long, value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Only this tier (default: every tier of `[cache] tiers`).
    #[arg(long, value_name = "TIER")]
    pub tier: Option<String>,
}

/// `docpipe plugin`.
#[derive(Debug, Args)]
pub struct PluginArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PluginCommand,
}

/// `docpipe plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a plugin crate that builds as it is, with a test.
    New(PluginNewArgs),
}

/// `docpipe plugin new`.
#[derive(Debug, Args)]
pub struct PluginNewArgs {
    /// The plugin's name (a crate name: letters, digits, `-`, `_`).
    pub name: String,
    /// What it provides.
    #[arg(long, value_enum, default_value_t = PluginKind::Stage)]
    pub kind: PluginKind,
    /// Directory to create (default: `./NAME`).
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The docpipe-plugin SDK to depend on, as a path (default: the SDK of
    /// the source tree this docpipe was built from, when it is still there).
    #[arg(long, value_name = "DIR")]
    pub sdk: Option<PathBuf>,
}

/// `docpipe plugin new --kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PluginKind {
    /// A transform stage.
    Stage,
    /// A docstring style.
    Style,
    /// A model provider.
    Model,
    /// A cache tier.
    Cache,
}

/// `docpipe run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pipeline name, then paths. A first argument that names no pipeline
    /// but exists on disk is taken as a path.
    #[arg(value_name = "PIPELINE|PATH")]
    pub args: Vec<String>,
    /// Print a unified diff instead of writing files.
    #[arg(long, conflicts_with = "check")]
    pub diff: bool,
    /// Write nothing; exit 1 when files would change.
    #[arg(long)]
    pub check: bool,
    /// Print units, tokens and estimated cost; call no model.
    #[arg(long)]
    pub estimate: bool,
    /// Output format of reporting stages (`text`, `json`, `github`, `gitlab`, `junit`, `sarif`).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Print how many findings each code has instead of the findings, as ruff does.
    #[arg(long)]
    pub statistics: bool,
    /// Write the report to FILE instead of stdout (the closing line stays on stderr).
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Report `# docpipe: ignore[...]` comments that suppress nothing (DP130).
    #[arg(long)]
    pub warn_unused_ignores: bool,
    /// Also write files whose mode forbids writing by their owner.
    #[arg(long)]
    pub force: bool,
    /// Apply the excludes to paths named on the command line too.
    #[arg(long)]
    pub force_exclude: bool,
    /// Read and write no cache in this run (no cached docstrings, no check results).
    #[arg(long)]
    pub no_cache: bool,
    /// Only files changed since the git revision REV (committed, staged or
    /// not), and untracked files git does not ignore.
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Only part I of N of the files, split by a hash of their path relative
    /// to the project directory (`--shard 1/2`, `--shard 2/2`).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Only the units that the run report REPORT (from `--report`) lists as failed.
    #[arg(long, value_name = "REPORT")]
    pub only_failed: Option<PathBuf>,
    /// Seconds a git URL source may take to clone before the run gives up (default 300).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub clone_timeout: Option<u64>,
}

impl RunArgs {
    /// The stage-dependent flags given (each must be read by a stage of the pipeline).
    pub fn flags(&self) -> Vec<docpipe_core::stage::RunFlag> {
        use docpipe_core::stage::RunFlag;
        [
            (self.check, RunFlag::Check),
            (self.diff, RunFlag::Diff),
            (self.estimate, RunFlag::Estimate),
            (self.format.is_some(), RunFlag::Format),
            (self.force, RunFlag::Force),
            (self.force_exclude, RunFlag::ForceExclude),
            (self.no_cache, RunFlag::NoCache),
            (self.changed_since.is_some(), RunFlag::ChangedSince),
            (self.shard.is_some(), RunFlag::Shard),
            (self.only_failed.is_some(), RunFlag::OnlyFailed),
            (self.statistics, RunFlag::Statistics),
            (self.output_file.is_some(), RunFlag::OutputFile),
            (self.warn_unused_ignores, RunFlag::WarnUnusedIgnores),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect()
    }
}

/// `docpipe graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Pipeline to draw (default: every stage of the file).
    pub pipeline: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// `docpipe graph --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// `docpipe stages`.
#[derive(Debug, Args)]
pub struct StagesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `docpipe init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it (default: pipeline.toml; with --pyproject, pyproject.toml).
    pub path: Option<PathBuf>,
    /// Append a commented starter `[tool.docpipe]` table to a pyproject.toml
    /// (created when missing) instead of writing a pipeline.toml.
    #[arg(long)]
    pub pyproject: bool,
    /// Translate the pyproject.toml's `[tool.interrogate]` table into the
    /// `[tool.docpipe]` table appended (implies --pyproject).
    #[arg(long)]
    pub from_interrogate: bool,
    /// Translate the pyproject.toml's `[tool.pydoclint]` table into the
    /// `[tool.docpipe]` table appended (implies --pyproject).
    #[arg(long)]
    pub from_pydoclint: bool,
}

/// `-j N`: a whole number from 1 to [`MAX_WORKERS`]. More threads than that
/// would only cost memory (`-j 100000` once asked for 1.8 GB of stacks).
fn parse_jobs(text: &str) -> Result<usize, String> {
    let range = format!("give a whole number from 1 to {MAX_WORKERS}");
    match text.trim().parse::<u128>() {
        Ok(0) => Err(format!("0 workers would run nothing; {range}")),
        Ok(n) if n <= MAX_WORKERS as u128 => Ok(n as usize),
        Ok(_) => Err(format!("more than {MAX_WORKERS} workers; {range}")),
        Err(_) => Err(format!("not a whole number; {range}")),
    }
}

/// `--shard I/N`.
fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_from_1_to_4096() {
        assert_eq!(parse_jobs("1"), Ok(1));
        assert_eq!(parse_jobs("4096"), Ok(4096));
        for bad in [
            "0",
            "4097",
            "100000",
            "99999999999999999999999999",
            "-1",
            "two",
            "",
        ] {
            assert!(parse_jobs(bad).is_err(), "{bad}");
        }
    }
}
