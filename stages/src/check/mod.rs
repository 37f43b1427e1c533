//! The `check-report` sink: collects the analyzer's findings and the run's
//! file-level diagnostics, computes docstring coverage the way interrogate
//! does, and prints everything at the end of the run as text, JSON, GitHub
//! workflow annotations or SARIF 2.1.0.
//!
//! Counting: `definitions` and `undocumented` count every unit (module,
//! class, function, method, nested definition) before any ignore option, as
//! Python's `ast` would; `coverage` is the share of documented units among
//! those that no `ignore_*` option of the analyzer left out. A docstring that
//! is empty or only whitespace documents nothing (as in interrogate).

mod format;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::config::wording;
use docpipe_core::model::{Envelope, Finding, ItemKind, Severity};
use docpipe_core::registry::{
    BuildError, DefaultConcurrency, OptionDoc, Registry, StageOptions, StageRole, StageSpec,
};
use docpipe_core::report::FileDiagnostic;
use docpipe_core::stage::{
    BuiltStage, RunFlag, Sink, SinkFinish, SinkSummary, StageContext, StageError,
};
use docpipe_core::{console, printable};
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
                    BuildError::flag(format!("--format {name}"), e)
                } else {
                    BuildError::option("format", e)
                };
                b.with_help(wording::did_you_mean(&name, &Format::NAMES))
            })?;
            if !(0.0..=100.0).contains(&options.fail_under) {
                return Err(BuildError::option(
                    "fail_under",
                    format!("`fail_under = {}` is not a percentage", options.fail_under),
                )
                .with_help("use a number from 0 to 100"));
            }
            if ctx.run.statistics && !format.has_statistics() {
                return Err(BuildError::flag(
                    format!("--format {name}"),
                    format!("`--statistics` prints text or json, not `{name}`"),
                )
                .with_help("drop --statistics, or give --format text or --format json"));
            }
            // A file gets no colour codes, whatever --color says.
            let color = ctx.run.color && ctx.run.output_file.is_none();
            let mut report = CheckReport::new(format, options.fail_under)
                .with_color(color)
                .with_statistics(ctx.run.statistics)
                .with_output_file(ctx.run.output_file.clone());
            if !ctx.run.base_dir.as_os_str().is_empty() {
                report = report.with_root(ctx.run.base_dir.clone());
            }
            Ok(BuiltStage::Sink(Box::new(report)))
        },
    )
    .reads(&[RunFlag::Format, RunFlag::Statistics, RunFlag::OutputFile]);
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
    /// The last unit's file and its index in `kept.paths`, shared by its findings.
    last_path: Option<(PathBuf, usize)>,
    kept: Kept,
    capture: Option<ReportOutput>,
    color: bool,
    root: Option<PathBuf>,
    statistics: bool,
    output_file: Option<PathBuf>,
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
            kept: Kept::default(),
            capture: None,
            color: false,
            root: None,
            statistics: false,
            output_file: None,
        }
    }

    /// Prints counts per code instead of the findings (`--statistics`).
    pub fn with_statistics(mut self, statistics: bool) -> CheckReport {
        self.statistics = statistics;
        self
    }

    /// Writes the report to `path` instead of stdout (`--output-file`).
    pub fn with_output_file(mut self, path: Option<PathBuf>) -> CheckReport {
        self.output_file = path;
        self
    }

    /// Colours the text format.
    pub fn with_color(mut self, color: bool) -> CheckReport {
        self.color = color;
        self
    }

    /// Relative paths start from `root` (SARIF's `%SRCROOT%`).
    pub fn with_root(mut self, root: PathBuf) -> CheckReport {
        self.root = Some(root);
        self
    }

    /// A report written into `buffer` instead of stdout.
    pub fn capturing(format: Format, fail_under: f64, buffer: ReportOutput) -> CheckReport {
        CheckReport {
            capture: Some(buffer),
            ..CheckReport::new(format, fail_under)
        }
    }

    /// The report of what was consumed plus `file_errors`, borrowing the
    /// findings the sink keeps. Called once, at the end of the run: the file
    /// errors join the kept findings.
    fn report(&mut self, file_errors: &[FileDiagnostic]) -> Report<'_> {
        let mut files = std::mem::take(&mut self.files);
        for d in file_errors {
            files.insert(d.path.clone());
            let path = self.kept.path(&d.path);
            self.kept.push(path, "", &d.finding);
        }
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
            findings: self.kept.sorted(),
            color: self.color,
            root: self.root.as_deref(),
            statistics: self.statistics,
        }
    }
}

