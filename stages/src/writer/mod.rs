//! The `python-writer` sink: writes generated docstrings back into Python
//! files without changing a single token of code.
//!
//! A file is rewritten once, when all of its units have arrived (or the input
//! ended): every unit with a draft gets its docstring rendered with the
//! configured style (merged first with the docstring a person wrote), the
//! literal is placed ([`insert`]) and escaped ([`escape`]), the result is
//! parsed again and compared token by token with the original ([`tokens`]),
//! encoded back to the file's encoding ([`encoding`]), compiled by the
//! user's Python ([`crate::python::verdict`]; the original too when the new
//! text is rejected, to say whose fault it is) and written so
//! that the file keeps its owner, mode, links and attributes ([`preserve`]).
//! Any doubt leaves the file untouched and its units failed with a reason a
//! person can act on; a file docpipe may not write (a link out of the tree,
//! a read-only file, code Python rejects) is reported with the reason.

pub mod complete;
pub mod encoding;
pub mod escape;
pub mod insert;
pub mod lexical;
pub mod merge;
pub mod pep8;
pub mod preserve;
pub mod tokens;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use docpipe_core::model::{
    CodeUnit, DocModel, Envelope, Finding, ItemKind, Severity, SourceFile, UnitState,
};
use docpipe_core::registry::{
    BuildContext, BuildError, DefaultConcurrency, NoOptions, Registry, StageRole, StageSpec,
};
use docpipe_core::stage::{
    BuiltStage, RunFlag, RunOptions, Sink, SinkFinish, SinkSummary, StageContext, StageError,
    WriteMode,
};
use docpipe_core::style::{RenderOptions, Style};

use crate::style::TypesPolicy;
use docpipe_core::{console, printable};

use self::encoding::Encoding;
use self::insert::DocEdit;
use crate::python::verdict::{Ask, PythonCheck, Verdict};

/// The stage type name.
pub const STAGE_TYPE: &str = "python-writer";

pub(crate) fn register(registry: &mut Registry) {
    registry.add_stage::<NoOptions, _>(
        StageSpec {
            type_name: STAGE_TYPE,
            role: StageRole::Sink,
            summary: "Writes drafted docstrings into the Python files (in place, as a diff, or as a check), never changing code",
            input: Some(ItemKind::Unit),
            ports: Vec::new(),
            default_concurrency: DefaultConcurrency::One,
            sections: vec!["style", "python"],
        },
        |_options, ctx| {
            let (style, section) = crate::style::from_context(ctx)?;
            if !ctx.validate_only && !ctx.run.estimate {
                // Settles the convention of new docstrings now (with `auto`,
                // counted over the project) rather than at the first file
                // written, when that file's units are all held: for a big
                // file the count's reading and scanning added a third to
                // the run's peak memory.
                style.for_docstring(None);
            }
            let python = PythonCheck::from_context(ctx)?;
            Ok(BuiltStage::Sink(Box::new(
                PythonWriter::new(style, section.width, ctx.run.write_mode)
                    .with_entries(section.types, &section.placeholder)
                    .with_python(python.with_helpers(ctx.run.jobs))
                    .with_workers(ctx.run.jobs)
                    .with_force(ctx.run.force)
                    .with_run(ctx.run.clone()),
            )))
        },
    )
    .reads(&[RunFlag::Check, RunFlag::Diff, RunFlag::Force]);
}

/// The style and line width of the `[style]` section.
pub fn style_from_context(ctx: &BuildContext<'_>) -> Result<(Arc<dyn Style>, usize), BuildError> {
    let (style, section) = crate::style::from_context(ctx)?;
    Ok((style, section.width))
}

/// A file's units, held until all of them arrived.
struct HeldFile {
    file: Arc<SourceFile>,
    expected: usize,
    units: Vec<Envelope>,
    /// For a file of [`EARLY_RENDER_UNITS`] units or more: each unit's text,
    /// rendered as it arrived (`None`: nothing to write), in `units`' order.
    early: Vec<Option<Written>>,
}

