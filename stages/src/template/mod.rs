//! The `template` model: the offline default backend. It ignores the prompt
//! and builds each docstring from the unit's structure: a summary derived from
//! the name, every parameter with its annotation, the return value, the
//! yielded values and the exceptions the extractor found. Deterministic, no
//! network, no cost.

mod words;

use std::sync::Arc;

use async_trait::async_trait;
use docpipe_core::chat::{ChatRequest, ChatResponse, FinishReason, Model, ModelError};
use docpipe_core::model::{CodeUnit, DocModel, DocParam, DocRaise, DocReturn, ParamKind, UnitKind};
use docpipe_core::registry::Registry;
use serde_json::{Value, json};

use crate::python::signature::params_to_document;

pub use words::{split_words, summary_for};

/// Name of the provider in `[model] provider`.
pub const PROVIDER: &str = "template";

pub(crate) fn register(registry: &mut Registry) {
    registry.add_model(PROVIDER, |_ctx| {
        Ok(Arc::new(TemplateModel) as Arc<dyn Model>)
    });
}

/// The offline template backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct TemplateModel;

#[async_trait]
impl Model for TemplateModel {
    fn id(&self) -> String {
        PROVIDER.to_string()
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, ModelError> {
        let docstrings: Vec<Value> = request
            .units
            .iter()
            .map(|unit| reply_entry(&unit.qualname, &document(unit)))
            .collect();
        let content = serde_json::to_string(&json!({ "docstrings": docstrings })).map_err(|e| {
            ModelError::Other(format!("template model: cannot serialize its reply: {e}"))
        })?;
        Ok(ChatResponse {
            content: Some(content),
            tool_arguments: None,
            finish_reason: FinishReason::Stop,
            usage: Default::default(),
            retries: 0,
        })
    }
}

/// One entry of the reply in the shape of [`crate::reply::schema`]: every key
/// present, absent values as `null`.
fn reply_entry(qualname: &str, doc: &DocModel) -> Value {
    let value = |r: &Option<DocReturn>| match r {
        Some(r) => json!({ "ty": r.ty, "description": r.description }),
        None => Value::Null,
    };
    json!({
        "qualname": qualname,
        "summary": doc.summary,
        "description": doc.description,
        "params": doc.params.iter().map(|p| json!({
            "name": p.name, "ty": p.ty, "description": p.description,
        })).collect::<Vec<_>>(),
        "returns": value(&doc.returns),
        "yields": value(&doc.yields),
        "raises": doc.raises.iter().map(|r| json!({
            "exception": r.exception, "description": r.description,
        })).collect::<Vec<_>>(),
        "examples": doc.examples,
        "notes": doc.notes,
    })
}

/// The docstring the template writes for `unit`.
pub fn document(unit: &CodeUnit) -> DocModel {
    let params = params_to_document(unit).iter().map(param_doc).collect();
    let is_def = matches!(unit.kind, UnitKind::Function | UnitKind::Method);
    let yields = (is_def && unit.yields).then(|| DocReturn {
        ty: unit.returns.as_deref().map(|a| yielded_type(&unquote(a))),
        description: "The next value.".to_string(),
    });
    let returns = (is_def && crate::generate::prompt::wants_returns(unit)).then(|| DocReturn {
        ty: if unit.yields {
            None
        } else {
            unit.returns.as_deref().map(unquote)
        },
        description: return_description(unit),
    });
    let raises = if is_def {
        unit.raises
            .iter()
            // `raise err` names a variable, not an exception class.
            .filter(|e| {
                e.rsplit('.')
                    .next()
                    .and_then(|l| l.chars().next())
                    .is_some_and(char::is_uppercase)
            })
            .map(|e| DocRaise {
                exception: e.clone(),
                description: raise_description(e),
            })
            .collect()
    } else {
        Vec::new()
    };
    DocModel {
        summary: summary_for(unit),
        params,
        returns,
        yields,
        raises,
        ..DocModel::default()
    }
}

fn return_description(unit: &CodeUnit) -> String {
    let words = split_words(&unit.name);
    match words.first().map(String::as_str) {
        Some("is" | "has" | "can" | "should") => "True if so, False otherwise.".to_string(),
        _ => "The result.".to_string(),
    }
}

/// The element type of a generator annotation (`Iterator[int]` -> `int`);
/// the annotation itself when it is not one of the generator types.
fn yielded_type(annotation: &str) -> String {
    let a = annotation.trim();
    let Some(open) = a.find('[') else {
        return a.to_string();
    };
    let head = a[..open].rsplit('.').next().unwrap_or("");
    let generator = matches!(
        head,
        "Iterator"
            | "Iterable"
            | "Generator"
            | "AsyncIterator"
            | "AsyncIterable"
            | "AsyncGenerator"
    );
    if !generator || !a.ends_with(']') {
        return a.to_string();
    }
    let inner = &a[open + 1..a.len() - 1];
    first_type_argument(inner).trim().to_string()
}

/// The first comma-separated argument of `inner`, brackets respected.
fn first_type_argument(inner: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in inner.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return &inner[..i],
            _ => {}
        }
    }
    inner
}

fn param_doc(param: &docpipe_core::model::Param) -> DocParam {
    let description = match param.kind {
        ParamKind::VarPositional => "Additional positional arguments.".to_string(),
        ParamKind::VarKeyword => "Additional keyword arguments.".to_string(),
        _ => {
            let words = split_words(&param.name).join(" ");
            let mut d = if words.is_empty() {
                "The value.".to_string()
            } else {
                format!("The {words}.")
            };
            if let Some(default) = param.default.as_deref().map(str::trim)
                && !default.is_empty()
                && default.len() <= 40
                && !default.contains(['\n', '\r', '`'])
            {
                d.push_str(&format!(" Defaults to `{default}`."));
            }
            d
        }
    };
    DocParam {
        name: param.name.clone(),
        ty: param.annotation.as_deref().map(unquote),
        description,
        section: None,
    }
}

/// A type from its annotation: a forward reference `"User"` reads `User`.
fn unquote(annotation: &str) -> String {
    let a = annotation.trim();
    for q in ["\"", "'"] {
        if a.len() >= 2 && a.starts_with(q) && a.ends_with(q) && !a[1..a.len() - 1].contains(q) {
            return a[1..a.len() - 1].trim().to_string();
        }
    }
    a.to_string()
}

fn raise_description(exception: &str) -> String {
    let last = exception.rsplit('.').next().unwrap_or(exception);
    let known = match last {
        "ValueError" => "If a value is invalid.",
        "TypeError" => "If an argument has the wrong type.",
        "KeyError" => "If a key is missing.",
        "IndexError" => "If an index is out of range.",
        "AttributeError" => "If an attribute is missing.",
        "NotImplementedError" => "If the operation is not implemented.",
        "FileNotFoundError" => "If a file does not exist.",
        "PermissionError" => "If access is denied.",
        "OSError" | "IOError" | "EnvironmentError" => "If an operating system call fails.",
        "TimeoutError" => "If the operation times out.",
        "RuntimeError" => "If the operation cannot complete.",
        "StopIteration" => "When there are no more items.",
        "AssertionError" => "If an internal check fails.",
        "ImportError" | "ModuleNotFoundError" => "If a module cannot be imported.",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let words = split_words(last).join(" ");
    if words.is_empty() {
        return "If the operation fails.".to_string();
    }
    let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("If {article} {words} occurs.")
}
