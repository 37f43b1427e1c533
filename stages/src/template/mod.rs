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
    registry.add_model(PROVIDER, |ctx| {
        let (_, section) = crate::style::from_context(ctx)?;
        Ok(Arc::new(TemplateModel {
            placeholder: section.placeholder,
        }) as Arc<dyn Model>)
    });
}

/// The offline template backend: skeletons for people to fill in, and a
/// model for running pipelines offline. See the module documentation.
#[derive(Debug, Clone)]
pub struct TemplateModel {
    /// The word that marks what a person must write (`[style] placeholder`).
    pub placeholder: String,
}

impl Default for TemplateModel {
    fn default() -> Self {
        TemplateModel {
            placeholder: crate::style::DEFAULT_PLACEHOLDER.into(),
        }
    }
}

#[async_trait]
impl Model for TemplateModel {
    fn id(&self) -> String {
        PROVIDER.to_string()
    }

    fn reads_prompt(&self) -> bool {
        false
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, ModelError> {
        let docstrings: Vec<Value> = request
            .units
            .iter()
            .map(|unit| {
                crate::reply::entry_value(&unit.qualname, &document_with(unit, &self.placeholder))
            })
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

/// The docstring the template writes for `unit`, with the default placeholder.
pub fn document(unit: &CodeUnit) -> DocModel {
    document_with(unit, crate::style::DEFAULT_PLACEHOLDER)
}

/// The docstring the template writes for `unit`: a skeleton. Everything the
/// code says is written (the parameters to document, their types and
/// defaults, whether there is a return value or yielded values and their
/// types, the exceptions raised and the messages they are raised with);
/// everything only a person can say is `placeholder` (`TODO.`), and the
/// summary, guessed from the name, is marked too.
pub fn document_with(unit: &CodeUnit, placeholder: &str) -> DocModel {
    let todo = format!("{placeholder}.");
    let params = params_to_document(unit)
        .iter()
        .map(|p| param_doc(p, &todo))
        .collect();
    let is_def = matches!(unit.kind, UnitKind::Function | UnitKind::Method);
    let yields = (is_def && unit.yields).then(|| DocReturn {
        ty: unit
            .returns
            .as_deref()
            .map(|a| yielded_type(&one_line_annotation(a))),
        description: todo.clone(),
    });
    let returns = (is_def && crate::generate::prompt::wants_returns(unit)).then(|| DocReturn {
        ty: if unit.yields {
            None
        } else {
            unit.returns.as_deref().map(one_line_annotation)
        },
        description: todo.clone(),
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
                description: unit
                    .raise_messages
                    .iter()
                    .find(|m| m.exception == *e)
                    .map_or_else(|| todo.clone(), |m| sentence(&m.message)),
            })
            .collect()
    } else {
        Vec::new()
    };
    DocModel {
        summary: format!("{placeholder}: {}", summary_for(unit)),
        params,
        returns,
        yields,
        raises,
        ..DocModel::default()
    }
}

/// A raise's message as a sentence: one line, ending in a period. Its
/// first letter stays as written (it may name a parameter).
fn sentence(message: &str) -> String {
    let mut out: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
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

fn param_doc(param: &docpipe_core::model::Param, todo: &str) -> DocParam {
    let mut description = todo.to_string();
    if !matches!(param.kind, ParamKind::VarPositional | ParamKind::VarKeyword)
        && let Some(default) = param.default.as_deref().map(collapse)
        && !default.is_empty()
        && default.len() <= 40
        && !default.contains('`')
    {
        // A literal in reStructuredText is in double backticks (single ones
        // are interpreted text).
        description.push_str(&format!(" Defaults to ``{default}``."));
    }
    DocParam {
        name: param.name.clone(),
        ty: param.annotation.as_deref().map(one_line_annotation),
        description,
        section: None,
    }
}

/// An annotation (or a default) as one line, as `ast.unparse` prints it:
/// comments dropped, whitespace collapsed, no space inside brackets, one
/// after each comma, around `|`. A string annotation (`"User"`) reads as what
/// it names when that parses back (balanced brackets); otherwise it keeps its
/// quotes, so that the rendered entry still parses back to it.
pub fn one_line_annotation(annotation: &str) -> String {
    let mut flat = collapse(annotation);
    // `'x' 'y'` is one string literal, `'xy'`.
    if let Some(joined) = concatenated_strings(&flat) {
        flat = joined;
    }
    for q in ['"', '\''] {
        if flat.len() >= 2 && flat.starts_with(q) && flat.ends_with(q) {
            let inner = &flat[1..flat.len() - 1];
            // Unquoted when what it holds reads as a type (`'Node'`, not
            // `'a: b'` or `'Node[T'`).
            if !inner.contains(q)
                && balanced(inner)
                && crate::style::google::looks_like_type(&spaced(inner))
            {
                return spaced(inner);
            }
        }
    }
    flat
}

/// Whether the brackets of `text` open and close in order.
fn balanced(text: &str) -> bool {
    let mut stack = Vec::new();
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(open) {
                    return false;
                }
            }
            _ => {}
        }
    }
    stack.is_empty()
}