/// From this many units on, a file's units are rendered as they arrive and
/// their drafts dropped, instead of all at once when the file is whole:
/// then the drafts of every unit were held together, for a file of many
/// small functions the largest part of the run's memory. Smaller files are
/// rendered on the blocking threads that write them, in parallel.
pub const EARLY_RENDER_UNITS: usize = 2048;

/// The `python-writer` sink. See the module documentation.
pub struct PythonWriter {
    style: Arc<dyn Style>,
    width: usize,
    /// Which new entries carry a type, and the placeholder marker.
    types: TypesPolicy,
    placeholder: Arc<str>,
    mode: WriteMode,
    held: HashMap<PathBuf, HeldFile>,
    summary: SinkSummary,
    /// Files that would change (check mode) or their diffs (diff mode), by path.
    changes: Vec<(PathBuf, String)>,
    /// The user's Python, asked before each rewrite.
    python: Arc<PythonCheck>,
    /// Write read-only files too.
    force: bool,
    /// The run, whose convention count (`[style] name = "auto"`) goes into
    /// the report.
    run: Option<Arc<RunOptions>>,
    /// Files being rewritten on blocking threads, at most `workers` at once:
    /// rendering, the token check and Python's compile of one file overlap
    /// those of the others, while the sink goes on collecting units.
    writing: tokio::task::JoinSet<FileOutcome>,
    workers: usize,
    /// Files of this many units or more are rendered as their units arrive.
    early_render: usize,
}

impl PythonWriter {
    /// A writer rendering with `style` at `width` columns, in `mode`; it
    /// asks `python3` from PATH (if any) before each rewrite.
    pub fn new(style: Arc<dyn Style>, width: usize, mode: WriteMode) -> PythonWriter {
        PythonWriter {
            style,
            width,
            types: TypesPolicy::Auto,
            placeholder: Arc::from(crate::style::DEFAULT_PLACEHOLDER),
            mode,
            held: HashMap::new(),
            summary: SinkSummary::default(),
            changes: Vec::new(),
            python: Arc::new(PythonCheck::from_path()),
            force: false,
            run: None,
            writing: tokio::task::JoinSet::new(),
            workers: 1,
            early_render: EARLY_RENDER_UNITS,
        }
    }

    /// Rewrites up to `workers` files at once (the run's `-j`).
    pub fn with_workers(mut self, workers: usize) -> PythonWriter {
        self.workers = workers.max(1);
        self
    }

    /// Reports the convention `auto` counted over `run`'s files.
    pub fn with_run(mut self, run: Arc<RunOptions>) -> PythonWriter {
        self.run = Some(run);
        self
    }

    /// Gives new entries types as `types` says; `placeholder` marks text
    /// still to write (a real model's text replaces entries holding it).
    pub fn with_entries(mut self, types: TypesPolicy, placeholder: &str) -> PythonWriter {
        self.types = types;
        self.placeholder = Arc::from(placeholder);
        self
    }

    /// Asks `python` whether files compile before rewriting them.
    pub fn with_python(mut self, python: PythonCheck) -> PythonWriter {
        self.python = Arc::new(python);
        self
    }

    /// Renders the units of a file of `units` units or more as they arrive
    /// (default [`EARLY_RENDER_UNITS`]; the tests compare both ways).
    pub fn with_early_render(mut self, units: usize) -> PythonWriter {
        self.early_render = units;
        self
    }

    /// Writes files whose mode forbids writing by their owner too (`--force`).
    pub fn with_force(mut self, force: bool) -> PythonWriter {
        self.force = force;
        self
    }

