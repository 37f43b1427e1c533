//! The `docstring-analyze` stage: parses each unit's docstring with the
//! configured style and checks it against the code, with stable finding
//! codes ([`rules`]). Complete units leave on `complete` (state kept),
//! incomplete ones on `incomplete` (still pending, for a generator).
//!
//! Units left out by an `ignore_*` option go to `complete` without findings
//! and carry `extra["analyze"] = {"ignored": "<option>"}` so that a report
//! can count coverage after the ignores next to the raw totals.

pub mod rules;
mod settings;

use std::sync::Arc;

use async_trait::async_trait;
use docpipe_core::executor::Emitter;
use docpipe_core::model::{
    CodeUnit, DocModel, Finding, Item, ItemKind, ParamKind, UnitKind, UnitState,
};
use docpipe_core::registry::{DefaultConcurrency, PortDoc, Registry, StageRole, StageSpec};
use docpipe_core::stage::{BuiltStage, StageContext, StageError, Transform};
use docpipe_core::style::Style;

use rules::{
    ExtraneousParameter, ExtraneousReturns, ExtraneousYields, MissingReturns, MissingSummary,
    MissingYields, Rule, UndocumentedClass, UndocumentedException, UndocumentedFunction,
    UndocumentedModule, UndocumentedParameter,
};
pub use settings::AnalyzeSettings;

/// Key of the analyzer's entry in [`Envelope::extra`](docpipe_core::model::Envelope::extra).
pub const EXTRA_KEY: &str = "analyze";

pub(crate) fn register(registry: &mut Registry) {
    registry.add_stage::<AnalyzeSettings, _>(
        StageSpec {
            type_name: "docstring-analyze",
            role: StageRole::Transform,
            summary: "Parses docstrings with the configured style and checks them against the code (DOC1xx-DOC5xx)",
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
            let (style, _) = crate::style::from_context(ctx)?;
            Ok(BuiltStage::Transform(Arc::new(DocstringAnalyze::new(style, settings))))
        },
    );
}

/// The `docstring-analyze` stage.
pub struct DocstringAnalyze {
    style: Arc<dyn Style>,
    settings: AnalyzeSettings,
}

impl DocstringAnalyze {
    /// An analyzer parsing with `style`.
    pub fn new(style: Arc<dyn Style>, settings: AnalyzeSettings) -> DocstringAnalyze {
        DocstringAnalyze { style, settings }
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
        let unit = env.unit.clone();
        if let Some(ds) = &unit.docstring {
            env.existing = Some(self.style.parse(&ds.value));
        }
        if let Some(option) = self.settings.ignored(&unit) {
            env.extra
                .insert(EXTRA_KEY.into(), serde_json::json!({ "ignored": option }));
            env.state = UnitState::Kept;
            return out.emit("complete", Item::Unit(env)).await;
        }
        let findings = check_doc(&unit, env.existing.as_ref(), &self.settings);
        if findings.is_empty() {
            env.state = UnitState::Kept;
            out.emit("complete", Item::Unit(env)).await
        } else {
            env.findings.extend(findings);
            out.emit("incomplete", Item::Unit(env)).await
        }
    }
}

