//! The check report and its output formats.

use std::io::{self, Write};
use std::path::Path;

use docpipe_core::model::Severity;
use docpipe_core::printable::{self, count};
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
    /// GitLab Code Quality JSON (a CI job's `codequality` report).
    Gitlab,
    /// JUnit XML, which CI systems show in their test tabs.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
}

impl Format {
    /// Every format's name.
    pub const NAMES: [&'static str; 6] = ["text", "json", "github", "gitlab", "junit", "sarif"];

    /// The format called `name`.
    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "github" => Ok(Format::Github),
            "gitlab" => Ok(Format::Gitlab),
            "junit" => Ok(Format::Junit),
            "sarif" => Ok(Format::Sarif),
            other => Err(format!("unknown report format `{other}`")),
        }
    }

    /// Whether `--statistics` can print in this format (a table of counts
    /// is text or JSON; the others have a fixed schema of findings).
    pub fn has_statistics(self) -> bool {
        matches!(self, Format::Text | Format::Json)
    }
}

/// The kebab-case name of the rule with `code` (`undocumented-parameter`),
/// or `""` for a code docpipe does not know (a plugin's).
pub fn rule_name(code: &str) -> &'static str {
    match code {
        codes::UNREADABLE => "unreadable-file",
        codes::UNDECODABLE => "undecodable-file",
        codes::SYNTAX_ERROR => "syntax-error",
        _ => rules::all()
            .iter()
            .find(|r| r.code == code)
            .map_or("", |r| r.name),
    }
}

/// How many findings one code has, for `--statistics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount<'a> {
    /// The code.
    pub code: &'a str,
    /// The rule's kebab-case name (empty for a plugin's code).
    pub name: &'static str,
    /// Findings of the code.
    pub count: u64,
}

/// One finding with its file and the definition it concerns, borrowed from
/// where the report keeps it. Serialises as `path`, `name` (left out when
/// empty), then the fields of a [`Finding`](docpipe_core::model::Finding) in
/// its order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReportFinding<'a> {
    /// File: its path, or for a path that is not UTF-8 its text with the
    /// other bytes shown as `\xNN` (then `path_bytes` has it exactly).
    pub path: &'a str,
    /// The path's bytes, when it is not UTF-8 (no string holds it
    /// exactly); in JSON `path_hex`, the bytes in hexadecimal.
    #[serde(
        rename = "path_hex",
        skip_serializing_if = "Option::is_none",
        serialize_with = "hex"
    )]
    pub path_bytes: Option<&'a [u8]>,
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