    /// Starts rewriting `held` on a blocking thread, then, while `workers`
    /// rewrites are under way, waits for one to end (so that with one
    /// worker a file is written before its last unit's `consume` returns);
    /// returns the units of the rewrites that ended.
    async fn write_file(
        &mut self,
        held: HeldFile,
        ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        let mut released = Vec::new();
        let job = FileJob {
            file: held.file,
            units: held.units,
            early: held.early,
            style: self.style.clone(),
            width: self.width,
            types: self.types,
            placeholder: self.placeholder.clone(),
            mode: self.mode,
            python: self.python.clone(),
            force: self.force,
        };
        self.writing.spawn_blocking(move || job.run());
        while let Some(ended) = self.writing.try_join_next() {
            released.extend(self.record(ended, ctx)?);
        }
        while self.writing.len() >= self.workers {
            released.extend(self.next_written(ctx).await?);
        }
        Ok(released)
    }

    /// Waits for one rewrite in flight to end (none: nothing).
    async fn next_written(&mut self, ctx: &StageContext) -> Result<Vec<Envelope>, StageError> {
        match self.writing.join_next().await {
            Some(ended) => self.record(ended, ctx),
            None => Ok(Vec::new()),
        }
    }

    /// Counts what a rewrite did and hands back its units.
    fn record(
        &mut self,
        ended: Result<FileOutcome, tokio::task::JoinError>,
        ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        let outcome = ended.map_err(|e| {
            StageError::fatal(format!("a file's rewrite stopped unexpectedly: {e}"))
        })?;
        if outcome.written {
            self.summary.files_written += 1;
            tracing::debug!("wrote {}", printable::path(&outcome.path));
        }
        if let Some(finding) = outcome.not_written {
            ctx.diagnostics.push(outcome.path.clone(), finding);
        }
        if let Some(change) = outcome.change {
            self.summary.problems += u64::from(self.mode == WriteMode::Check);
            self.changes.push((outcome.path, change));
        }
        Ok(outcome.released)
    }
}

#[async_trait]
impl Sink for PythonWriter {
    async fn consume(
        &mut self,
        mut env: Envelope,
        ctx: &StageContext,
    ) -> Result<Vec<Envelope>, StageError> {
        // The writer holds every unit of a file until the file is whole (a
        // hundred thousand for a big one), and its units go on only to the
        // run's tally: what the rewrite does not read goes now. That is the
        // notes other stages left in `extra` for plugins on the way, and,
        // for a unit without a docstring of its own (written whole from its
        // draft), the findings and the parsed docstring, which only a
        // completion of a person's docstring reads. The cache key was for
        // `cache-store`, which comes before.
        env.extra = serde_json::Map::new();
        env.cache_key = None;
        if !env.unit.is_documented() {
            env.findings = Vec::new();
            env.existing = None;
        }
        let path = env.file.path.clone();
        let held = self.held.entry(path.clone()).or_insert_with(|| HeldFile {
            file: env.file.clone(),
            expected: env.file_units,
            // Sized once: a big file's units would otherwise be copied
            // at each doubling, and the last doubling holds twice the room.
            units: Vec::with_capacity(env.file_units),
            early: Vec::new(),
        });
        if held.expected >= self.early_render {
            let written = render_one(
                &mut env,
                &held.file,
                self.style.as_ref(),
                self.width,
                self.types,
                &self.placeholder,
            );
            held.early.push(written);
            slim(&mut env.unit);
        }
        held.units.push(env);
        if held.units.len() < held.expected {
            return Ok(Vec::new());
        }
        match self.held.remove(&path) {
            Some(held) => self.write_file(held, ctx).await,
            None => Ok(Vec::new()),
        }
    }

