//! What a docstring gets wrong about its definition, item by item: the one
//! decision that `check` words as findings ([`super::check_doc`]) and that
//! the writer repairs, so that what `generate` fixes is what `check` reports.

use docpipe_core::model::{CodeUnit, DocModel, Param, ParamKind, UnitKind};

use super::{is_stub, types};
use crate::python::signature::{
    annotated_return, needs_returns, params_allowed, params_to_document,
};

/// A documented type that contradicts the annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistyped {
    /// The entry's name as documented (empty for a return or yield value).
    pub name: String,
    /// The type the docstring gives.
    pub documented: String,
    /// The annotation, as written.
    pub annotation: String,
}

/// What the docstring of a unit gets wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict<'u> {
    /// Parameters to document that it does not (DOC101).
    pub missing_params: Vec<&'u Param>,
    /// Entries, by the name written, of parameters the signature does not have (DOC102).
    pub extra_params: Vec<String>,
    /// Entries whose type contradicts the annotation (DOC105).
    pub mistyped_params: Vec<Mistyped>,
    /// It returns a value the docstring does not document (DOC201).
    pub missing_returns: bool,
    /// It documents a return value the function never gives (DOC202).
    pub extra_returns: bool,
    /// Its return type contradicts the annotation (DOC203).
    pub mistyped_returns: Option<Mistyped>,
    /// It yields values the docstring does not document (DOC402).
    pub missing_yields: bool,
    /// It documents yields, but the function is not a generator (DOC403).
    pub extra_yields: bool,
    /// Its yield type contradicts the annotation (DOC404).
    pub mistyped_yields: Option<Mistyped>,
    /// Exceptions raised and not documented, as raised (DOC501).
    pub missing_raises: Vec<String>,
    /// Exceptions documented and never raised, as documented (DOC502).
    pub extra_raises: Vec<String>,
}

impl Verdict<'_> {
    /// Whether the docstring gets nothing wrong.
    pub fn is_clean(&self) -> bool {
        *self == Verdict::default()
    }
}

/// What `doc`, the docstring of `unit`, gets wrong. Properties need no
/// Returns section when `ignore_property_returns` says so.
pub fn verdict<'u>(
    unit: &'u CodeUnit,
    doc: &DocModel,
    ignore_property_returns: bool,
) -> Verdict<'u> {
    let mut v = Verdict::default();
    params(unit, doc, &mut v);
    if matches!(unit.kind, UnitKind::Function | UnitKind::Method) {
        returns(unit, doc, ignore_property_returns, &mut v);
        yields(unit, doc, &mut v);
        raises(unit, doc, &mut v);
    }
    v
}

fn params<'u>(unit: &'u CodeUnit, doc: &DocModel, v: &mut Verdict<'u>) {
    v.missing_params = params_to_document(unit)
        .iter()
        .filter(|p| doc.param(&p.name).is_none())
        .collect();
    let Some(allowed) = params_allowed(unit) else {
        return;
    };
    let on_class = unit.kind == UnitKind::Class;
    // With `**kwargs` in the signature, other documented names may be the
    // keywords it accepts (as ruff's DOC102 reads them).
    let takes_keywords = allowed.iter().any(|p| p.kind == ParamKind::VarKeyword);
    for entry in &doc.params {
        let bare = entry.name.trim_start_matches('*');
        // The bound parameter is in the signature: documenting it is unusual, not wrong.
        let in_signature = allowed
            .iter()
            .chain(unit.params.first().filter(|_| !on_class))
            .find(|p| p.name == bare);
        let Some(param) = in_signature else {
            if !takes_keywords {
                v.extra_params.push(entry.name.clone());
            }
            continue;
        };
        if let (Some(documented), Some(annotation)) = (&entry.ty, &param.annotation)
            && types::contradicts(documented, annotation)
        {
            v.mistyped_params.push(Mistyped {
                name: entry.name.clone(),
                documented: documented.clone(),
                annotation: annotation.clone(),
            });
        }
    }
}

fn returns(unit: &CodeUnit, doc: &DocModel, ignore_property_returns: bool, v: &mut Verdict<'_>) {
    let is_property = unit.has_decorator("property") || unit.has_decorator("cached_property");
    let is_abstract = unit.has_decorator("abstractmethod");
    v.missing_returns = needs_returns(unit)
        && doc.returns.is_none()
        && !(is_property && ignore_property_returns)
        && !unit.is_init();
    // `Returns: None` says truthfully that nothing comes back.
    let documents_none = doc.returns.as_ref().is_some_and(|r| match r.ty.as_deref() {
        Some(ty) => ty.trim() == "None",
        None => matches!(r.description.trim(), "None" | "None."),
    });
    v.extra_returns = doc.returns.is_some()
        && !documents_none
        && !unit.returns_value
        && !unit.returns_none
        && !unit.yields
        && annotated_return(unit) != Some(true)
        && !is_abstract
        && !is_property
        && !is_stub(unit);
    if !unit.yields
        && let Some(documented) = doc.returns.as_ref().and_then(|r| r.ty.as_deref())
        && let Some(annotation) = unit.returns.as_deref()
        && types::contradicts(documented, annotation)
    {
        v.mistyped_returns = Some(Mistyped {
            name: String::new(),
            documented: documented.to_string(),
            annotation: annotation.to_string(),
        });
    }
}

fn yields(unit: &CodeUnit, doc: &DocModel, v: &mut Verdict<'_>) {
    let is_abstract = unit.has_decorator("abstractmethod");
    let yielded = unit.returns.as_deref().and_then(types::yielded_type);
    v.missing_yields = unit.yields && doc.yields.is_none();
    // An iterator annotation may be met by returning a generator.
    v.extra_yields =
        doc.yields.is_some() && !unit.yields && yielded.is_none() && !is_abstract && !is_stub(unit);
    if let Some(documented) = doc.yields.as_ref().and_then(|y| y.ty.as_deref())
        && let Some(annotation) = &yielded
        && types::contradicts(documented, annotation)
    {
        v.mistyped_yields = Some(Mistyped {
            name: String::new(),
            documented: documented.to_string(),
            annotation: annotation.clone(),
        });
    }
}

fn raises(unit: &CodeUnit, doc: &DocModel, v: &mut Verdict<'_>) {
    let last = |e: &str| e.rsplit('.').next().unwrap_or(e).to_string();
    for exc in &unit.raises {
        let short = last(exc);
        let looks_like_class = short.chars().next().is_some_and(char::is_uppercase);
        if !looks_like_class || short == "NotImplementedError" {
            continue;
        }
        let documented = doc
            .raises
            .iter()
            .any(|r| r.exception == *exc || last(&r.exception) == short);
        if !documented {
            v.missing_raises.push(exc.clone());
        }
    }
    let unknowable = unit.reraises || unit.has_decorator("abstractmethod") || is_stub(unit);
    if unknowable {
        return;
    }
    for r in &doc.raises {
        let short = last(&r.exception);
        if !unit.raises.iter().any(|e| last(e) == short) {
            v.extra_raises.push(r.exception.clone());
        }
    }
}