/// Source text on one line: comments outside strings dropped, whitespace
/// runs made one space, then spaced as `ast.unparse` spaces it.
/// Two or more string literals side by side (`'x' "y"`, no prefixes, no
/// escapes) as the one literal Python makes of them.
fn concatenated_strings(flat: &str) -> Option<String> {
    let mut rest = flat.trim();
    let mut parts = Vec::new();
    while !rest.is_empty() {
        let q = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
        let end = rest[1..].find(q)? + 1;
        let inner = &rest[1..end];
        if inner.contains(['\\', '\'', '"']) {
            return None;
        }
        parts.push(inner);
        rest = rest[end + 1..].trim_start();
    }
    (parts.len() > 1).then(|| format!("'{}'", parts.concat()))
}

fn collapse(text: &str) -> String {
    spaced(&decomment(text))
}

/// `text` with comments outside strings dropped and every whitespace run
/// (line breaks, a backslash continuation) made one space.
fn decomment(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                plain.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        plain.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    plain.push(c);
                }
                '#' => {
                    while chars.peek().is_some_and(|&n| n != '\n' && n != '\r') {
                        chars.next();
                    }
                }
                // A backslash continuation is whitespace.
                '\\' if chars.peek().is_some_and(|&n| n == '\n' || n == '\r') => plain.push(' '),
                c if c.is_whitespace() => plain.push(' '),
                c => plain.push(c),
            },
        }
    }
    plain
}

/// One-line source text spaced as `ast.unparse` spaces it: whitespace runs
/// made one space, none inside brackets or before a comma, one after a
/// comma and around `|`; string literals as they are.
fn spaced(plain: &str) -> String {
    let words: Vec<&str> = plain.split_whitespace().collect();
    let joined = words.join(" ");
    let mut out = String::with_capacity(joined.len());
    let mut quote: Option<char> = None;
    let chars: Vec<char> = joined.chars().collect();
    // The commas of each open bracket: a trailing comma goes (as
    // `ast.unparse` drops it) unless it makes a one-element tuple.
    let mut commas: Vec<usize> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '(' | '[' | '{' => {
                commas.push(0);
                out.push(c);
            }
            ')' | ']' | '}' => {
                let n = commas.pop().unwrap_or(0);
                if n > 1 && out.ends_with(',') {
                    out.pop();
                }
                out.push(c);
            }
            ' ' => {
                let prev = out.chars().last();
                let next = chars.get(i + 1).copied();
                let drop = matches!(prev, Some('(' | '[' | '{'))
                    || matches!(next, Some(')' | ']' | '}' | ','));
                if !drop {
                    out.push(' ');
                }
            }
            ',' => {
                if let Some(n) = commas.last_mut() {
                    *n += 1;
                }
                out.push(',');
                let next = chars.get(i + 1).copied();
                if !matches!(next, Some(' ' | ')' | ']' | '}') | None) {
                    out.push(' ');
                }
            }
            '|' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push('|');
                if chars.get(i + 1).is_some_and(|&n| n != ' ') {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out.trim().to_string()
}
