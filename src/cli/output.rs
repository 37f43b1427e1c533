//! What the command prints besides the stages' own output: logs, the stage
//! reference and the run summary (the progress bar is in `progress`).

use std::fmt::Write as _;

use docpipe_core::executor::RunOutcome;
use docpipe_core::printable;
use docpipe_core::registry::{DefaultConcurrency, Registry, StageRole};
use docpipe_core::report::{FailureReport, RunReport};
use docpipe_core::stage::{SinkSummary, WriteMode};
use tracing_subscriber::EnvFilter;

use super::progress::LogWriter;

/// The crates whose events `-v` shows: docpipe's own. Other crates log only
/// warnings, unless `RUST_LOG` asks for more.
const OWN_CRATES: [&str; 3] = ["docpipe", "docpipe_core", "docpipe_stages"];

/// Logs to stderr through tracing: warnings by default, `-v` docpipe's info
/// events (stages starting and ending, files left out, retries), `-vv`
/// debug, `-vvv` trace, `-q` errors only; `RUST_LOG` wins when set. Lines
/// are written with the progress bar hidden.
pub fn init_logging(verbose: u8, quiet: bool, color: bool) {
    let own = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let others = if quiet { "error" } else { "warn" };
    let directives = std::iter::once(others.to_string())
        .chain(OWN_CRATES.iter().map(|c| format!("{c}={own}")))
        .collect::<Vec<_>>()
        .join(",");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(LogWriter)
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
            "cache_tiers": registry.cache_names(),
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
    let caches = registry.cache_names();
    if !caches.is_empty() {
        let _ = writeln!(out, "cache tiers: {}", caches.join(", "));
    }
    out
}

/// The closing lines: failures, one line per file when a file's units
/// failed for one reason (the file changed on disk), then the run in one
/// line: a report's own words (`check`), or units by state and files
/// written (`generate`).
pub fn summary(outcome: &RunOutcome, mode: WriteMode, color: bool) -> String {
    let r = &outcome.report;
    let mut out = String::new();
    let groups = failure_groups(&r.failures);
    for g in groups.iter().take(MAX_FAILURE_LINES) {
        let _ = writeln!(out, "{}", g.line());
    }
    if groups.len() > MAX_FAILURE_LINES {
        let rest: usize = groups[MAX_FAILURE_LINES..].iter().map(|g| g.units).sum();
        let _ = writeln!(
            out,
            "failed: ... and {} more (see --report)",
            printable::count(rest as u64, "unit", "units")
        );
    }
    let head = if color {
        "\x1b[1mdocpipe\x1b[0m"
    } else {
        "docpipe"
    };
    let _ = writeln!(
        out,
        "{head}: {} ({:.2}s)",
        closing_line(outcome, mode),
        r.duration_ms as f64 / 1000.0
    );
    out
}

/// Failure lines shown before the summary; the report has them all.
const MAX_FAILURE_LINES: usize = 20;

/// Failed units of one file that failed for one reason.
struct FailureGroup<'a> {
    first: &'a FailureReport,
    units: usize,
}

impl FailureGroup<'_> {
    fn line(&self) -> String {
        let f = self.first;
        let path = printable::path(&f.path);
        let reason = printable::text(&f.reason);
        if self.units == 1 {
            let name = printable::text(&f.qualname);
            format!("failed: {path}:{}: {name}: {reason}", f.line)
        } else {
            format!("failed: {path} ({} units): {reason}", self.units)
        }
    }
}

/// Failures grouped by file and reason, in path and line order.
fn failure_groups(failures: &[FailureReport]) -> Vec<FailureGroup<'_>> {
    let mut sorted: Vec<&FailureReport> = failures.iter().collect();
    sorted.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let mut groups: Vec<FailureGroup<'_>> = Vec::new();
    for f in sorted {
        match groups.last_mut() {
            Some(g) if g.first.path == f.path && g.first.reason == f.reason => g.units += 1,
            _ => groups.push(FailureGroup { first: f, units: 1 }),
        }
    }
    groups
}

/// The run in one line: the sinks' own words when every sink has them,
/// otherwise the units by state and what happened to the files.
fn closing_line(outcome: &RunOutcome, mode: WriteMode) -> String {
    let r = &outcome.report;
    let headlines: Vec<&str> = outcome
        .sinks
        .iter()
        .filter_map(|(_, s)| s.headline.as_deref())
        .collect();
    let plain: Vec<&SinkSummary> = outcome
        .sinks
        .iter()
        .filter(|(_, s)| s.headline.is_none())
        .map(|(_, s)| s)
        .collect();
    let mut parts = Vec::new();
    if !plain.is_empty() || headlines.is_empty() {
        parts.push(units_by_state(r));
        if !plain.is_empty() {
            let mut files = files_phrase(&plain, mode);
            // Files not processed or not written, each printed with its reason by the sink.
            if !r.file_errors.is_empty() {
                files.push_str(&format!(", {} skipped", r.file_errors.len()));
            }
            parts.push(files);
        }
    }
    parts.extend(headlines.iter().map(|h| h.to_string()));
    parts.join("; ")
}