    async fn finish(
        &mut self,
        ctx: &StageContext,
        cancelled: bool,
    ) -> Result<SinkFinish, StageError> {
        let mut held: Vec<HeldFile> = self.held.drain().map(|(_, h)| h).collect();
        held.sort_by(|a, b| a.file.path.cmp(&b.file.path));
        let mut released = Vec::new();
        for file in held {
            if cancelled && file.units.len() < file.expected {
                for mut env in file.units {
                    if !matches!(env.state, UnitState::Failed { .. }) {
                        env.state = UnitState::Cancelled;
                    }
                    released.push(env);
                }
                continue;
            }
            released.extend(self.write_file(file, ctx).await?);
        }
        // Every rewrite started ends, also after an interrupt: whole files only.
        while !self.writing.is_empty() {
            released.extend(self.next_written(ctx).await?);
        }
        self.changes.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(run) = &self.run
            && let Some(counted) = crate::style::auto::counted_for(run)
        {
            ctx.stats.set_conventions(counted);
        }
        match self.mode {
            WriteMode::InPlace => {}
            WriteMode::Diff => console::exclusive(|| {
                let mut out = std::io::stdout().lock();
                for (_, diff) in &self.changes {
                    out.write_all(diff.as_bytes())
                        .map_err(|e| StageError::fatal(format!("cannot print the diff: {e}")))?;
                }
                let _ = out.flush();
                Ok::<(), StageError>(())
            })?,
            WriteMode::Check => console::exclusive(|| {
                let mut err = std::io::stderr().lock();
                for (path, _) in &self.changes {
                    let _ = writeln!(err, "would change: {}", printable::path(path));
                }
            }),
        }
        self.summary.problems += report_skipped(ctx);
        Ok(SinkFinish {
            summary: std::mem::take(&mut self.summary),
            released,
        })
    }
}

/// Prints every file the run did not write, with the reason (files that
/// could not be read, decoded or parsed, and those the writer refused);
/// returns how many of them are errors (they fail the run, `--check` too).
fn report_skipped(ctx: &StageContext) -> u64 {
    let skipped = ctx.diagnostics.snapshot();
    let mut err = std::io::stderr().lock();
    for d in &skipped {
        let f = &d.finding;
        let _ = writeln!(
            err,
            "skipped: {}:{}:{}: {} {}",
            d.path.display(),
            f.line,
            f.column,
            f.code,
            f.message
        );
    }
    skipped
        .iter()
        .filter(|d| d.finding.severity == Severity::Error)
        .count() as u64
}

/// One file's rewrite, run on a blocking thread.
struct FileJob {
    file: Arc<SourceFile>,
    units: Vec<Envelope>,
    early: Vec<Option<Written>>,
    style: Arc<dyn Style>,
    width: usize,
    types: TypesPolicy,
    placeholder: Arc<str>,
    mode: WriteMode,
    python: Arc<PythonCheck>,
    force: bool,
}

/// What happened to one file.
struct FileOutcome {
    path: PathBuf,
    released: Vec<Envelope>,
    written: bool,
    /// In diff or check mode, the diff of a file that would change.
    change: Option<String>,
    /// Why a file with changes to make was not written, for the run's report.
    not_written: Option<Finding>,
}