/// The findings of a run, kept to its end in a few large buffers: their
/// paths, names and messages back to back in one string, codes and fixes
/// once each, and a fixed-size record per finding.
///
/// Kept as one `String` per name and message (the standard library gives
/// 78,000 findings), they stayed scattered over the allocator's small-block
/// pages between tree-sitter's short-lived nodes for the whole run, and the
/// parser's allocations kept landing on cold memory: with the findings kept
/// that way, 7-8 % of a one-core run's samples sat on one load in mimalloc's
/// allocation path, against 1.4 % when they are not kept (BENCHMARKS.md,
/// check).
#[derive(Default)]
struct Kept {
    text: String,
    /// Shown paths, as spans of `text`, in arrival order.
    paths: Vec<Span>,
    /// The bytes of paths that are not UTF-8, by index in `paths`.
    path_bytes: HashMap<usize, Vec<u8>>,
    /// Codes and fixes, each once.
    words: Vec<Cow<'static, str>>,
    word_ids: HashMap<Cow<'static, str>, usize>,
    records: Vec<Packed>,
}

/// A span of [`Kept::text`].
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

/// One kept finding.
struct Packed {
    path: usize,
    name: Span,
    message: Span,
    code: usize,
    fix: Option<usize>,
    line: usize,
    column: usize,
    severity: Severity,
}

