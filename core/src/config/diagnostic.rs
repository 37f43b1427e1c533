//! Configuration errors that point at the file, line and column and say what to do.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

/// The text a configuration was read from.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// Name shown in messages: the path as found, or `<built-in pipeline.toml>`.
    pub name: String,
    /// Full text.
    pub text: Arc<String>,
    /// The built-in default this file is layered over, when it is: the
    /// places of [`Origin::BuiltIn`] point into it.
    pub layered_over: Option<Arc<ConfigSource>>,
}

impl ConfigSource {
    /// A source named `name` holding `text`, layered over nothing.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> ConfigSource {
        ConfigSource {
            name: name.into(),
            text: Arc::new(text.into()),
            layered_over: None,
        }
    }

    /// 1-based line and column of byte `offset` (column in characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A byte range of the file.
    File(Range<usize>),
    /// A byte range of the built-in default the file is layered over (a key
    /// the user's file did not set).
    BuiltIn(Range<usize>),
    /// A `--set` argument, as given.
    Set(String),
    /// Another command-line flag with its value, as given (`--format xml`).
    Flag(String),
}

impl Origin {
    /// Sort key: the file's places in order, then the command line's (in
    /// the order they were found: the sort keeps it).
    fn order(&self) -> (u8, usize) {
        match self {
            Origin::File(span) => (0, span.start),
            Origin::BuiltIn(span) => (1, span.start),
            Origin::Set(_) => (2, 0),
            Origin::Flag(_) => (3, 0),
        }
    }
}

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// What is wrong, one line.
    pub message: String,
    /// Where.
    pub at: Option<Origin>,
    /// A short note under the pointed text.
    pub label: Option<String>,
    /// What to do.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with `message` at `at`.
    pub fn new(message: impl Into<String>, at: Option<Origin>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            at,
            label: None,
            help: None,
        }
    }

    /// Adds a label under the pointed text.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds advice.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// The configuration cannot be used; every problem found is listed.
#[derive(Debug, Clone)]
pub struct ConfigError {
    /// The text the diagnostics point into.
    pub source: ConfigSource,
    /// The problems, in file order where they have a place.
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    /// A single problem.
    pub fn one(source: &ConfigSource, diagnostic: Diagnostic) -> ConfigError {
        ConfigError {
            source: source.clone(),
            diagnostics: vec![diagnostic],
        }
    }

    /// Every problem of `diagnostics` once, in file order, then those of the
    /// command line, then those with no place (in the order found).
    pub fn many(source: &ConfigSource, mut diagnostics: Vec<Diagnostic>) -> ConfigError {
        let mut seen = std::collections::HashSet::with_capacity(diagnostics.len());
        diagnostics.retain(|d| seen.insert(d.clone()));
        diagnostics.sort_by(|a, b| match (&a.at, &b.at) {
            (Some(x), Some(y)) => x.order().cmp(&y.order()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        ConfigError {
            source: source.clone(),
            diagnostics,
        }
    }

    /// Renders every diagnostic: a `error: ...` line, `--> file:line:col`, the
    /// source excerpt with a pointer, and the help.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&render_one(&self.source, d, color));
        }
        if self.diagnostics.len() > 1 {
            out.push_str(&format!(
                "error: {} problems in {}\n",
                self.diagnostics.len(),
                self.source.name
            ));
        }
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug)]
struct Excerpt {
    message: String,
    src: NamedSource<Arc<String>>,
    label: LabeledSpan,
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Excerpt {}

impl miette::Diagnostic for Excerpt {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

fn render_one(source: &ConfigSource, d: &Diagnostic, color: bool) -> String {
    let mut out = format!("error: {}\n", d.message);
    let located = match &d.at {
        Some(Origin::File(span)) => Some((source, span)),
        Some(Origin::BuiltIn(span)) => source.layered_over.as_deref().map(|base| (base, span)),
        _ => None,
    };
    match (&d.at, located) {
        (_, Some((source, span))) => {
            let (line, col) = source.line_col(span.start);
            out.push_str(&format!("  --> {}:{}:{}\n", source.name, line, col));
            let excerpt = Excerpt {
                message: String::new(),
                src: NamedSource::new(source.name.clone(), source.text.clone()),
                label: LabeledSpan::new_with_span(
                    d.label.clone(),
                    SourceSpan::from(span.start..span.end.max(span.start)),
                ),
            };
            let theme = if color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            let handler = GraphicalReportHandler::new_themed(theme)
                .with_width(100)
                .with_context_lines(1)
                .without_cause_chain()
                .with_footer(String::new());
            let mut snippet = String::new();
            if handler.render_report(&mut snippet, &excerpt).is_ok() {
                // The handler's own header line repeats the (empty) message; keep the excerpt only.
                let body: Vec<&str> = snippet.lines().skip_while(|l| !l.contains('╭')).collect();
                let mut blank = false;
                for l in body {
                    let l = l.trim_end();
                    // The handler ends with blank footer lines; keep none of them.
                    if l.is_empty() {
                        blank = true;
                        continue;
                    }
                    if blank {
                        out.push('\n');
                        blank = false;
                    }
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        (Some(Origin::Set(arg)), None) => {
            out.push_str(&format!("  --> command line: --set {arg}\n"));
            if let Some(label) = &d.label {
                out.push_str(&format!("      {label}\n"));
            }
        }
        (Some(Origin::Flag(arg)), None) => {
            out.push_str(&format!("  --> command line: {arg}\n"));
            if let Some(label) = &d.label {
                out.push_str(&format!("      {label}\n"));
            }
        }
        (Some(Origin::File(_) | Origin::BuiltIn(_)) | None, None) => {
            out.push_str(&format!("  --> {}\n", source.name))
        }
    }
    if let Some(help) = &d.help {
        out.push_str(&format!("  help: {help}\n"));
    }
    if let (Some(Origin::BuiltIn(_)), Some(base)) = (&d.at, &source.layered_over) {
        out.push_str(&format!(
            "  note: {} is layered over {}, where this is; a `[stages.NAME]` or \
             `[pipelines.NAME]` of the same name replaces the built-in one, and \
             `extends = false` at the top starts from nothing (`docpipe init` writes the default out)\n",
            source.name, base.name
        ));
    }
    out.push('\n');
    out
}