/// `18 units: 9 kept, 9 generated` (states with none left out).
fn units_by_state(r: &RunReport) -> String {
    let b = &r.by_state;
    let states: Vec<String> = [
        (b.kept, "kept"),
        (b.cached, "cached"),
        (b.generated, "generated"),
        (b.failed, "failed"),
        (b.skipped, "skipped"),
        (b.cancelled, "cancelled"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if states.is_empty() {
        "no units".to_string()
    } else {
        format!(
            "{}: {}",
            printable::count(r.units, "unit", "units"),
            states.join(", ")
        )
    }
}

/// What the writing sinks did to files, in the words of the write mode.
fn files_phrase(sinks: &[&SinkSummary], mode: WriteMode) -> String {
    let written: u64 = sinks.iter().map(|s| s.files_written).sum();
    match mode {
        WriteMode::InPlace if written == 0 => "no file written".to_string(),
        WriteMode::InPlace => format!("{} written", printable::count(written, "file", "files")),
        WriteMode::Check => {
            let changing: u64 = sinks.iter().map(|s| s.problems).sum();
            match changing {
                0 => "no file would change".to_string(),
                n => format!("{} would change", printable::count(n, "file", "files")),
            }
        }
        WriteMode::Diff => "diff printed, nothing written".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use docpipe_core::report::ByState;

    use super::*;

    fn failure(path: &str, line: usize, reason: &str) -> FailureReport {
        FailureReport {
            path: PathBuf::from(path),
            line,
            qualname: format!("f{line}"),
            reason: reason.to_string(),
        }
    }

    fn outcome(report: RunReport, sinks: Vec<SinkSummary>) -> RunOutcome {
        RunOutcome {
            report,
            sinks: sinks.into_iter().map(|s| ("sink".to_string(), s)).collect(),
            fatal: None,
            invariant: None,
        }
    }

    #[test]
    fn a_file_changed_on_disk_is_one_line_however_many_units_it_has() {
        let changed = "file changed since it was read; run docpipe again on the new content";
        let mut failures: Vec<FailureReport> = (1..=65_430)
            .map(|l| failure("big.py", l, changed))
            .collect();
        failures.push(failure(
            "other.py",
            3,
            "no valid docstring after 3 answer(s)",
        ));
        failures.push(failure(
            "other.py",
            9,
            "no valid docstring after 3 answer(s): x",
        ));
        let report = RunReport {
            units: 65_432,
            by_state: ByState {
                failed: 65_432,
                ..ByState::default()
            },
            failures,
            ..RunReport::default()
        };
        let text = summary(
            &outcome(report, vec![SinkSummary::default()]),
            WriteMode::InPlace,
            false,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                format!("failed: big.py (65430 units): {changed}").as_str(),
                "failed: other.py:3: f3: no valid docstring after 3 answer(s)",
                "failed: other.py:9: f9: no valid docstring after 3 answer(s): x",
                "docpipe: 65432 units: 65432 failed; no file written (0.00s)",
            ]
        );
    }

    #[test]
    fn the_closing_line_fits_the_pipeline() {
        let report = RunReport {
            units: 18,
            by_state: ByState {
                kept: 9,
                generated: 8,
                cancelled: 1,
                ..ByState::default()
            },
            files_written: 1,
            duration_ms: 1234,
            ..RunReport::default()
        };
        let writer = SinkSummary {
            files_written: 1,
            ..SinkSummary::default()
        };
        let generate = outcome(report.clone(), vec![writer]);
        assert_eq!(
            summary(&generate, WriteMode::InPlace, false),
            "docpipe: 18 units: 9 kept, 8 generated, 1 cancelled; 1 file written (1.23s)\n"
        );
        let would = SinkSummary {
            problems: 2,
            ..SinkSummary::default()
        };
        assert!(
            summary(
                &outcome(report.clone(), vec![would]),
                WriteMode::Check,
                false
            )
            .contains("; 2 files would change (")
        );
        let check = SinkSummary {
            problems: 9,
            headline: Some("9 findings in 3 of 10 files checked; docstring coverage 87.5%".into()),
            ..SinkSummary::default()
        };
        assert_eq!(
            summary(&outcome(report, vec![check]), WriteMode::InPlace, false),
            "docpipe: 9 findings in 3 of 10 files checked; docstring coverage 87.5% (1.23s)\n"
        );
    }
}
