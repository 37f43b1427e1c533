//! What the command prints besides the stages' own output: logs, the stage
//! reference, the progress bar and the run summary.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use docpipe_core::executor::{Progress, RunOutcome};
use docpipe_core::registry::{DefaultConcurrency, Registry, StageRole};
use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

/// Logs to stderr through tracing: warnings by default, `-v` info, `-vv` debug,
/// `-vvv` trace, `-q` errors only; `RUST_LOG` wins when set.
pub fn init_logging(verbose: u8, quiet: bool, color: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .try_init();
}

/// `docpipe stages`: every registered type with its role, ports and options,
/// then the shared sections.
pub fn describe_stages(registry: &Registry, json: bool) -> String {
    if json {
        let stages: Vec<_> = registry.stages().collect();
        let sections: Vec<_> = registry
            .sections()
            .map(
                |s| serde_json::json!({"name": s.name, "summary": s.summary, "options": s.options}),
            )
            .collect();
        let value = serde_json::json!({
            "stages": stages,
            "sections": sections,
            "styles": registry.style_names(),
            "model_providers": registry.model_names(),
        });
        return serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    for d in registry.stages() {
        let role = match d.role {
            StageRole::Source => "source",
            StageRole::Transform => "transform",
            StageRole::Sink => "sink",
        };
        let _ = writeln!(out, "{} ({role})", d.type_name);
        let _ = writeln!(out, "    {}", d.summary);
        if let Some(input) = d.input {
            let _ = writeln!(out, "    takes: {}", input.noun());
        }
        for p in &d.ports {
            let _ = writeln!(out, "    port {} ({}): {}", p.name, p.kind.noun(), p.doc);
        }
        let conc = match d.default_concurrency {
            DefaultConcurrency::One => "1".to_string(),
            DefaultConcurrency::Jobs => "--jobs".to_string(),
            DefaultConcurrency::Fixed(n) => n.to_string(),
        };
        let _ = writeln!(out, "    concurrency: {conc} by default");
        if !d.sections.is_empty() {
            let _ = writeln!(
                out,
                "    reads: {}",
                d.sections
                    .iter()
                    .map(|s| format!("[{s}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !d.flags.is_empty() {
            let flags: Vec<&str> = d.flags.iter().map(|f| f.as_str()).collect();
            let _ = writeln!(out, "    flags: {}", flags.join(", "));
        }
        for o in &d.options {
            let default = o
                .default
                .map_or_else(|| "required".to_string(), |v| format!("default {v}"));
            let _ = writeln!(
                out,
                "    option {} ({}, {default}): {}",
                o.name, o.ty, o.doc
            );
        }
        out.push('\n');
    }
    for s in registry.sections() {
        let _ = writeln!(out, "[{}] (shared section)", s.name);
        let _ = writeln!(out, "    {}", s.summary);
        for o in &s.options {
            let default = o
                .default
                .map_or_else(|| "no default".to_string(), |v| format!("default {v}"));
            let _ = writeln!(out, "    {} ({}, {default}): {}", o.name, o.ty, o.doc);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "styles: {}", registry.style_names().join(", "));
    let _ = writeln!(
        out,
        "model providers: {}",
        registry.model_names().join(", ")
    );
    out
}

/// A progress bar on stderr, updated from the executor's counters.
pub struct Bar {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
}

/// Starts a progress bar that follows `progress`.
pub fn progress_bar(progress: Arc<Progress>) -> Bar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} units {wide_bar} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b = bar.clone();
    let task = tokio::spawn(async move {
        loop {
            b.set_length(progress.entered.load(Ordering::Relaxed));
            b.set_position(progress.finished.load(Ordering::Relaxed));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Bar { bar, task }
}

impl Bar {
    /// Removes the bar.
    pub async fn finish(self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}

/// The closing lines: counts by state, files written, failures.
pub fn summary(outcome: &RunOutcome, color: bool) -> String {
    let r = &outcome.report;
    let b = &r.by_state;
    let mut out = String::new();
    for f in r.failures.iter().take(20) {
        let _ = writeln!(
            out,
            "failed: {}:{}: {}: {}",
            f.path.display(),
            f.line,
            f.qualname,
            f.reason
        );
    }
    if r.failures.len() > 20 {
        let _ = writeln!(
            out,
            "failed: ... and {} more (see --report)",
            r.failures.len() - 20
        );
    }
    let head = if color {
        "\x1b[1mdocpipe\x1b[0m"
    } else {
        "docpipe"
    };
    // Files not processed or not written (each printed with its reason by the sink).
    let files_skipped = match r.file_errors.len() {
        0 => String::new(),
        n => format!(", {n} skipped"),
    };
    let _ = writeln!(
        out,
        "{head}: {} unit(s): {} kept, {} cached, {} generated, {} failed, {} skipped; {} file(s) written{files_skipped} in {:.2}s",
        r.units,
        b.kept,
        b.cached,
        b.generated,
        b.failed,
        b.skipped,
        r.files_written,
        r.duration_ms as f64 / 1000.0
    );
    out
}