impl Kept {
    fn span(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len(),
        }
    }

    fn text(&self, span: Span) -> &str {
        &self.text[span.start..span.end]
    }

    // A `Cow`, not a `&str`: a built-in code is kept borrowed, not copied.
    #[allow(clippy::ptr_arg)]
    fn word(&mut self, w: &Cow<'static, str>) -> usize {
        if let Some(&id) = self.word_ids.get(w.as_ref()) {
            return id;
        }
        let id = self.words.len();
        self.words.push(w.clone());
        self.word_ids.insert(w.clone(), id);
        id
    }

    /// A new path; returns its index. A path that is not UTF-8 is kept
    /// as text with its other bytes escaped, and as bytes.
    fn path(&mut self, path: &Path) -> usize {
        let span = match path.to_str() {
            Some(text) => self.span(text),
            None => {
                let shown = printable::path(path).into_owned();
                if let Some(bytes) = printable::path_bytes(path) {
                    self.path_bytes.insert(self.paths.len(), bytes);
                }
                self.span(&shown)
            }
        };
        self.paths.push(span);
        self.paths.len() - 1
    }

    fn push(&mut self, path: usize, name: &str, f: &Finding) {
        let name = self.span(name);
        let message = self.span(&f.message);
        let code = self.word(&f.code);
        let fix = f.fix.as_ref().map(|fix| self.word(fix));
        self.records.push(Packed {
            path,
            name,
            message,
            code,
            fix,
            line: f.line,
            column: f.column,
            severity: f.severity,
        });
    }

    /// Every finding by path, line, column and code; findings equal in all
    /// four keep their order.
    fn sorted(&self) -> Vec<ReportFinding<'_>> {
        // Paths sorted once; equal paths (a file's diagnostic and its units) share a rank.
        let mut order: Vec<usize> = (0..self.paths.len()).collect();
        order.sort_by(|&a, &b| self.text(self.paths[a]).cmp(self.text(self.paths[b])));
        let mut rank = vec![0usize; self.paths.len()];
        let mut r = 0;
        for (i, &p) in order.iter().enumerate() {
            if i > 0 && self.text(self.paths[order[i - 1]]) != self.text(self.paths[p]) {
                r += 1;
            }
            rank[p] = r;
        }
        let mut records: Vec<&Packed> = self.records.iter().collect();
        records.sort_by(|a, b| {
            rank[a.path]
                .cmp(&rank[b.path])
                .then(a.line.cmp(&b.line))
                .then(a.column.cmp(&b.column))
                .then_with(|| self.words[a.code].cmp(&self.words[b.code]))
        });
        records
            .into_iter()
            .map(|p| ReportFinding {
                path: self.text(self.paths[p.path]),
                path_bytes: self.path_bytes.get(&p.path).map(Vec::as_slice),
                name: self.text(p.name),
                code: &self.words[p.code],
                message: self.text(p.message),
                line: p.line,
                column: p.column,
                fix: p.fix.map(|f| &*self.words[f]),
                severity: p.severity,
            })
            .collect()
    }
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
        let documented = env.unit.is_documented();
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
        let path = match &self.last_path {
            Some((path, index)) if *path == env.unit.path => *index,
            _ => {
                if !self.files.contains(&env.unit.path) {
                    self.files.insert(env.unit.path.clone());
                }
                let index = self.kept.path(&env.unit.path);
                self.last_path = Some((env.unit.path.clone(), index));
                index
            }
        };
        for f in &env.findings {
            self.kept.push(path, env.unit.display_str(), f);
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
        let (format, capture) = (self.format, self.capture.clone());
        let output_file = self.output_file.clone();
        let report = self.report(&file_errors);
        if !cancelled {
            match (&capture, &output_file) {
                (None, Some(path)) => {
                    let written = std::fs::File::create(path).and_then(|file| {
                        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
                        report.write(format, &mut out)?;
                        out.flush()
                    });
                    written.map_err(|e| {
                        StageError::fatal(format!(
                            "cannot write the check report to {}: {e}; give --output-file a path in a writable directory",
                            printable::path(path)
                        ))
                    })?;
                }
                (Some(buffer), _) => {
                    if let Ok(mut b) = buffer.lock() {
                        report.write(format, &mut *b).map_err(|e| {
                            StageError::fatal(format!("cannot write the check report: {e}"))
                        })?;
                    }
                }
                (None, None) => console::exclusive(|| {
                    // A large buffer: the JSON report of the standard library is 26 MB.
                    let mut out =
                        std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
                    report
                        .write(format, &mut out)
                        .and_then(|()| out.flush())
                        .map_err(|e| {
                            StageError::fatal(format!(
                                "cannot write the check report to stdout: {e}"
                            ))
                        })
                })?,
            }
        }
        Ok(SinkFinish {
            summary: SinkSummary {
                problems: report.problems(),
                files_written: 0,
                // Interrupted, the report is not printed: the units by state tell more.
                headline: (!cancelled).then(|| report.headline()),
            },
            released: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: Cow<'static, str>, message: &str, line: usize, column: usize) -> Finding {
        Finding {
            code,
            message: message.into(),
            line,
            column,
            fix: Some(Cow::Owned(format!("fix {message}"))),
            severity: Severity::Warning,
        }
    }

    #[test]
    fn kept_findings_sort_by_path_line_column_and_code_and_keep_ties_in_order() {
        let mut kept = Kept::default();
        let b = kept.path(Path::new("pkg/b.py"));
        let a = kept.path(Path::new("pkg/a.py"));
        kept.push(b, "g", &finding("DOC101".into(), "b-late", 9, 5));
        kept.push(a, "f", &finding("DOC201".into(), "a-201", 3, 1));
        kept.push(
            a,
            "f",
            &finding(Cow::Owned("X100".into()), "a-plugin", 3, 1),
        );
        kept.push(a, "f", &finding("DP102".into(), "a-first-tie", 3, 1));
        kept.push(b, "g", &finding("DP102".into(), "b-early", 2, 7));
        // A second entry for a path already seen, as a file's diagnostic makes.
        let a_again = kept.path(Path::new("pkg/a.py"));
        kept.push(a_again, "", &finding("DP102".into(), "a-second-tie", 3, 1));
        kept.push(a_again, "", &finding("DP003".into(), "a-top", 1, 1));

        let sorted = kept.sorted();
        let order: Vec<(&str, &str)> = sorted.iter().map(|f| (f.path, f.message)).collect();
        assert_eq!(
            order,
            [
                ("pkg/a.py", "a-top"),
                ("pkg/a.py", "a-201"),
                ("pkg/a.py", "a-first-tie"),
                ("pkg/a.py", "a-second-tie"),
                ("pkg/a.py", "a-plugin"),
                ("pkg/b.py", "b-early"),
                ("pkg/b.py", "b-late"),
            ]
        );
        let plugin = sorted[4];
        assert_eq!(
            (plugin.name, plugin.code, plugin.line, plugin.column),
            ("f", "X100", 3, 1)
        );
        assert_eq!(plugin.fix, Some("fix a-plugin"));
        assert_eq!(plugin.severity, Severity::Warning);
        // Codes are kept once each: DOC101, DOC201, X100, DP102, DP003 and seven fixes.
        assert_eq!(kept.words.len(), 5 + 7);
    }
}
