//! The JSON a model answers with: one docstring per requested unit. The
//! template model produces it too, so every backend goes through the same
//! parsing and validation.
//!
//! [`schema`] is the JSON schema of [`Reply`] in the subset that OpenAI's
//! strict structured output accepts: every property required, no additional
//! properties, optional values written as `null`. The same schema validates
//! replies with `jsonschema` before they become [`DocModel`]s.

use std::sync::OnceLock;

use docpipe_core::model::DocModel;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Name of the schema, as sent in `response_format.json_schema.name` and as
/// the tool's function name.
pub const SCHEMA_NAME: &str = "docstrings";

/// Version of [`schema`]; part of the prompt version (and so of cache keys).
pub const SCHEMA_VERSION: &str = "reply-v1";

/// A model's answer for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reply {
    /// One entry per unit of the request.
    pub docstrings: Vec<ReplyDoc>,
}

/// The docstring for one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReplyDoc {
    /// Qualified name of the unit it documents (as in the prompt).
    pub qualname: String,
    /// The docstring.
    #[serde(flatten)]
    pub doc: DocModel,
}

/// One entry of a reply in the schema's own shape (every key present,
/// `null` for what is absent): what the cache stores for a unit, so that a
/// cached docstring is validated exactly as a model's answer is.
pub fn entry_value(qualname: &str, doc: &DocModel) -> Value {
    let value = |v: &Option<docpipe_core::model::DocReturn>| match v {
        Some(r) => json!({"ty": r.ty, "description": r.description}),
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

/// The JSON schema of [`Reply`] (strict-mode compatible).
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = json!({"type": "string"});
        let nullable_text = json!({"type": ["string", "null"]});
        let value = json!({
            "type": ["object", "null"],
            "additionalProperties": false,
            "required": ["ty", "description"],
            "properties": {
                "ty": nullable_text,
                "description": text,
            }
        });
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["docstrings"],
            "properties": {
                "docstrings": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/doc"}
                }
            },
            "$defs": {
                "doc": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": [
                        "qualname", "summary", "description", "params", "returns",
                        "yields", "raises", "examples", "notes"
                    ],
                    "properties": {
                        "qualname": text,
                        "summary": text,
                        "description": text,
                        "params": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["name", "ty", "description"],
                                "properties": {
                                    "name": text,
                                    "ty": nullable_text,
                                    "description": text,
                                }
                            }
                        },
                        "returns": value,
                        "yields": value,
                        "raises": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["exception", "description"],
                                "properties": {
                                    "exception": text,
                                    "description": text,
                                }
                            }
                        },
                        "examples": text,
                        "notes": text,
                    }
                }
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_reply_validates_and_round_trips() {
        let reply = json!({"docstrings": [{
            "qualname": "f", "summary": "Add.", "description": "",
            "params": [{"name": "x", "ty": null, "description": "A value."}],
            "returns": {"ty": "int", "description": "The sum."}, "yields": null,
            "raises": [], "examples": "", "notes": ""
        }]});
        let validator = jsonschema::validator_for(schema()).expect("the schema compiles");
        assert!(validator.is_valid(&reply));
        let parsed: Reply = serde_json::from_value(reply).expect("the reply deserializes");
        assert_eq!(parsed.docstrings[0].doc.params[0].name, "x");
        assert_eq!(parsed.docstrings[0].doc.yields, None);
    }

    #[test]
    fn extra_or_missing_keys_are_rejected() {
        let validator = jsonschema::validator_for(schema()).expect("the schema compiles");
        assert!(!validator.is_valid(&json!({"docstrings": [{"qualname": "f"}]})));
        assert!(!validator.is_valid(&json!({"docstrings": [], "extra": 1})));
    }
}
