//! The `docstring-analyze` stage: parses each unit's docstring with the
//! configured style and checks it against the code, with stable finding
//! codes ([`rules`]). Complete units leave on `complete` (state kept),
//! incomplete ones on `incomplete` (still pending, for a generator).
//!
//! Units left out by an `ignore_*` option go to `complete` without findings
//! and carry `extra["analyze"] = {"ignored": "<option>"}` so that a report
//! can count coverage after the ignores next to the raw totals.

mod locate;
mod noqa;
pub mod rules;
mod settings;
pub mod types;
mod verdict;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{
    CodeUnit, DocModel, Finding, Item, ItemKind, ParamKind, ParamsHolder, SourceFile, UnitKind,
    UnitState,
};
use docpipe_core::registry::{DefaultConcurrency, PortDoc, Registry, StageRole, StageSpec};
use docpipe_core::stage::{BuiltStage, RunFlag, StageContext, StageError, Transform};
use docpipe_core::style::Style;

use locate::{DocLocator, RETURNS_FIELDS, RETURNS_TITLES, YIELDS_FIELDS, YIELDS_TITLES};
use rules::{
    ExtraneousException, ExtraneousParameter, ExtraneousReturns, ExtraneousYields, MissingReturns,
    MissingSummary, MissingYields, ParameterTypeMismatch, Placeholder, ReturnTypeMismatch, Rule,
    UndocumentedClass, UndocumentedException, UndocumentedFunction, UndocumentedModule,
    UndocumentedParameter, UnusedIgnore, YieldTypeMismatch,
};
pub use settings::{AnalyzeSettings, InitParams};
pub use verdict::{Mistyped, Verdict, verdict};

/// Key of the analyzer's entry in [`Envelope::extra`](docpipe_core::model::Envelope::extra).
pub const EXTRA_KEY: &str = "analyze";

pub(crate) fn register(registry: &mut Registry) {
    registry.add_stage::<AnalyzeSettings, _>(
        StageSpec {
            type_name: "docstring-analyze",
            role: StageRole::Transform,
            summary: "Parses docstrings with the configured style and checks them against the code (DOC1xx-DOC5xx as pydoclint, DP1xx)",
            input: Some(ItemKind::Unit),
            ports: vec![
                PortDoc {
                    name: "complete",
                    kind: ItemKind::Unit,
                    doc: "units whose docstring is complete, or that an ignore option leaves out (state kept)",
                },
                PortDoc {
                    name: "incomplete",
                    kind: ItemKind::Unit,
                    doc: "units with findings: a missing or incomplete docstring",
                },
            ],
            default_concurrency: DefaultConcurrency::Jobs,
            sections: vec!["style"],
        },
        |settings, ctx| {
            let (style, section) = crate::style::from_context(ctx)?;
            settings.validate()?;
            let settings = AnalyzeSettings {
                init_params: section.init_params,
                placeholder: section.placeholder.clone(),
                warn_unused_ignores: ctx.run.warn_unused_ignores,
                ..settings
            };
            Ok(BuiltStage::Transform(Arc::new(DocstringAnalyze::new(style, settings))))
        },
    )
    .reads(&[RunFlag::WarnUnusedIgnores]);
}

/// What `extra["analyze"]["ignored"]` says of a unit of a file that
/// `# docpipe: ignore-file` leaves out.
pub const IGNORE_FILE_REASON: &str = "# docpipe: ignore-file";

/// The `docstring-analyze` stage.
pub struct DocstringAnalyze {
    style: Arc<dyn Style>,
    settings: AnalyzeSettings,
    /// Whether each file (by content hash) holds `# docpipe: ignore-file`:
    /// asked once per file, not once per unit.
    ignored_files: Mutex<HashMap<String, bool>>,
}

impl DocstringAnalyze {
    /// An analyzer parsing with `style`.
    pub fn new(style: Arc<dyn Style>, settings: AnalyzeSettings) -> DocstringAnalyze {
        DocstringAnalyze {
            style,
            settings,
            ignored_files: Mutex::new(HashMap::new()),
        }
    }