impl FileJob {
    fn run(self) -> FileOutcome {
        let FileJob {
            file,
            mut units,
            mut early,
            style,
            width,
            types,
            placeholder,
            mode,
            python,
            force,
        } = self;
        let path = file.path.clone();
        let outcome = |units: Vec<Envelope>, written: bool, change: Option<String>| FileOutcome {
            path: path.clone(),
            released: units,
            written,
            change,
            not_written: None,
        };

        let encoding = match Encoding::from_name(&file.encoding) {
            Ok(e) => e,
            Err(e) => {
                fail_drafted(&mut units, &early, &e.to_string());
                return outcome(units, false, None);
            }
        };

        // Render every draft (unless rendered as they arrived); a unit whose
        // text the encoding cannot hold fails alone.
        let mut bodies: Vec<(usize, Written)> = Vec::new();
        for (i, env) in units.iter_mut().enumerate() {
            let written = if early.is_empty() {
                render_one(env, &file, style.as_ref(), width, types, &placeholder)
            } else {
                early.get_mut(i).and_then(Option::take)
            };
            let Some(written) = written else {
                continue;
            };
            if let Some(c) = encoding.unencodable(written.text()) {
                env.fail(format!(
                    "the docstring has `{c}` (U+{:04X}), which the file's encoding `{}` cannot hold; \
                     convert the file to UTF-8 or reword the docstring",
                    c as u32, file.encoding
                ));
                continue;
            }
            bodies.push((i, written));
        }
        drop(early);
        // Nothing to do when the literal is already exactly this one: the
        // unit keeps its docstring (a person's text the analyzer still flags,
        // such as a Returns section on a function that returns nothing).
        let mut unchanged = vec![false; units.len()];
        let same: Vec<usize> = bodies
            .iter()
            .filter(|(i, written)| {
                units[*i].unit.docstring.as_ref().is_some_and(|doc| {
                    let edit = written.edit(&units[*i].unit);
                    insert::splice_for(&file, &edit).is_ok_and(|splice| {
                        file.text.get(doc.span.clone()) == Some(splice.replacement.as_str())
                    })
                })
            })
            .map(|(i, _)| *i)
            .collect();
        for i in same {
            unchanged[i] = true;
            units[i].state = UnitState::Kept;
        }
        let mut edits = Vec::with_capacity(bodies.len());
        let mut edited = Vec::with_capacity(bodies.len());
        for (i, written) in bodies {
            if unchanged[i] {
                continue;
            }
            edits.push(written.into_edit(&units[i].unit));
            edited.push(i);
        }
        if edits.is_empty() {
            return outcome(units, false, None);
        }

        let rewrite = match insert::apply(&file, &mut edits) {
            Ok(r) => r,
            Err(e) => {
                drop(edits);
                fail_indices(
                    &mut units,
                    &edited,
                    &format!("{e}; the file was left untouched"),
                );
                return outcome(units, false, None);
            }
        };
        drop(edits);
        let proof = match tokens::check_rewrite(
            &file.text,
            &rewrite.text,
            &rewrite.replaced,
            &rewrite.written,
            &rewrite.changes,
        ) {
            Ok(proof) => proof,
            Err(e) => {
                let reason = format!(
                    "safety check failed: {e}; the file was left untouched (please report this with the file)"
                );
                fail_indices(&mut units, &edited, &reason);
                return outcome(units, false, None);
            }
        };

        let bytes = match encoding.encode(&rewrite.text, file.bom, &file.encoding) {
            Ok(b) => b,
            Err(e) => {
                fail_indices(
                    &mut units,
                    &edited,
                    &format!("{e}; the file was left untouched"),
                );
                return outcome(units, false, None);
            }
        };
        let gate = Gate {
            file: &file,
            rewritten: &rewrite.text,
            bytes: &bytes,
            python: &python,
            proof,
            force,
        };
        if let Err(refused) = gate.check() {
            return match refused {
                Refused::Skip(finding) => {
                    skip_indices(&mut units, &edited, &finding.message);
                    FileOutcome {
                        not_written: Some(finding),
                        ..outcome(units, false, None)
                    }
                }
                Refused::Fail(reason) => {
                    fail_indices(&mut units, &edited, &reason);
                    outcome(units, false, None)
                }
            };
        }

        match mode {
            WriteMode::InPlace => match preserve::replace(&file.path, &bytes, &file.hash) {
                Ok(method) => {
                    if let preserve::Method::InPlace(reason) = method {
                        tracing::debug!("{}: written in place ({reason:?})", file.path.display());
                    }
                    outcome(units, true, None)
                }
                Err(preserve::WriteError::Changed) => {
                    fail_indices(
                        &mut units,
                        &edited,
                        "file changed since it was read; run docpipe again on the new content",
                    );
                    outcome(units, false, None)
                }
                Err(e) => {
                    let reason = format!(
                        "cannot write {}: {e}; check that the file and its directory are writable",
                        file.path.display()
                    );
                    fail_indices(&mut units, &edited, &reason);
                    outcome(units, false, None)
                }
            },
            WriteMode::Diff | WriteMode::Check => {
                let diff = unified_diff(&file.path, &file.text, &rewrite.text);
                outcome(units, false, Some(diff))
            }
        }
    }
}

