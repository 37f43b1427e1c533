//! The `check-report` sink: collects the analyzer's findings and the run's
//! file-level diagnostics, computes docstring coverage the way interrogate
//! does, and prints everything at the end of the run as text, JSON, GitHub
//! workflow annotations or SARIF 2.1.0.
//!
//! Counting: `definitions` and `undocumented` count every unit (module,
//! class, function, method, nested definition) before any ignore option, as
//! Python's `ast` would; `coverage` is the share of documented units among
//! those that no `ignore_*` option of the analyzer left out.

mod format;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::model::{Envelope, ItemKind};
use docpipe_core::registry::{
    BuildError, DefaultConcurrency, OptionDoc, Registry, StageOptions, StageRole, StageSpec,
};
use docpipe_core::report::FileDiagnostic;
use docpipe_core::stage::{BuiltStage, Sink, SinkFinish, SinkSummary, StageContext, StageError};
use serde::Deserialize;

pub use format::{Format, Report, ReportFinding};

/// Options of `check-report`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckReportOptions {
    /// `text`, `json`, `github` or `sarif`; `--format` on the command line wins.
    pub format: String,
    /// Fail when coverage (after ignores) is under this percentage.
    pub fail_under: f64,
}

impl Default for CheckReportOptions {
    fn default() -> Self {
        CheckReportOptions {
            format: "text".into(),
            fail_under: 0.0,
        }
    }
}

impl StageOptions for CheckReportOptions {
    fn describe() -> Vec<OptionDoc> {
        vec![
            OptionDoc {
                name: "format",
                ty: "string",
                default: Some("\"text\""),
                doc: "Output: `text` (`path:line:col: CODE message` and a coverage line), `json`, `github` (workflow annotations) or `sarif` (SARIF 2.1.0). `--format` overrides it.",
            },
            OptionDoc {
                name: "fail_under",
                ty: "float",
                default: Some("0"),
                doc: "The run fails (exit 1) when docstring coverage after ignores is under this percentage.",
            },
        ]
    }
}

pub(crate) fn register(registry: &mut Registry) {
    registry.add_stage::<CheckReportOptions, _>(
        StageSpec {
            type_name: "check-report",
            role: StageRole::Sink,
            summary: "Prints findings and docstring coverage (text, json, github, sarif); fails on findings or low coverage",
            input: Some(ItemKind::Unit),
            ports: Vec::new(),
            default_concurrency: DefaultConcurrency::One,
            sections: Vec::new(),
        },
        |options, ctx| {
            let name = ctx.run.format.clone().unwrap_or_else(|| options.format.clone());
            let format = Format::parse(&name).map_err(|e| {
                let b = if ctx.run.format.is_some() {
                    BuildError::new(e)
                } else {
                    BuildError::option("format", e)
                };
                b.with_help("use one of `text`, `json`, `github`, `sarif`")
            })?;
            if !(0.0..=100.0).contains(&options.fail_under) {
                return Err(BuildError::option(
                    "fail_under",
                    format!("`fail_under = {}` is not a percentage", options.fail_under),
                )
                .with_help("use a number from 0 to 100"));
            }
            Ok(BuiltStage::Sink(Box::new(CheckReport::new(format, options.fail_under))))
        },
    );
}

/// Where the report goes: stdout, or a buffer in tests.
pub type ReportOutput = Arc<Mutex<Vec<u8>>>;

/// The `check-report` sink.
pub struct CheckReport {
    format: Format,
    fail_under: f64,
    definitions: u64,
    undocumented: u64,
    considered: u64,
    considered_documented: u64,
    files: BTreeSet<PathBuf>,
    /// The last unit's file and how it is shown, shared by its findings.
    last_path: Option<(PathBuf, Arc<str>)>,
    findings: Vec<ReportFinding>,
    capture: Option<ReportOutput>,
}

impl CheckReport {
    /// A report printed to stdout.
    pub fn new(format: Format, fail_under: f64) -> CheckReport {
        CheckReport {
            format,
            fail_under,
            definitions: 0,
            undocumented: 0,
            considered: 0,
            considered_documented: 0,
            files: BTreeSet::new(),
            last_path: None,
            findings: Vec::new(),
            capture: None,
        }
    }