    fn file_ignored(&self, file: &SourceFile) -> bool {
        let mut known = self.ignored_files.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&ignored) = known.get(&file.hash) {
            return ignored;
        }
        let ignored = noqa::ignores_file(&file.text);
        known.insert(file.hash.clone(), ignored);
        ignored
    }
}

#[async_trait]
impl Transform for DocstringAnalyze {
    async fn process(
        &self,
        item: Item,
        ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let Item::Unit(mut env) = item else {
            return Err(StageError::fatal(format!(
                "stage `{}` (docstring-analyze) received a file; connect it to `python-extract`",
                ctx.name
            )));
        };
        if env.unit.constructor.is_some() {
            settle_constructor(
                Arc::make_mut(&mut env.unit),
                &self.settings,
                self.style.as_ref(),
            );
        }
        if self.file_ignored(&env.file) {
            env.extra.insert(
                EXTRA_KEY.into(),
                serde_json::json!({ "ignored": IGNORE_FILE_REASON }),
            );
            keep(&mut env.state);
            return out.emit("complete", Item::Unit(env)).await;
        }
        let analysis = analyze(&env.unit, self.style.as_ref(), &self.settings);
        env.existing = analysis.existing.map(Box::new);
        if let Some(option) = analysis.ignored {
            env.extra
                .insert(EXTRA_KEY.into(), serde_json::json!({ "ignored": option }));
            keep(&mut env.state);
            return out.emit("complete", Item::Unit(env)).await;
        }
        // An unused ignore is reported, but the docstring needs no change for it.
        let complete = analysis
            .findings
            .iter()
            .all(|f| f.code == UnusedIgnore::CODE);
        absorb(&mut env.findings, analysis.findings);
        if complete {
            keep(&mut env.state);
            out.emit("complete", Item::Unit(env)).await
        } else {
            out.emit("incomplete", Item::Unit(env)).await
        }
    }
}

/// Adds a unit's new findings to those it came with (a plugin's, usually
/// none). The vector is taken whole when there were none, and cut to its
/// length: a unit's one or two findings would otherwise sit in room for four
/// (96 bytes each), on every unit of a big file held by the stages after.
fn absorb(findings: &mut Vec<Finding>, mut new: Vec<Finding>) {
    if findings.is_empty() {
        new.shrink_to_fit();
        *findings = new;
    } else {
        findings.extend(new);
    }
}

/// A complete unit is kept, unless a stage before the analyzer (a plugin)
/// already ended it failed or skipped: that verdict must reach the sink.
fn keep(state: &mut UnitState) {
    if *state == UnitState::Pending {
        *state = UnitState::Kept;
    }
}

/// What the analyzer makes of one unit.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The unit's docstring parsed, when it has one with text.
    pub existing: Option<DocModel>,
    /// The `ignore_*` option that leaves the unit out, if one does (then
    /// there are no findings).
    pub ignored: Option<&'static str>,
    /// What is missing or wrong.
    pub findings: Vec<Finding>,
}

/// Analyzes `unit` as the stage does: parses its docstring with `style`
/// (an empty docstring counts as none), applies the `ignore_*` options,
/// checks the rest with [`check_doc`] and drops the findings that a `# noqa`
/// comment on the unit's header or docstring suppresses. A class or `__init__` should have its
/// constructor settled first ([`settle_constructor`]).
pub fn analyze(unit: &CodeUnit, style: &dyn Style, settings: &AnalyzeSettings) -> Analysis {
    let existing = unit
        .docstring
        .as_ref()
        .filter(|_| unit.is_documented())
        .map(|d| style.parse(&d.value));
    if let Some(option) = settings.ignored(unit) {
        return Analysis {
            existing,
            ignored: Some(option),
            findings: Vec::new(),
        };
    }
    let mut findings = check_doc(unit, existing.as_ref(), settings);
    let check_unused = settings.enabled(UnusedIgnore::CODE);
    if !findings.is_empty() || check_unused {
        let noqa = noqa::Noqa::of(unit);
        if !noqa.is_empty() {
            let unused = if check_unused {
                noqa.unused(&findings)
            } else {
                Vec::new()
            };
            findings.retain(|f| !noqa.suppresses(f));
            let name = unit.display_str();
            for comment in unused {
                findings.push(UnusedIgnore::finding(
                    format!("`{comment}` on `{name}` suppresses nothing"),
                    unit.line,
                    unit.column,
                ));
            }
        }
    }
    Analysis {
        existing,
        ignored: None,
        findings,
    }
}