/// The checks between a rewrite that is ready and the disk: may the file be
/// written at all, is it still what was read, and (unless the tokens proved
/// the rewrite and `[python] check` is "unproven") does Python compile the
/// new text, and if not, the old.
struct Gate<'a> {
    file: &'a SourceFile,
    rewritten: &'a str,
    bytes: &'a [u8],
    python: &'a PythonCheck,
    /// How the safety check found the rewrite safe.
    proof: tokens::Proof,
    force: bool,
}

/// Why a rewrite stops at the gate.
enum Refused {
    /// The file is not written and its units end skipped: reported, not a failure of docpipe.
    Skip(Finding),
    /// The units fail with this reason.
    Fail(String),
}

impl Gate<'_> {
    fn check(&self) -> Result<(), Refused> {
        let path = &self.file.path;
        if let Err(refusal) = preserve::check_writable(path, self.force) {
            let code = match refusal {
                preserve::Refusal::ReadOnly { .. } => crate::python::codes::READ_ONLY,
                _ => crate::python::codes::NOT_A_PLAIN_FILE,
            };
            return Err(Refused::Skip(file_notice(code, refusal.to_string())));
        }
        let unchanged = preserve::unchanged_since_read(path, &self.file.hash).map_err(|e| {
            Refused::Fail(format!("cannot read the file again before writing: {e}"))
        })?;
        if !unchanged {
            return Err(Refused::Fail(
                "file changed since it was read; run docpipe again on the new content".into(),
            ));
        }
        // Proven by CPython's tokens: Python accepts the new text exactly
        // when it accepts the original, and is asked only when configured
        // to report files it already rejects (`[python] check = "always"`).
        if self.proof == tokens::Proof::Tokens && self.python.ask() == Ask::Unproven {
            return Ok(());
        }
        // The new text first: when Python compiles it, the original (the
        // same tokens but for docstring literals, `tokens` made sure of that)
        // needs no question of its own, and a written file costs one compile.
        // Only a rejected rewrite asks about the original, to tell a file
        // Python already rejects (skipped, reported) from a rewrite that
        // broke it (a docpipe bug).
        let rejected = match self.python.compile(path, self.bytes) {
            Verdict::Accepted => return Ok(()),
            Verdict::Rejected(e) => {
                format!("Python rejects it at line {}: {e}", e.line.unwrap_or(1))
            }
            // docpipe's own checks, on the new text, as the extractor ran them on the old.
            Verdict::Unavailable => match crate::python::rejections::check_text(self.rewritten) {
                None => return Ok(()),
                Some((line, _, message)) => {
                    format!("it would have a syntax error at line {line}: {message}")
                }
            },
        };
        // The bytes on disk are still the original's (checked above); only
        // this rare path reads them whole.
        let original = std::fs::read(path).map_err(|e| {
            Refused::Fail(format!("cannot read the file again before writing: {e}"))
        })?;
        if let Verdict::Rejected(e) = self.python.compile(path, &original) {
            let mut finding = file_notice(
                crate::python::codes::SYNTAX_ERROR,
                format!("syntax error: {e}; the file was not rewritten"),
            );
            finding.line = e.line.unwrap_or(1);
            finding.column = e.column.unwrap_or(1);
            finding.severity = Severity::Error;
            return Err(Refused::Skip(finding));
        }
        Err(Refused::Fail(format!(
            "safety check failed: {rejected}; the file was left untouched (please report this with the file)"
        )))
    }
}

/// A warning-level finding about a whole file, at line 1.
fn file_notice(code: &'static str, message: String) -> Finding {
    Finding {
        code: code.into(),
        message,
        line: 1,
        column: 1,
        fix: None,
        severity: Severity::Warning,
    }
}

