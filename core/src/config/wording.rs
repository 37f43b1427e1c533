//! serde's words for a value that does not fit (`invalid type: string "88",
//! expected usize`) put in a user's words (`a whole number, 0 or more`; found
//! `the string "88"`), and the names serde lists (`expected one of `a`, `b``).

/// What serde read from a deserialization message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Complaint {
    /// `unknown field `K`, expected ...`.
    UnknownKey {
        /// The key.
        key: String,
        /// The keys serde offers, when it names them.
        known: Vec<String>,
    },
    /// `missing field `K``.
    MissingKey(String),
    /// `unknown variant `V`, expected ...`.
    UnknownName {
        /// The value given.
        given: String,
        /// The names accepted.
        known: Vec<String>,
    },
    /// `invalid type: FOUND, expected WANT` or `invalid value: ...`.
    Mismatch {
        /// serde's description of the value found (`string "88"`).
        found: String,
        /// serde's description of what fits (`usize`, `a sequence`).
        expected: String,
    },
    /// Anything else, in serde's words.
    Other(String),
}

impl Complaint {
    /// Reads serde's `message`.
    pub fn read(message: &str) -> Complaint {
        let message = message.trim();
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (key, tail) = rest.split_once('`').unwrap_or((rest, ""));
            return Complaint::UnknownKey {
                key: key.to_string(),
                known: backticked(tail),
            };
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            return Complaint::MissingKey(rest.split('`').next().unwrap_or(rest).to_string());
        }
        if let Some(rest) = message.strip_prefix("unknown variant `") {
            let (given, tail) = rest.split_once('`').unwrap_or((rest, ""));
            return Complaint::UnknownName {
                given: given.to_string(),
                known: backticked(tail),
            };
        }
        for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
            if let Some(rest) = message.strip_prefix(prefix)
                && let Some((found, expected)) = rest.rsplit_once(", expected ")
            {
                return Complaint::Mismatch {
                    found: found.to_string(),
                    expected: expected.to_string(),
                };
            }
        }
        Complaint::Other(message.to_string())
    }
}

/// The names in backticks in `text`, in order.
pub fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// What a value must be, as a user says it. `expected` is serde's (`u32`,
/// `a sequence`, `struct Price`, `one of `a`, `b``), `documented` the
/// option's type as `docpipe stages` shows it (`integer`, `[string]`).
pub fn expected_type(expected: &str, documented: Option<&str>) -> String {
    let whole = |low: i128, high: i128| format!("a whole number from {low} to {high}");
    let expected = expected.trim();
    match expected {
        "usize" | "u64" | "u128" => return "a whole number, 0 or more".into(),
        "u32" => return whole(0, u32::MAX.into()),
        "u16" => return whole(0, u16::MAX.into()),
        "u8" => return whole(0, u8::MAX.into()),
        "i64" | "isize" | "i128" => return "a whole number".into(),
        "i32" => return whole(i32::MIN.into(), i32::MAX.into()),
        "i16" => return whole(i16::MIN.into(), i16::MAX.into()),
        "i8" => return whole(i8::MIN.into(), i8::MAX.into()),
        "f64" | "f32" => return "a number".into(),
        "a boolean" => return "`true` or `false`".into(),
        "a string" | "a borrowed string" | "a string path" | "path string" => {
            return "a string".into();
        }
        "a character" | "a char" => return "a single character".into(),
        _ => {}
    }
    if expected.starts_with("a sequence") || expected.starts_with("a tuple") {
        return match documented.map(str::trim) {
            Some(d) if d.starts_with('[') && d.ends_with(']') => {
                format!("a list of {}", plural_of(&d[1..d.len() - 1]))
            }
            _ => "a list".into(),
        };
    }
    if expected.starts_with("a map") || expected.starts_with("struct ") {
        return "a table".into();
    }
    let names = backticked(expected);
    if !names.is_empty() && (expected.starts_with("one of") || expected.starts_with('`')) {
        return one_of(&names);
    }
    match documented.map(str::trim) {
        Some("integer") => "a whole number".into(),
        Some("float" | "number") => "a number".into(),
        Some("string") => "a string".into(),
        Some("bool" | "boolean") => "`true` or `false`".into(),
        Some("table") => "a table".into(),
        Some(d) if d.starts_with('[') && d.ends_with(']') => {
            format!("a list of {}", plural_of(&d[1..d.len() - 1]))
        }
        _ => expected.to_string(),
    }
}