/// Whether the body of `unit` is only a placeholder for subclasses to fill:
/// `pass`, `...` or `raise NotImplementedError` after the docstring (comments
/// aside). Such a stub documents the return value of the overriding methods,
/// so a Returns section is not extraneous there (as ruff and pydoclint treat
/// abstract stubs).
fn is_stub(unit: &CodeUnit) -> bool {
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

/// Findings about `doc` as the docstring of `unit` (`None`: it has none),
/// limited to the codes `settings` enables. The `ignore_*` options are not
/// applied here: a caller validating a generated docstring wants every finding.
pub fn check_doc(
    unit: &CodeUnit,
    doc: Option<&DocModel>,
    settings: &AnalyzeSettings,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = unit.display_str();
    let mut push = |f: Finding| {
        if settings.enabled(&f.code) {
            findings.push(f);
        }
    };
    let Some(doc) = doc else {
        let (line, column) = (unit.line, unit.column);
        push(match unit.kind {
            UnitKind::Module => {
                UndocumentedModule::finding(format!("module `{name}` has no docstring"), 1, 1)
            }
            UnitKind::Class => {
                UndocumentedClass::finding(format!("class `{name}` has no docstring"), line, column)
            }
            UnitKind::Function => UndocumentedFunction::finding(
                format!("function `{name}` has no docstring"),
                line,
                column,
            ),
            UnitKind::Method => UndocumentedFunction::finding(
                format!("method `{name}` has no docstring"),
                line,
                column,
            ),
        });
        return findings;
    };
    // Findings about the docstring's content point at the docstring.
    let (line, column) = match &unit.docstring {
        Some(d) => (d.line, d.indent.chars().count() + 1),
        None => (unit.line, unit.column),
    };
    if doc.summary.trim().is_empty() {
        push(MissingSummary::finding(
            format!("docstring of `{name}` has no summary line"),
            line,
            column,
        ));
    }
    if !matches!(unit.kind, UnitKind::Function | UnitKind::Method) {
        return findings;
    }
    let documented = |p: &str| doc.param(p).is_some();
    let is_static = unit.has_decorator("staticmethod");
    for (i, p) in unit.params.iter().enumerate() {
        let implicit = p.name == "self"
            || p.name == "cls"
            || (i == 0 && unit.kind == UnitKind::Method && !is_static);
        if implicit || unit.name == "__init__" || documented(&p.name) {
            continue;
        }
        let shown = match p.kind {
            ParamKind::VarPositional => format!("*{}", p.name),
            ParamKind::VarKeyword => format!("**{}", p.name),
            _ => p.name.clone(),
        };
        push(UndocumentedParameter::finding(
            format!("parameter `{shown}` of `{name}` is not documented"),
            line,
            column,
        ));
    }
    for dp in &doc.params {
        let bare = dp.name.trim_start_matches('*');
        if !unit.params.iter().any(|p| p.name == bare) {
            push(ExtraneousParameter::finding(
                format!(
                    "documented parameter `{}` is not a parameter of `{name}`",
                    dp.name
                ),
                line,
                column,
            ));
        }
    }
    let is_property = unit.has_decorator("property") || unit.has_decorator("cached_property");
    let is_abstract = unit.has_decorator("abstractmethod");
    if unit.returns_value
        && doc.returns.is_none()
        && !(is_property && settings.ignore_property_returns)
        && unit.name != "__init__"
    {
        push(MissingReturns::finding(
            format!("the return value of `{name}` is not documented"),
            line,
            column,
        ));
    }
    let annotated_value = unit.returns.as_deref().is_some_and(|r| r.trim() != "None");
    if doc.returns.is_some()
        && !unit.returns_value
        && !unit.yields
        && !annotated_value
        && !is_abstract
        && !is_property
        && !is_stub(unit)
    {
        push(ExtraneousReturns::finding(
            format!("docstring of `{name}` documents a return value, but it returns nothing"),
            line,
            column,
        ));
    }
    if unit.yields && doc.yields.is_none() {
        push(MissingYields::finding(
            format!("the values `{name}` yields are not documented"),
            line,
            column,
        ));
    }
    if doc.yields.is_some() && !unit.yields && !annotated_value && !is_abstract {
        push(ExtraneousYields::finding(
            format!("docstring of `{name}` documents yields, but it is not a generator"),
            line,
            column,
        ));
    }
    for exc in &unit.raises {
        let last = exc.rsplit('.').next().unwrap_or(exc);
        let looks_like_class = last.chars().next().is_some_and(char::is_uppercase);
        if !looks_like_class || last == "NotImplementedError" {
            continue;
        }
        let documented = doc
            .raises
            .iter()
            .any(|r| r.exception == *exc || r.exception.rsplit('.').next() == Some(last));
        if !documented {
            push(UndocumentedException::finding(
                format!("exception `{exc}` raised by `{name}` is not documented"),
                line,
                column,
            ));
        }
    }
    findings
}