/// A unit's docstring as the writer will put it in.
enum Written {
    /// Text for a new literal (a new docstring, or one rendered whole).
    Body(String),
    /// A person's literal completed line by line.
    Literal(String),
}

impl Written {
    fn text(&self) -> &str {
        match self {
            Written::Body(t) | Written::Literal(t) => t,
        }
    }

    /// The edit, with its own text.
    fn into_edit(self, unit: &CodeUnit) -> DocEdit<'_> {
        match self {
            Written::Body(body) => edit_of(unit, Cow::Owned(body), false),
            Written::Literal(literal) => edit_of(unit, Cow::Owned(literal), true),
        }
    }

    /// The edit, borrowing the text.
    fn edit<'u>(&'u self, unit: &'u CodeUnit) -> DocEdit<'u> {
        match self {
            Written::Body(body) => edit_of(unit, Cow::Borrowed(body), false),
            Written::Literal(literal) => edit_of(unit, Cow::Borrowed(literal), true),
        }
    }
}

/// The edit that writes `text` for `unit`: a whole literal, or a body.
fn edit_of<'u>(unit: &'u CodeUnit, text: Cow<'u, str>, literal: bool) -> DocEdit<'u> {
    if literal {
        DocEdit {
            unit,
            body: Cow::Borrowed(""),
            literal: Some(text),
        }
    } else {
        DocEdit {
            unit,
            body: text,
            literal: None,
        }
    }
}

/// The docstring of `env`'s unit with its `draft`: a person's docstring
/// completed in its own convention (line by line where the style can
/// outline it, else rendered whole with their text kept), or a new one in
/// the convention of new docstrings, with the types `types` allows.
fn render_unit(
    env: &Envelope,
    draft: &DocModel,
    file: &SourceFile,
    style: &dyn Style,
    width: usize,
    types: TypesPolicy,
    placeholder: &str,
) -> Result<Written, String> {
    let existing = env
        .unit
        .docstring
        .as_ref()
        .filter(|_| env.unit.is_documented());
    let own = style
        .for_docstring(existing.map(|d| d.value.as_str()))
        .unwrap_or(style);
    let mut draft = types.apply(own.name(), &env.unit, draft);
    if own.name() == "numpy" {
        // numpydoc reads a Returns or Yields entry's first line as its type,
        // which it requires: an unknown one is for a person to write.
        for value in [&mut draft.returns, &mut draft.yields]
            .into_iter()
            .flatten()
        {
            if value.ty.is_none() {
                value.ty = Some(placeholder.to_string());
            }
        }
    }
    let draft = if own.stars_variadic_params() {
        merge::star_variadics(&env.unit, &draft).into_owned()
    } else {
        draft
    };
    let options = RenderOptions {
        width,
        indent: body_indent(&env.unit).to_string(),
    };
    if let (Some(parsed), Some(written)) = (&env.existing, existing) {
        let completion = complete::Completion {
            file,
            unit: &env.unit,
            style: own,
            draft: &draft,
            findings: &env.findings,
            options: &options,
            types,
            placeholder,
        };
        if let Some(literal) = complete::complete(&completion) {
            return Ok(Written::Literal(literal));
        }
        // A style that outlines the docstring completes it line by line or
        // not at all: rendering it anew would rewrite the author's text. Only
        // a one-quote literal (`"Doc."`), which cannot take more lines, is
        // written anew as `"""`, its text kept.
        if own.outline(&written.value).is_some() && written.quote.as_str().len() == 3 {
            return Err(format!(
                "the docstring of `{}` cannot be completed line by line without rewriting what its \
                 author wrote (a backslash continuation or an escape where a line must be added \
                 or removed); complete it by hand",
                env.unit.display_name()
            ));
        }
        let rendered =
            merge::render_merged(own, &env.unit, &written.value, parsed, &draft, &options);
        return Ok(Written::Body(escape::normalize_body(&rendered)));
    }
    Ok(Written::Body(escape::normalize_body(
        &own.render(&draft, &options),
    )))
}