    /// A report written into `buffer` instead of stdout.
    pub fn capturing(format: Format, fail_under: f64, buffer: ReportOutput) -> CheckReport {
        CheckReport {
            capture: Some(buffer),
            ..CheckReport::new(format, fail_under)
        }
    }

    /// The report of what was consumed plus `file_errors`; the findings move
    /// into it (the report of the whole standard library holds 78,000).
    pub fn report(&mut self, file_errors: &[FileDiagnostic]) -> Report {
        let mut findings = std::mem::take(&mut self.findings);
        let mut files = std::mem::take(&mut self.files);
        for d in file_errors {
            files.insert(d.path.clone());
            findings.push(ReportFinding::new(&d.path, "", &d.finding));
        }
        let findings = sorted(findings);
        let coverage = if self.considered == 0 {
            100.0
        } else {
            self.considered_documented as f64 * 100.0 / self.considered as f64
        };
        Report {
            definitions: self.definitions,
            undocumented: self.undocumented,
            considered: self.considered,
            documented: self.considered_documented,
            coverage,
            fail_under: self.fail_under,
            files: files.len() as u64,
            file_errors: file_errors.len() as u64,
            findings,
        }
    }
}

/// `findings` by path, line, column and code; findings equal in all four
/// keep their order.
///
/// The findings of one file share one `Arc` of its path, so most comparisons
/// settle on a pointer instead of comparing two copies of the same string.
fn sorted(mut findings: Vec<ReportFinding>) -> Vec<ReportFinding> {
    findings.sort_by(|a, b| {
        let path = if Arc::ptr_eq(&a.path, &b.path) {
            std::cmp::Ordering::Equal
        } else {
            a.path.cmp(&b.path)
        };
        path.then(a.finding.line.cmp(&b.finding.line))
            .then(a.finding.column.cmp(&b.finding.column))
            .then_with(|| a.finding.code.cmp(&b.finding.code))
    });
    findings
}

fn ignored(env: &Envelope) -> bool {
    env.extra
        .get(crate::analyze::EXTRA_KEY)
        .and_then(|v| v.get("ignored"))
        .is_some()
}

#[async_trait]
impl Sink for CheckReport {
    async fn consume(
        &mut self,
        env: Envelope,
        _ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        let documented = env.unit.docstring.is_some();
        self.definitions += 1;
        if !documented {
            self.undocumented += 1;
        }
        if !ignored(&env) {
            self.considered += 1;
            if documented {
                self.considered_documented += 1;
            }
        }
        // Units of a file arrive together: compare with the last path before the set.
        let shown = match &self.last_path {
            Some((path, shown)) if *path == env.unit.path => shown.clone(),
            _ => {
                if !self.files.contains(&env.unit.path) {
                    self.files.insert(env.unit.path.clone());
                }
                let shown: Arc<str> = Arc::from(env.unit.path.display().to_string());
                self.last_path = Some((env.unit.path.clone(), shown.clone()));
                shown
            }
        };
        if !env.findings.is_empty() {
            let name = env.unit.display_name();
            for f in &env.findings {
                self.findings.push(ReportFinding {
                    path: shown.clone(),
                    name: name.clone(),
                    finding: f.clone(),
                });
            }
        }
        // Nothing is held: the unit is released at once.
        Ok(vec![env])
    }

    async fn finish(
        &mut self,
        ctx: &StageContext,
        cancelled: bool,
    ) -> Result<SinkFinish, StageError> {
        let file_errors = ctx.diagnostics.snapshot();
        let report = self.report(&file_errors);
        if !cancelled {
            match &self.capture {
                Some(buffer) => {
                    if let Ok(mut b) = buffer.lock() {
                        report.write(self.format, &mut *b).map_err(|e| {
                            StageError::fatal(format!("cannot write the check report: {e}"))
                        })?;
                    }
                }
                None => {
                    // A large buffer: the JSON report of the standard library is 26 MB.
                    let mut out =
                        std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
                    report
                        .write(self.format, &mut out)
                        .and_then(|()| out.flush())
                        .map_err(|e| {
                            StageError::fatal(format!(
                                "cannot write the check report to stdout: {e}"
                            ))
                        })?;
                }
            }
        }
        Ok(SinkFinish {
            summary: SinkSummary {
                problems: report.problems(),
                files_written: 0,
            },
            released: Vec::new(),
        })
    }
}