/// `integer` -> `whole numbers`, `string` -> `strings`.
fn plural_of(ty: &str) -> String {
    match ty.trim() {
        "integer" => "whole numbers".into(),
        "float" | "number" => "numbers".into(),
        "bool" | "boolean" => "`true`/`false` values".into(),
        "string" => "strings".into(),
        "table" => "tables".into(),
        other => format!("{other} values"),
    }
}

/// "one of `a`, `b`, `c`" (or "`a`" for a single name).
pub fn one_of<S: AsRef<str>>(names: &[S]) -> String {
    match names {
        [one] => format!("`{}`", one.as_ref()),
        _ => format!("one of {}", super::backticks(names)),
    }
}

/// Advice for a name that is not one of `names`: the closest one when it
/// looks like a typo, and the list.
pub fn did_you_mean<S: AsRef<str>>(given: &str, names: &[S]) -> String {
    let list = one_of(names);
    match super::closest(given, names.iter().map(AsRef::as_ref)) {
        Some(c) => format!("did you mean `{c}`? choose {list}"),
        None => format!("choose {list}"),
    }
}

/// serde's description of a value found, as a user says it: `string "88"`
/// -> `the string "88"`, ``integer `3` `` -> `3`.
pub fn found_value(found: &str) -> String {
    let found = found.trim();
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the string {s}");
    }
    for prefix in ["integer ", "floating point ", "boolean ", "character "] {
        if let Some(v) = found.strip_prefix(prefix) {
            return v.trim_matches('`').to_string();
        }
    }
    match found {
        "sequence" => "a list".into(),
        "map" => "a table".into(),
        "unit value" => "nothing".into(),
        other => other.to_string(),
    }
}

/// Whether the text inside a string found would fit, unquoted, a value
/// expected as `expected` (`"88"` where a whole number goes).
pub fn quoted_fits(found: &str, expected: &str) -> Option<String> {
    let inner = found
        .trim()
        .strip_prefix("string \"")?
        .strip_suffix('"')?
        .to_string();
    let number = expected.starts_with('u') || expected.starts_with('i');
    let float = expected.starts_with('f');
    let fits = (number && inner.parse::<i128>().is_ok())
        || (float && inner.parse::<f64>().is_ok())
        || (expected == "a boolean" && (inner == "true" || inner == "false"));
    fits.then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_read() {
        assert_eq!(
            Complaint::read("unknown field `threds`, expected one of `threads`, `x`"),
            Complaint::UnknownKey {
                key: "threds".into(),
                known: vec!["threads".into(), "x".into()]
            }
        );
        assert_eq!(
            Complaint::read("invalid type: string \"88\", expected usize"),
            Complaint::Mismatch {
                found: "string \"88\"".into(),
                expected: "usize".into()
            }
        );
        assert_eq!(
            Complaint::read("unknown variant `jsn`, expected one of `auto`, `json`"),
            Complaint::UnknownName {
                given: "jsn".into(),
                known: vec!["auto".into(), "json".into()]
            }
        );
        assert_eq!(
            Complaint::read("missing field `units`"),
            Complaint::MissingKey("units".into())
        );
    }

    #[test]
    fn rust_types_are_said_as_a_user_writes_them() {
        assert_eq!(
            expected_type("usize", Some("integer")),
            "a whole number, 0 or more"
        );
        assert_eq!(
            expected_type("u32", None),
            "a whole number from 0 to 4294967295"
        );
        assert_eq!(expected_type("f64", Some("float")), "a number");
        assert_eq!(
            expected_type("a sequence", Some("[string]")),
            "a list of strings"
        );
        assert_eq!(expected_type("struct Price", None), "a table");
        assert_eq!(expected_type("one of `a`, `b`", None), "one of `a`, `b`");
        assert_eq!(found_value("string \"88\""), "the string \"88\"");
        assert_eq!(found_value("integer `-1`"), "-1");
        assert_eq!(quoted_fits("string \"88\"", "usize"), Some("88".into()));
        assert_eq!(quoted_fits("string \"x\"", "usize"), None);
    }
}