/// Records on `unit` (a class with its own `__init__`, or that `__init__`)
/// where its constructor's parameters are documented ([`settle_holder`]), for
/// [`check_doc`] and for the generators downstream. Other units are left as
/// they are.
pub fn settle_constructor(unit: &mut CodeUnit, settings: &AnalyzeSettings, style: &dyn Style) {
    if unit.constructor.is_none() {
        return;
    }
    let holder = settle_holder(unit, settings.init_params, settings.ignore_init, style);
    if let Some(c) = unit.constructor.as_mut() {
        c.documented_on = Some(holder);
    }
}

/// Where the parameters of the constructor of `unit` (a class with its own
/// `__init__`, or that `__init__`) are documented, by `[style] init_params`:
/// `class` and `init` say where; `either` takes the class docstring when it
/// has parameter entries and `__init__`'s has none, and `__init__`
/// otherwise. With `ignore_init`, which leaves `__init__` out, the class
/// documents them (unless `init_params = "init"`).
///
/// Both units of a class decide the same from the same two docstrings, so
/// the class and its `__init__` never disagree.
pub fn settle_holder(
    unit: &CodeUnit,
    mode: InitParams,
    ignore_init: bool,
    style: &dyn Style,
) -> ParamsHolder {
    let Some(c) = &unit.constructor else {
        return ParamsHolder::Init;
    };
    match mode {
        InitParams::Class => ParamsHolder::Class,
        InitParams::Init => ParamsHolder::Init,
        InitParams::Either if ignore_init => ParamsHolder::Class,
        InitParams::Either => {
            let holds = |doc: &Option<String>| {
                doc.as_deref()
                    .is_some_and(|v| !style.parse(v).params.is_empty())
            };
            if holds(&c.class_doc) && !holds(&c.init_doc) {
                ParamsHolder::Class
            } else {
                ParamsHolder::Init
            }
        }
    }
}

/// Whether the body of `unit` is only a placeholder for subclasses to fill:
/// `pass`, `...` or `raise NotImplementedError` after the docstring (comments
/// aside). Such a stub documents the return value of the overriding methods,
/// so a Returns section is not extraneous there (as ruff and pydoclint treat
/// abstract stubs).
pub(crate) fn is_stub(unit: &CodeUnit) -> bool {
    let Some(ds) = &unit.docstring else {
        return false;
    };
    let Some(body) = ds
        .span
        .end
        .checked_sub(unit.span.start)
        .and_then(|start| unit.source.get(start..))
    else {
        return false;
    };
    let statements: Vec<&str> = body
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    match statements.as_slice() {
        [only] => {
            let only = only.trim_end_matches(';').trim();
            only == "pass"
                || only == "..."
                || only == "raise NotImplementedError"
                || (only.starts_with("raise NotImplementedError(") && only.ends_with(')'))
        }
        _ => false,
    }
}

