//! Reading a model's answer: the JSON from the tool call, the content or a
//! fenced block; validation against [`crate::reply::schema`] with
//! `jsonschema`; the [`DocModel`] it describes; and the check of that model
//! against the unit's signature. The `reply-parse` stage finalises units
//! with it (see [`super`] for how retries stay inside the generator).

use std::sync::OnceLock;

use async_trait::async_trait;
use docpipe_core::chat::{ChatResponse, FinishReason};
use docpipe_core::executor::Emitter;
use docpipe_core::model::{CodeUnit, DocModel, Item, UnitState};
use docpipe_core::stage::{StageContext, StageError, Transform};
use jsonschema::Validator;
use serde_json::Value;

use crate::analyze::{AnalyzeSettings, check_doc};
use crate::reply::{Reply, ReplyDoc, schema};

/// Key of `Envelope::extra` holding the model's answer (a [`ChatResponse`])
/// between `llm-generate` and `reply-parse`.
pub const REPLY_KEY: &str = "llm_reply";

fn validator() -> Result<&'static Validator, String> {
    static VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            jsonschema::validator_for(schema())
                .map_err(|e| format!("the reply schema does not compile: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The JSON of an answer: the tool call's arguments, else the content as
/// JSON, else the first fenced ```json block of the content, else the text
/// from its first `{` to its last `}`.
pub fn extract_json(response: &ChatResponse) -> Result<Value, String> {
    if response.finish_reason == FinishReason::Length {
        return Err(
            "the reply was cut off at the completion token limit (finish_reason `length`)".into(),
        );
    }
    if response.finish_reason == FinishReason::ContentFilter {
        return Err("the provider's content filter stopped the reply".into());
    }
    if let Some(args) = &response.tool_arguments {
        return serde_json::from_str(args)
            .map_err(|e| format!("the tool call's arguments are not valid JSON: {e}"));
    }
    let Some(content) = response
        .content
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    else {
        return Err("the reply is empty".into());
    };
    let first_error = match serde_json::from_str::<Value>(content) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if let Some(block) = fenced_block(content)
        && let Ok(v) = serde_json::from_str::<Value>(block)
    {
        return Ok(v);
    }
    if let (Some(start), Some(end)) = (content.find('{'), content.rfind('}'))
        && start < end
        && let Ok(v) = serde_json::from_str::<Value>(&content[start..=end])
    {
        return Ok(v);
    }
    Err(format!("the reply is not valid JSON ({first_error})"))
}

/// The body of the first ```json (or bare ```) fenced block.
fn fenced_block(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let body_start = after.find('\n')? + 1;
    let body = &after[body_start..];
    let end = body.find("```")?;
    Some(body[..end].trim())
}

/// `value` checked against the schema: every violation with its instance path.
pub fn validate_reply(value: &Value) -> Result<Reply, String> {
    let validator = validator()?;
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(8)
        .map(|e| {
            let path = e.instance_path().to_string();
            format!(
                "at `{}`: {e}",
                if path.is_empty() { "/" } else { path.as_str() }
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "the reply does not follow the schema: {}",
            errors.join("; ")
        ));
    }
    serde_json::from_value(value.clone())
        .map_err(|e| format!("the reply does not follow the schema: {e}"))
}

/// The entries of an answer, validated against the schema.
pub fn reply_entries(response: &ChatResponse) -> Result<Vec<ReplyDoc>, String> {
    extract_json(response)
        .and_then(|v| validate_reply(&v))
        .map(|r| r.docstrings)
}

/// For each of `units`, the index of its entry in `entries`: by `qualname`,
/// else by the last name component, else by position when the counts agree
/// (an answer for a single unit is taken whatever name it gives).
pub fn match_entries(entries: &[ReplyDoc], units: &[&CodeUnit]) -> Vec<Option<usize>> {
    let mut taken = vec![false; entries.len()];
    let mut out = Vec::with_capacity(units.len());
    for (i, unit) in units.iter().enumerate() {
        let wanted = unit.display_name();
        let free = |j: &usize| !taken[*j];
        let found = (0..entries.len())
            .filter(free)
            .find(|&j| entries[j].qualname == wanted)
            .or_else(|| {
                (0..entries.len())
                    .filter(free)
                    .find(|&j| entries[j].qualname.rsplit('.').next() == Some(unit.name.as_str()))
            })
            .or_else(|| (units.len() == entries.len() && !taken[i]).then_some(i));
        if let Some(j) = found {
            taken[j] = true;
        }
        out.push(found);
    }
    out
}

/// The docstring of one unit from an entry, checked against its signature.
pub fn entry_doc(unit: &CodeUnit, entry: Option<&ReplyDoc>) -> Result<DocModel, String> {
    let Some(entry) = entry else {
        return Err(format!(
            "the reply has no docstring for `{}`",
            unit.display_name()
        ));
    };
    let problems = check(unit, &entry.doc);
    if problems.is_empty() {
        Ok(entry.doc.clone())
    } else {
        Err(problems.join("; "))
    }
}

/// The docstring of each of `units` in `response` with the index of the
/// entry it came from, or why there is none.
pub fn interpret(
    response: &ChatResponse,
    units: &[&CodeUnit],
) -> Vec<Result<(usize, DocModel), String>> {
    let entries = match reply_entries(response) {
        Ok(e) => e,
        Err(e) => return units.iter().map(|_| Err(e.clone())).collect(),
    };
    match_entries(&entries, units)
        .into_iter()
        .zip(units)
        .map(|(j, unit)| {
            let doc = entry_doc(unit, j.and_then(|j| entries.get(j)))?;
            Ok((j.unwrap_or(0), doc))
        })
        .collect()
}

/// What is wrong with `doc` as the docstring of `unit`, by the analyzer's
/// rules (parameters missing or unknown, `Returns`/`Yields` missing or
/// extraneous, undocumented exceptions, no summary): the same rules that sent
/// the unit to the generator, so an accepted answer passes `check` later.
pub fn signature_problems(unit: &CodeUnit, doc: &DocModel) -> Vec<String> {
    static SETTINGS: OnceLock<AnalyzeSettings> = OnceLock::new();
    // The placeholder a template writes is for people to replace, not a
    // reason to refuse the answer.
    let settings = SETTINGS.get_or_init(|| AnalyzeSettings {
        ignore: vec!["DP120".into()],
        ..AnalyzeSettings::default()
    });
    check_doc(unit, Some(doc), settings)
        .into_iter()
        .map(|f| format!("{} {}", f.code, f.message))
        .collect()
}

fn check(unit: &CodeUnit, doc: &DocModel) -> Vec<String> {
    let mut problems = structure_problems(doc);
    problems.extend(signature_problems(unit, doc));
    problems
}

/// Free text of `doc` that a convention would read back as structure: a
/// section header (`Args:` over indented lines, a title over dashes) or a
/// field (`:param x:`) inside a summary or a description would become a
/// section of the written docstring, so the answer is refused.
pub fn structure_problems(doc: &DocModel) -> Vec<String> {
    use docpipe_core::style::Style;
    let styles: [&dyn Style; 3] = [
        &crate::style::GoogleStyle,
        &crate::style::NumpyStyle,
        &crate::style::SphinxStyle,
    ];
    let mut texts: Vec<(String, &str)> = vec![
        ("the summary".into(), doc.summary.as_str()),
        ("the description".into(), doc.description.as_str()),
    ];
    for p in &doc.params {
        texts.push((format!("the description of `{}`", p.name), &p.description));
    }
    if let Some(r) = &doc.returns {
        texts.push(("the Returns description".into(), &r.description));
    }
    if let Some(y) = &doc.yields {
        texts.push(("the Yields description".into(), &y.description));
    }
    for r in &doc.raises {
        texts.push((
            format!("the description of `{}`", r.exception),
            &r.description,
        ));
    }
    let mut problems = Vec::new();
    if doc.summary.contains('\n') {
        problems.push("the summary must be one line".to_string());
    }
    for (what, text) in texts {
        // As the text would stand in a docstring: after a summary line.
        let as_written = format!("S.\n\n{text}");
        if let Some(style) = styles.iter().find(|s| s.recognizes(&as_written)) {
            problems.push(format!(
                "{what} contains a {} section header or field, which would be read back as a section; write it as plain text",
                style.name()
            ));
        }
    }
    problems
}

/// What `llm-generate` attaches to a unit under [`REPLY_KEY`]: the whole
/// answer of its request and which entry documents this unit.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AttachedReply {
    /// The model's answer as received.
    pub response: ChatResponse,
    /// Index of the unit's entry in `docstrings`; `None`: match by name.
    #[serde(default)]
    pub entry: Option<usize>,
}

/// The draft of `unit` from what the generator attached.
pub fn finalise(unit: &CodeUnit, attached: &AttachedReply) -> Result<DocModel, String> {
    let entries = reply_entries(&attached.response)?;
    let index = attached
        .entry
        .or_else(|| match_entries(&entries, &[unit]).pop().flatten());
    entry_doc(unit, index.and_then(|j| entries.get(j)))
}

/// The `reply-parse` stage: turns the answer `llm-generate` attached to a unit
/// into its draft. A unit that arrives failed or skipped goes on as it is.
#[derive(Debug, Default)]
pub struct ReplyParseStage;

#[async_trait]
impl Transform for ReplyParseStage {
    async fn process(
        &self,
        item: Item,
        _ctx: &StageContext,
        out: &Emitter,
    ) -> Result<(), StageError> {
        let Item::Unit(mut env) = item else {
            return Err(StageError::fatal(
                "reply-parse takes units; its input must be a generator stage such as `llm-generate`",
            ));
        };
        let reply = env.extra.remove(REPLY_KEY);
        if env.state == UnitState::Pending {
            match reply.map(serde_json::from_value::<AttachedReply>) {
                None => env.fail(format!(
                    "reply-parse: no model answer for `{}`; put `llm-generate` before `reply-parse`",
                    env.unit.display_name()
                )),
                Some(Err(e)) => env.fail(format!("reply-parse: the attached answer is unreadable: {e}")),
                Some(Ok(attached)) => match finalise(&env.unit, &attached) {
                    Ok(doc) => {
                        env.draft = Some(Box::new(doc));
                        env.state = UnitState::Generated;
                    }
                    Err(reason) => env.fail(format!("invalid model answer: {reason}")),
                },
            }
        }
        out.send(Item::Unit(env)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(content: &str) -> ChatResponse {
        ChatResponse {
            content: Some(content.into()),
            ..ChatResponse::default()
        }
    }

    #[test]
    fn json_is_found_in_content_fences_and_prose() {
        let plain = r#"{"docstrings": []}"#;
        assert!(extract_json(&response(plain)).is_ok());
        let fenced = "Here you go:\n```json\n{\"docstrings\": []}\n```\nDone.";
        assert!(extract_json(&response(fenced)).is_ok());
        let prose = "Sure! {\"docstrings\": []} Hope it helps.";
        assert!(extract_json(&response(prose)).is_ok());
        assert!(extract_json(&response("no json here")).is_err());
        let mut cut = response(plain);
        cut.finish_reason = FinishReason::Length;
        assert!(extract_json(&cut).unwrap_err().contains("cut off"));
    }

    fn reply_for(qualname: &str, params: &[&str]) -> ReplyDoc {
        ReplyDoc {
            qualname: qualname.into(),
            doc: DocModel {
                summary: "Build it.".into(),
                params: params
                    .iter()
                    .map(|n| docpipe_core::model::DocParam {
                        name: (*n).into(),
                        description: "A value.".into(),
                        ..Default::default()
                    })
                    .collect(),
                ..DocModel::default()
            },
        }
    }

    #[test]
    fn a_constructor_docstring_missing_a_parameter_is_rejected_where_the_setting_puts_them() {
        use docpipe_core::model::{ParamsHolder, SourceFile};
        let file = SourceFile::from_text(
            "m.py",
            "class A:\n    def __init__(self, a, b):\n        pass\n",
        );
        let mut units = crate::python::extract(&file).expect("the source parses");
        let (class, init) = (units[1].clone(), units[2].clone());
        // Documented on `__init__` (the default when nothing holds them).
        let err = entry_doc(&init, Some(&reply_for("A.__init__", &["a"]))).unwrap_err();
        assert!(err.contains("DOC101") && err.contains("`b`"), "{err}");
        assert!(entry_doc(&init, Some(&reply_for("A.__init__", &["a", "b"]))).is_ok());
        assert!(entry_doc(&class, Some(&reply_for("A", &[]))).is_ok());
        // Documented on the class.
        for unit in &mut units[1..] {
            if let Some(c) = unit.constructor.as_mut() {
                c.documented_on = Some(ParamsHolder::Class);
            }
        }
        let (class, init) = (&units[1], &units[2]);
        let err = entry_doc(class, Some(&reply_for("A", &["b"]))).unwrap_err();
        assert!(err.contains("DOC101") && err.contains("`a`"), "{err}");
        assert!(entry_doc(class, Some(&reply_for("A", &["a", "b"]))).is_ok());
        assert!(entry_doc(init, Some(&reply_for("A.__init__", &[]))).is_ok());
        // A name the constructor does not take is wrong on either docstring.
        let err = entry_doc(init, Some(&reply_for("A.__init__", &["c"]))).unwrap_err();
        assert!(err.contains("DOC102"), "{err}");
    }

    #[test]
    fn text_that_reads_back_as_a_section_is_refused() {
        let mut reply = reply_for("f", &["x"]);
        reply.doc.params[0].description = "A value.\nArgs:\n    injected: yes".into();
        let problems = structure_problems(&reply.doc);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`x`") && p.contains("google")),
            "{problems:?}"
        );
        reply.doc.params[0].description = "A value.".into();
        reply.doc.description = "See below.\n\n:param y: sneaky".into();
        assert!(structure_problems(&reply.doc)[0].contains("sphinx"));
        reply.doc.description = "Parameters\n----------\nz : int".into();
        assert!(structure_problems(&reply.doc)[0].contains("numpy"));
        reply.doc.description = "Plain words: nothing more.".into();
        assert!(structure_problems(&reply.doc).is_empty());
    }

    #[test]
    fn schema_errors_name_the_instance_path() {
        let bad = serde_json::json!({"docstrings": [{"qualname": "f", "summary": 3}]});
        let err = validate_reply(&bad).unwrap_err();
        assert!(err.contains("/docstrings/0"), "{err}");
    }
}
