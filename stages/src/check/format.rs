//! The check report and its output formats.

use std::io::{self, Write};

use docpipe_core::model::Severity;
use serde::Serialize;
use serde_json::json;

use crate::analyze::rules;
use crate::python::codes;

/// An output format of `check-report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `path:line:col: CODE message` lines and a summary.
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
    /// SARIF 2.1.0.
    Sarif,
}

impl Format {
    /// Every format's name.
    pub const NAMES: [&'static str; 4] = ["text", "json", "github", "sarif"];

    /// The format called `name`.
    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "github" => Ok(Format::Github),
            "sarif" => Ok(Format::Sarif),
            other => Err(format!("unknown report format `{other}`")),
        }
    }
}

/// One finding with its file and the definition it concerns, borrowed from
/// where the report keeps it. Serialises as `path`, `name` (left out when
/// empty), then the fields of a [`Finding`](docpipe_core::model::Finding) in
/// its order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReportFinding<'a> {
    /// File, as shown.
    pub path: &'a str,
    /// Qualified name of the definition (empty for a file-level finding).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub name: &'a str,
    /// Stable code (`DOC101`).
    pub code: &'a str,
    /// One line, names in backticks.
    pub message: &'a str,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'a str>,
    /// Error or warning.
    pub severity: Severity,
}

/// Everything `check-report` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report<'a> {
    /// Every definition (module, class, function, method, nested), before ignore options.
    pub definitions: u64,
    /// Definitions without a docstring, before ignore options.
    pub undocumented: u64,
    /// Definitions that count for coverage (after ignore options).
    pub considered: u64,
    /// Of those, the documented ones.
    pub documented: u64,
    /// `documented / considered` in percent (100 when nothing is considered).
    pub coverage: f64,
    /// The threshold.
    pub fail_under: f64,
    /// Files seen (with units or with a file-level finding).
    pub files: u64,
    /// Files that could not be read, decoded or parsed.
    pub file_errors: u64,
    /// Findings sorted by path, line, column and code.
    pub findings: Vec<ReportFinding<'a>>,
}

impl Report<'_> {
    /// Problems that fail the run: every finding (file-level ones included)
    /// plus one when coverage is under the threshold.
    pub fn problems(&self) -> u64 {
        self.findings.len() as u64 + u64::from(self.under_threshold())
    }

    fn under_threshold(&self) -> bool {
        self.coverage + 1e-9 < self.fail_under
    }

    /// The report in `format`, ending with a newline.
    pub fn render(&self, format: Format) -> String {
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = self.write(format, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Writes the report in `format` to `out`, ending with a newline.
    ///
    /// Streams: the JSON report of the whole CPython standard library is
    /// 26 MB, and building it as one string first raised the run's peak
    /// memory by that much again.
    pub fn write(&self, format: Format, out: &mut impl Write) -> io::Result<()> {
        match format {
            Format::Text => self.text(out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)
            }
            Format::Github => self.github(out),
            Format::Sarif => {
                serde_json::to_writer_pretty(&mut *out, &self.sarif())?;
                writeln!(out)
            }
        }
    }

    fn text(&self, s: &mut impl Write) -> io::Result<()> {
        for f in &self.findings {
            writeln!(
                s,
                "{}:{}:{}: {} {}",
                f.path, f.line, f.column, f.code, f.message
            )?;
        }
        let files_with = self
            .findings
            .iter()
            .map(|f| f.path)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if self.findings.is_empty() {
            writeln!(s, "All checks passed ({} files).", self.files)?;
        } else {
            writeln!(
                s,
                "Found {} problem{} in {files_with} of {} files.",
                self.findings.len(),
                if self.findings.len() == 1 { "" } else { "s" },
                self.files
            )?;
        }
        writeln!(
            s,
            "Docstring coverage: {:.1}% ({} of {} definitions documented; {} definitions, {} undocumented before ignores)",
            self.coverage, self.documented, self.considered, self.definitions, self.undocumented
        )?;
        if self.under_threshold() {
            writeln!(
                s,
                "Coverage {:.1}% is under fail_under = {}%: document more definitions or lower the threshold.",
                self.coverage, self.fail_under
            )?;
        }
        Ok(())
    }

    fn github(&self, s: &mut impl Write) -> io::Result<()> {
        for f in &self.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            writeln!(
                s,
                "::{level} file={},line={},col={},title={}::{}",
                gh_property(f.path),
                f.line,
                f.column,
                gh_property(f.code),
                gh_data(f.message)
            )?;
        }
        let level = if self.under_threshold() {
            "error"
        } else {
            "notice"
        };
        writeln!(
            s,
            "::{level} title=docstring coverage::{}",
            gh_data(&format!(
                "{:.1}% ({} of {} definitions documented); fail_under = {}%",
                self.coverage, self.documented, self.considered, self.fail_under
            ))
        )
    }

    fn sarif(&self) -> serde_json::Value {
        let mut rule_list: Vec<(String, String, String)> = vec![
            (
                codes::UNREADABLE.into(),
                "unreadable-file".into(),
                "Check that the file exists and is readable".into(),
            ),
            (
                codes::UNDECODABLE.into(),
                "undecodable-file".into(),
                "Save the file as UTF-8".into(),
            ),
            (
                codes::SYNTAX_ERROR.into(),
                "syntax-error".into(),
                "Fix the syntax error".into(),
            ),
        ];
        rule_list.extend(
            rules::all()
                .into_iter()
                .map(|r| (r.code.to_string(), r.name.to_string(), r.fix.to_string())),
        );
        let rules_json: Vec<serde_json::Value> = rule_list
            .iter()
            .map(|(code, name, fix)| {
                json!({
                    "id": code,
                    "name": name,
                    "shortDescription": { "text": name.replace('-', " ") },
                    "help": { "text": fix },
                })
            })
            .collect();
        let results: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                let mut r = json!({
                    "ruleId": f.code,
                    "level": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
                    "message": { "text": f.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": f.path.replace('\\', "/") },
                            "region": { "startLine": f.line, "startColumn": f.column },
                        }
                    }],
                });
                if let (Some(i), Some(obj)) = (rule_list.iter().position(|(c, _, _)| *c == f.code), r.as_object_mut()) {
                    obj.insert("ruleIndex".into(), json!(i));
                }
                r
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "docpipe",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules_json,
                }},
                "results": results,
                "properties": {
                    "definitions": self.definitions,
                    "undocumented": self.undocumented,
                    "coverage": self.coverage,
                },
            }],
        })
    }
}

/// Escapes a workflow command property value.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Escapes workflow command data.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