/// Findings about `doc` as the docstring of `unit` (`None`: it has none, or
/// an empty one), limited to the codes `settings` enables. The `ignore_*`
/// options are not applied here: a caller validating a generated docstring
/// wants every finding.
///
/// Findings about one entry or section point at its line in the unit's
/// docstring; the others at the docstring's first line (or the definition).
pub fn check_doc(
    unit: &CodeUnit,
    doc: Option<&DocModel>,
    settings: &AnalyzeSettings,
) -> Vec<Finding> {
    let mut out = Findings {
        settings,
        list: Vec::new(),
    };
    let Some(doc) = doc else {
        missing_docstring(unit, &mut out);
        return out.list;
    };
    let at = DocLocator::new(unit);
    let name = unit.display_str();
    if doc.summary.trim().is_empty() {
        out.push::<MissingSummary>(
            || format!("docstring of `{name}` has no summary line"),
            at.start(),
        );
    }
    check_placeholder(unit, doc, &at, &mut out);
    let v = verdict(unit, doc, settings.ignore_property_returns);
    check_params(&v, unit, &at, &mut out);
    check_returns(&v, unit, &at, &mut out);
    check_yields(&v, unit, &at, &mut out);
    check_raises(&v, unit, &at, &mut out);
    out.list
}

/// Findings of the rules `settings` enables.
struct Findings<'s> {
    settings: &'s AnalyzeSettings,
    list: Vec<Finding>,
}

impl Findings<'_> {
    /// A finding of rule `R` at `(line, column)`, when `R` is enabled; the
    /// message is only built then.
    fn push<R: Rule>(&mut self, message: impl FnOnce() -> String, (line, column): (usize, usize)) {
        if self.settings.enabled(R::CODE) {
            self.list.push(R::finding(message(), line, column));
        }
    }
}

fn missing_docstring(unit: &CodeUnit, out: &mut Findings<'_>) {
    let name = unit.display_str();
    let what = if unit.docstring.is_some() {
        "an empty docstring"
    } else {
        "no docstring"
    };
    let at = (unit.line, unit.column);
    match unit.kind {
        UnitKind::Module => {
            out.push::<UndocumentedModule>(|| format!("module `{name}` has {what}"), (1, 1))
        }
        UnitKind::Class => {
            out.push::<UndocumentedClass>(|| format!("class `{name}` has {what}"), at)
        }
        UnitKind::Function => {
            out.push::<UndocumentedFunction>(|| format!("function `{name}` has {what}"), at)
        }
        UnitKind::Method => {
            out.push::<UndocumentedFunction>(|| format!("method `{name}` has {what}"), at)
        }
    }
}

/// Parameters missing from the docstring, documented but not in the
/// signature, or documented with a type the annotation contradicts.
/// The parts of `doc` that still hold the placeholder.
fn check_placeholder(unit: &CodeUnit, doc: &DocModel, at: &DocLocator<'_>, out: &mut Findings<'_>) {
    let marker = out.settings.placeholder.as_str();
    let holds = |text: &str| crate::writer::complete::holds_marker(text, marker);
    let mut parts: Vec<String> = Vec::new();
    if holds(&doc.summary) {
        parts.push("the summary".into());
    }
    if holds(&doc.description) {
        parts.push("the description".into());
    }
    let mut first_param = None;
    for p in &doc.params {
        if holds(&p.description) || p.ty.as_deref().is_some_and(holds) {
            first_param.get_or_insert(p.name.trim_start_matches('*').to_string());
            parts.push(format!("parameter `{}`", p.name));
        }
    }
    for (title, value) in [("Returns", &doc.returns), ("Yields", &doc.yields)] {
        if value
            .as_ref()
            .is_some_and(|v| holds(&v.description) || v.ty.as_deref().is_some_and(holds))
        {
            parts.push(title.into());
        }
    }
    for r in &doc.raises {
        if holds(&r.description) {
            parts.push(format!("exception `{}`", r.exception));
        }
    }
    if parts.is_empty() {
        return;
    }
    let name = unit.display_str();
    let listed = match parts.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    };
    let position = match (&first_param, parts.first().map(String::as_str)) {
        (_, Some("the summary" | "the description")) | (None, _) => at.start(),
        (Some(p), _) => at.param(p),
    };
    out.push::<Placeholder>(
        || format!("docstring of `{name}` still holds the placeholder `{marker}` in {listed}"),
        position,
    );
}