/// Bytes as lower-case hexadecimal (`bytes.fromhex` in Python reads them).
fn hex<S: serde::Serializer>(bytes: &Option<&[u8]>, s: S) -> Result<S::Ok, S::Error> {
    let text: String = bytes
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    s.serialize_str(&text)
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
    /// Colour the text format (`--color`).
    #[serde(skip)]
    pub color: bool,
    /// The directory relative paths start from (SARIF's `%SRCROOT%`).
    #[serde(skip)]
    pub root: Option<&'a Path>,
    /// Print counts per code instead of the findings (`--statistics`).
    #[serde(skip)]
    pub statistics: bool,
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
            Format::Text if self.statistics => {
                self.statistics_text(out)?;
                self.text_tail(out)
            }
            Format::Text => self.text(out),
            Format::Json if self.statistics => {
                serde_json::to_writer_pretty(&mut *out, &self.code_counts())?;
                writeln!(out)
            }
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)
            }
            Format::Github => self.github(out),
            Format::Gitlab => {
                serde_json::to_writer_pretty(&mut *out, &self.gitlab())?;
                writeln!(out)
            }
            Format::Junit => self.junit(out),
            Format::Sarif => {
                serde_json::to_writer_pretty(&mut *out, &self.sarif())?;
                writeln!(out)
            }
        }
    }

    /// Findings per code, the most frequent first (then by code), as
    /// ruff's `--statistics` counts them.
    pub fn code_counts(&self) -> Vec<CodeCount<'_>> {
        let mut counts: Vec<CodeCount<'_>> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for f in &self.findings {
            match index.get(f.code) {
                Some(&i) => counts[i].count += 1,
                None => {
                    index.insert(f.code, counts.len());
                    counts.push(CodeCount {
                        code: f.code,
                        name: rule_name(f.code),
                        count: 1,
                    });
                }
            }
        }
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(b.code)));
        counts
    }

    /// `COUNT  CODE  name` lines, the columns aligned.
    fn statistics_text(&self, s: &mut impl Write) -> io::Result<()> {
        let counts = self.code_counts();
        let width = counts
            .iter()
            .map(|c| c.count.to_string().len())
            .max()
            .unwrap_or(0);
        let code_width = counts.iter().map(|c| c.code.len()).max().unwrap_or(0);
        for c in &counts {
            let line = format!(
                "{:>width$}\t{:<code_width$}\t{}",
                c.count,
                printable::text(c.code),
                c.name
            );
            writeln!(s, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// Files with at least one finding.
    pub fn files_with_findings(&self) -> u64 {
        // Findings are sorted by path: count the changes.
        let mut files = 0;
        let mut last = None;
        for f in &self.findings {
            if last != Some(f.path) {
                files += 1;
                last = Some(f.path);
            }
        }
        files
    }

    /// The run in a few words, for the closing line: findings, files with
    /// findings, files checked, coverage.
    pub fn headline(&self) -> String {
        let checked = count(self.files, "file", "files");
        let mut line = match (self.files, self.findings.len() as u64) {
            (0, _) => "no file checked".to_string(),
            (_, 0) => format!("no findings in {checked} checked"),
            (1, n) => format!("{} in 1 file checked", count(n, "finding", "findings")),
            (files, n) => format!(
                "{} in {} of {files} files checked",
                count(n, "finding", "findings"),
                self.files_with_findings(),
            ),
        };
        if self.files > 0 && self.definitions > 0 {
            line.push_str(&format!("; docstring coverage {:.1}%", self.coverage));
            if self.under_threshold() {
                line.push_str(&format!(", under fail_under = {}%", self.fail_under));
            }
        }
        line
    }

    /// One `path:line:col: CODE message` line per finding, the form
    /// editors' problem matchers and ruff's `concise` output use, then
    /// [`Report::text_tail`].
    fn text(&self, s: &mut impl Write) -> io::Result<()> {
        let paint = Paint(self.color);
        for f in &self.findings {
            writeln!(
                s,
                "{}{}{}{}{}{} {} {}",
                paint.bold(&printable::text(f.path)),
                paint.cyan(":"),
                f.line,
                paint.cyan(":"),
                f.column,
                paint.cyan(":"),
                paint.bold_red(f.code),
                printable::text(f.message)
            )?;
        }
        self.text_tail(s)
    }

    /// The closing lines of the text format: problems found, coverage, and
    /// the threshold when coverage is under it. None of them reads as a
    /// finding (`path:line:col:`).
    fn text_tail(&self, s: &mut impl Write) -> io::Result<()> {
        let n = self.findings.len() as u64;
        if n == 0 {
            writeln!(
                s,
                "All checks passed ({}).",
                count(self.files, "file", "files")
            )?;
        } else if self.files == 1 {
            writeln!(s, "Found {} in 1 file.", count(n, "problem", "problems"))?;
        } else {
            writeln!(
                s,
                "Found {} in {} of {} files.",
                count(n, "problem", "problems"),
                self.files_with_findings(),
                self.files
            )?;
        }
        if self.definitions == 0 {
            // 100% of nothing says nothing.
            writeln!(s, "Docstring coverage: no definitions to measure.")?;
        } else {
            writeln!(
                s,
                "Docstring coverage: {:.1}% ({} of {} definitions documented; {} definitions, {} undocumented before ignores)",
                self.coverage,
                self.documented,
                self.considered,
                self.definitions,
                self.undocumented
            )?;
        }
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
                .iter()
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
                            "artifactLocation": artifact_location(f),
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
        let mut sarif = json!({
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
        });
        if let (Some(root), Some(run)) = (self.root, sarif["runs"][0].as_object_mut()) {
            run.insert(
                "originalUriBaseIds".into(),
                json!({ SRCROOT: { "uri": directory_uri(root) } }),
            );
        }
        sarif
    }
}

impl Report<'_> {
    /// GitLab Code Quality: an array of issues, each with a description,
    /// the check's name, a fingerprint, a severity and a location. The
    /// fingerprint hashes the path, code, definition and message (not the
    /// line, so that a finding keeps it when code above it moves), with a
    /// counter for findings equal in all four, as ruff does.
    fn gitlab(&self) -> serde_json::Value {
        let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        let issues: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                let mut h = blake3::Hasher::new();
                for part in [f.path, f.code, f.name, f.message] {
                    h.update(&(part.len() as u64).to_le_bytes());
                    h.update(part.as_bytes());
                }
                let base = h.finalize().to_hex()[..32].to_string();
                let n = seen.entry(base.clone()).or_insert(0);
                *n += 1;
                let fingerprint = if *n == 1 { base } else { format!("{base}-{n}") };
                json!({
                    "description": format!("{}: {}", f.code, f.message),
                    "check_name": f.code,
                    "fingerprint": fingerprint,
                    "severity": match f.severity {
                        Severity::Error => "major",
                        Severity::Warning => "minor",
                    },
                    "location": {
                        "path": f.path,
                        "lines": { "begin": f.line },
                    },
                })
            })
            .collect();
        serde_json::Value::Array(issues)
    }

    /// JUnit XML: a `<testsuite>` per file with findings, a failing
    /// `<testcase>` per finding (its classname the path, its name the
    /// code and place), then a `docstring coverage` suite whose one case
    /// fails when coverage is under `fail_under`. A clean run is one
    /// passing case.
    fn junit(&self, s: &mut impl Write) -> io::Result<()> {
        let failures = self.findings.len() as u64 + u64::from(self.under_threshold());
        let tests = self.findings.len() as u64 + 1;
        writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            s,
            r#"<testsuites name="docpipe" tests="{tests}" failures="{failures}" errors="0">"#
        )?;
        let mut i = 0;
        while i < self.findings.len() {
            let path = self.findings[i].path;
            let end = self.findings[i..]
                .iter()
                .position(|f| f.path != path)
                .map_or(self.findings.len(), |n| i + n);
            let n = end - i;
            writeln!(
                s,
                r#"  <testsuite name="{}" tests="{n}" failures="{n}" errors="0" skipped="0">"#,
                xml(path)
            )?;
            for f in &self.findings[i..end] {
                let place = format!("{}:{}:{}", f.path, f.line, f.column);
                writeln!(
                    s,
                    r#"    <testcase name="{} {}" classname="{}" file="{}" line="{}">"#,
                    xml(f.code),
                    xml(&format!("{}:{}", f.line, f.column)),
                    xml(path),
                    xml(path),
                    f.line
                )?;
                writeln!(
                    s,
                    r#"      <failure message="{}" type="{}">{}: {} {}</failure>"#,
                    xml(f.message),
                    xml(f.code),
                    xml(&place),
                    xml(f.code),
                    xml(f.message)
                )?;
                writeln!(s, "    </testcase>")?;
            }
            writeln!(s, "  </testsuite>")?;
            i = end;
        }
        let under = self.under_threshold();
        writeln!(
            s,
            r#"  <testsuite name="docstring coverage" tests="1" failures="{}" errors="0" skipped="0">"#,
            u8::from(under)
        )?;
        let summary = format!(
            "{:.1}% ({} of {} definitions documented); fail_under = {}%",
            self.coverage, self.documented, self.considered, self.fail_under
        );
        if under {
            writeln!(
                s,
                r#"    <testcase name="coverage" classname="docpipe"><failure message="{}" type="fail_under">{}</failure></testcase>"#,
                xml(&summary),
                xml(&summary)
            )?;
        } else {
            writeln!(
                s,
                r#"    <testcase name="coverage" classname="docpipe"><system-out>{}</system-out></testcase>"#,
                xml(&summary)
            )?;
        }
        writeln!(s, "  </testsuite>")?;
        writeln!(s, "</testsuites>")
    }
}