/// The indentation of a unit's docstring lines: the existing docstring's,
/// or the body's for a new docstring or one on the `def` line.
pub fn body_indent(unit: &CodeUnit) -> &str {
    match (&unit.docstring, &unit.insertion.inline_body) {
        (Some(d), None) => &d.indent,
        _ => &unit.insertion.indent,
    }
}

/// Whether the writer should write this unit's draft: it has one and has not
/// already ended failed or skipped.
fn wants_write(env: &Envelope) -> bool {
    env.draft.is_some()
        && !matches!(
            env.state,
            UnitState::Failed { .. } | UnitState::Skipped { .. }
        )
}

/// The text to write for `env`'s unit, from its draft (which goes: nothing
/// after reads it), or `None` when there is nothing to write; a unit whose
/// docstring cannot be written fails here.
fn render_one(
    env: &mut Envelope,
    file: &SourceFile,
    style: &dyn Style,
    width: usize,
    types: TypesPolicy,
    placeholder: &str,
) -> Option<Written> {
    if !wants_write(env) {
        return None;
    }
    let draft = env.draft.take()?;
    // Only where the docstring would be completed line by line (a
    // style that outlines it); otherwise it is written anew.
    if env.unit.is_documented()
        && env.unit.docstring.as_ref().is_some_and(|d| {
            style
                .for_docstring(Some(&d.value))
                .unwrap_or(style)
                .outline(&d.value)
                .is_some()
        })
        && let Some(reason) = complete::escaped_break(file, &env.unit)
    {
        env.fail(reason);
        return None;
    }
    match render_unit(env, &draft, file, style, width, types, placeholder) {
        Ok(w) => Some(w),
        Err(reason) => {
            env.fail(reason);
            None
        }
    }
}

/// Lets go of what the rest of a file's rewrite does not read of a unit
/// rendered on arrival (its parameters, source, signature, raises and
/// context), keeping its name, place and docstring: a big file's units are
/// held until the file is written, and those parts were most of their
/// weight. Nothing else holds the unit by then (the run's ledger keeps its
/// name), so this frees them; a unit shared after all is left whole.
fn slim(unit: &mut Arc<CodeUnit>) {
    if let Some(u) = Arc::get_mut(unit) {
        u.params = Vec::new();
        u.source = Default::default();
        u.signature = String::new();
        u.context = String::new();
        u.raises = Vec::new();
        u.raise_messages = Vec::new();
        u.decorators = Vec::new();
        u.returns = None;
        u.class_name = None;
        u.constructor = None;
    }
}

/// Fails every unit with a docstring to write: a draft, or a text rendered
/// as it arrived (`early`, empty or one per unit).
fn fail_drafted(units: &mut [Envelope], early: &[Option<Written>], reason: &str) {
    for (i, env) in units.iter_mut().enumerate() {
        if !(wants_write(env) || early.get(i).is_some_and(Option::is_some)) {
            continue;
        }
        env.fail(reason);
    }
}

fn fail_indices(units: &mut [Envelope], indices: &[usize], reason: &str) {
    for &i in indices {
        units[i].fail(reason);
    }
}

fn skip_indices(units: &mut [Envelope], indices: &[usize], reason: &str) {
    for &i in indices {
        units[i].skip(reason);
    }
}

/// A unified diff of `old` and `new` with `a/` and `b/` headers.
pub fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    // Shown as people read it: a newline in a file name would end the header.
    let shown = printable::path(path);
    let shown = if cfg!(windows) {
        shown.replace('\\', "/")
    } else {
        shown.into_owned()
    };
    let shown = shown.trim_start_matches("./").trim_start_matches('/');
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}