fn check_params(v: &Verdict<'_>, unit: &CodeUnit, at: &DocLocator<'_>, out: &mut Findings<'_>) {
    let name = unit.display_str();
    let on_class = unit.kind == UnitKind::Class;
    for p in &v.missing_params {
        let shown = starred(&p.name, p.kind);
        out.push::<UndocumentedParameter>(
            || {
                if on_class {
                    format!("parameter `{shown}` of `{name}.__init__` is not documented in the class docstring")
                } else {
                    format!("parameter `{shown}` of `{name}` is not documented")
                }
            },
            at.start(),
        );
    }
    let target = if on_class {
        format!("{name}.__init__")
    } else {
        name.to_string()
    };
    for entry in &v.extra_params {
        out.push::<ExtraneousParameter>(
            || format!("documented parameter `{entry}` is not a parameter of `{target}`"),
            at.param(entry.trim_start_matches('*')),
        );
    }
    for m in &v.mistyped_params {
        out.push::<ParameterTypeMismatch>(
            || {
                format!(
                    "parameter `{}` of `{target}` is documented as `{}` but annotated `{}`",
                    m.name,
                    m.documented,
                    one_line(&m.annotation)
                )
            },
            at.param(m.name.trim_start_matches('*')),
        );
    }
}

fn check_returns(v: &Verdict<'_>, unit: &CodeUnit, at: &DocLocator<'_>, out: &mut Findings<'_>) {
    let name = unit.display_str();
    let section = || at.section(&RETURNS_TITLES, &RETURNS_FIELDS);
    if v.missing_returns {
        out.push::<MissingReturns>(
            || format!("the return value of `{name}` is not documented"),
            at.start(),
        );
    }
    if v.extra_returns {
        out.push::<ExtraneousReturns>(
            || format!("docstring of `{name}` documents a return value, but it returns nothing"),
            section(),
        );
    }
    if let Some(m) = &v.mistyped_returns {
        out.push::<ReturnTypeMismatch>(
            || {
                format!(
                    "the return value of `{name}` is documented as `{}` but annotated `{}`",
                    m.documented,
                    one_line(&m.annotation)
                )
            },
            section(),
        );
    }
}

fn check_yields(v: &Verdict<'_>, unit: &CodeUnit, at: &DocLocator<'_>, out: &mut Findings<'_>) {
    let name = unit.display_str();
    let section = || at.section(&YIELDS_TITLES, &YIELDS_FIELDS);
    if v.missing_yields {
        out.push::<MissingYields>(
            || format!("the values `{name}` yields are not documented"),
            at.start(),
        );
    }
    if v.extra_yields {
        out.push::<ExtraneousYields>(
            || format!("docstring of `{name}` documents yields, but it is not a generator"),
            section(),
        );
    }
    if let Some(m) = &v.mistyped_yields {
        out.push::<YieldTypeMismatch>(
            || {
                format!(
                    "the values `{name}` yields are documented as `{}` but annotated `{}`",
                    m.documented, m.annotation
                )
            },
            section(),
        );
    }
}

fn check_raises(v: &Verdict<'_>, unit: &CodeUnit, at: &DocLocator<'_>, out: &mut Findings<'_>) {
    let name = unit.display_str();
    for exc in &v.missing_raises {
        out.push::<UndocumentedException>(
            || format!("exception `{exc}` raised by `{name}` is not documented"),
            at.start(),
        );
    }
    for exc in &v.extra_raises {
        out.push::<ExtraneousException>(
            || format!("exception `{exc}` is documented, but `{name}` does not raise it"),
            at.exception(exc),
        );
    }
}

/// `*args` / `**kwargs` as written in the signature.
fn starred(name: &str, kind: ParamKind) -> String {
    match kind {
        ParamKind::VarPositional => format!("*{name}"),
        ParamKind::VarKeyword => format!("**{name}"),
        _ => name.to_string(),
    }
}

/// An annotation on one line, whitespace collapsed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