/// `text` escaped for an XML attribute or element: the five special
/// characters as entities, characters XML 1.0 does not allow (NUL and
/// most other control characters) shown as `\xNN`, as paths are elsewhere.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", c as u32)),
            c if c.is_control() => out.push_str(&printable::text(c.encode_utf8(&mut [0; 4]))),
            c => out.push(c),
        }
    }
    out
}

/// The base relative paths are resolved against, in SARIF.
const SRCROOT: &str = "%SRCROOT%";

/// A SARIF `artifactLocation`: a relative path as a percent-encoded URI
/// reference under `%SRCROOT%`, an absolute one as a `file://` URI. Every
/// byte but unreserved characters and `/` is encoded, so a space, `ü` or a
/// byte that is not UTF-8 maps back exactly.
fn artifact_location(f: &ReportFinding<'_>) -> serde_json::Value {
    let bytes = f.path_bytes.unwrap_or(f.path.as_bytes());
    if bytes.first() == Some(&b'/') {
        json!({ "uri": format!("file://{}", uri_path(bytes)) })
    } else {
        json!({ "uri": uri_path(bytes), "uriBaseId": SRCROOT })
    }
}

/// `dir` as a `file://` URI ending with `/`, as SARIF wants a base.
fn directory_uri(dir: &Path) -> String {
    let mut uri = format!("file://{}", uri_path(dir.as_os_str().as_encoded_bytes()));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The parts of the path `bytes` percent-encoded and joined with `/` (a
/// leading `/` kept, `.` parts left out).
fn uri_path(bytes: &[u8]) -> String {
    let separator = |b: &u8| *b == b'/' || (cfg!(windows) && *b == b'\\');
    let mut out = String::with_capacity(bytes.len());
    if bytes.first().is_some_and(separator) {
        out.push('/');
    }
    for part in bytes.split(separator) {
        if part.is_empty() || part == b"." {
            continue;
        }
        if !(out.is_empty() || out.ends_with('/')) {
            out.push('/');
        }
        for &b in part {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Escapes a workflow command property value.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Escapes workflow command data: what GitHub decodes (`%`, CR, LF) as it
/// decodes it, other control characters (a NUL in a syntax error) visibly.
fn gh_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if c.is_control() => out.push_str(&printable::text(c.encode_utf8(&mut [0; 4]))),
            c => out.push(c),
        }
    }
    out
}

/// ANSI colours for the text format, as ruff uses them: paths bold,
/// separators cyan, codes bold red. Off: the text unchanged.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap<'a>(self, code: &str, text: &'a str) -> std::borrow::Cow<'a, str> {
        if self.0 {
            std::borrow::Cow::Owned(format!("\x1b[{code}m{text}\x1b[0m"))
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }

    fn bold<'a>(self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.wrap("1", text)
    }

    fn cyan<'a>(self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.wrap("36", text)
    }

    fn bold_red<'a>(self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.wrap("1;31", text)
    }
}
