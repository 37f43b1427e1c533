//! `type = "redact"`: removes secrets (API keys, tokens, passwords) from what
//! a model would see of a unit, before any prompt is built.
//!
//! Put it between the analyzer and the budget of a generating pipeline:
//!
//! ```toml
//! [plugins]
//! native = ["target/debug/libdocpipe_redact.so"]
//!
//! [stages.redact]
//! type = "redact"
//! inputs = ["analyze.incomplete"]
//! ```
//!
//! It rewrites the unit's source text, signature, parameter defaults,
//! context and raise messages: a string literal that looks like a key
//! (`sk-...`, `ghp_...`, `AKIA...`, `xox?-...`, a JWT), and a string assigned
//! to a name that says it is a secret (`password = "..."`, `api_key: str =
//! "..."`, `token="..."` in a call, `"secret": "..."` in a dict), become
//! `"<redacted>"`. The file itself is never touched: the writer works from
//! the file's own text and the unit's byte spans, not from this copy.

use std::sync::LazyLock;

use docpipe_plugin::{Envelope, Item, OptionDoc, Outputs, Plugin, TransformStage, export_plugin};
use regex::{Captures, Regex};
use serde::Deserialize;

/// What replaces a secret's text.
const MASK: &str = "<redacted>";

/// A string literal on one line, with its prefix: group `q` is the quote,
/// `body` the text between the quotes.
const LITERAL: &str = r#"(?P<prefix>[rRbBuUfF]{0,2})(?P<lit>"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>(?:[^'\\\n]|\\.)*)')"#;

/// Words that make a name a secret's.
const SECRET_WORDS: &str =
    r"(?:api_?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|credential|private_?key|auth)";

static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    // `name = "..."`, `name: str = "..."`, `name="..."` (a keyword argument
    // or a parameter default); `==` never matches (the quote must follow).
    Regex::new(&format!(
        r"(?i)(?P<name>\b(?:[A-Za-z_][A-Za-z0-9_]*?)?{SECRET_WORDS}[A-Za-z0-9_]*)(?P<between>\s*(?::\s*[A-Za-z_][\w\[\], .]*)?\s*=\s*){LITERAL}"
    ))
    .unwrap_or_else(|e| panic!("the assignment pattern is valid: {e}"))
});

static DICT_ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)(?P<name>["'][A-Za-z0-9_\-]*{SECRET_WORDS}[A-Za-z0-9_\-]*["'])(?P<between>\s*:\s*){LITERAL}"#
    ))
    .unwrap_or_else(|e| panic!("the dict entry pattern is valid: {e}"))
});

static KEY_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        sk-[A-Za-z0-9_\-]{16,}            # OpenAI and similar
        | gh[pousr]_[A-Za-z0-9]{20,}      # GitHub
        | AKIA[0-9A-Z]{16}                # AWS access key id
        | xox[abprs]-[A-Za-z0-9\-]{10,}   # Slack
        | eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}  # JWT
        | -----BEGIN[ A-Z]*PRIVATE\ KEY-----
        ",
    )
    .unwrap_or_else(|e| panic!("the key pattern is valid: {e}"))
});

static ANY_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(LITERAL).unwrap_or_else(|e| panic!("the literal pattern is valid: {e}"))
});

fn masked_literal(caps: &Captures<'_>) -> String {
    let quote = if caps.name("dq").is_some() { '"' } else { '\'' };
    format!("{}{quote}{MASK}{quote}", &caps["prefix"])
}

/// `text` with its secrets masked, and how many there were.
pub fn redact(text: &str) -> (String, usize) {
    let mut count = 0;
    let mut mask_named = |caps: &Captures<'_>| {
        let body = caps
            .name("dq")
            .or(caps.name("sq"))
            .map_or("", |m| m.as_str());
        if body.is_empty() || body == MASK {
            return caps[0].to_string();
        }
        count += 1;
        format!(
            "{}{}{}",
            &caps["name"],
            &caps["between"],
            masked_literal(caps)
        )
    };
    let text = ASSIGNED.replace_all(text, &mut mask_named).into_owned();
    let text = DICT_ENTRY.replace_all(&text, &mut mask_named).into_owned();
    let text = ANY_LITERAL
        .replace_all(&text, |caps: &Captures<'_>| {
            let body = caps
                .name("dq")
                .or(caps.name("sq"))
                .map_or("", |m| m.as_str());
            if KEY_LIKE.is_match(body) {
                count += 1;
                masked_literal(caps)
            } else {
                caps[0].to_string()
            }
        })
        .into_owned();
    (text, count)
}

/// A parameter whose name says it is a secret loses a string default.
fn redact_default(name: &str, default: &mut Option<String>, total: &mut usize) {
    let Some(text) = default else { return };
    if !SECRET_NAME.is_match(name) {
        return;
    }
    if let Some(caps) = WHOLE_LITERAL.captures(text) {
        let body = caps
            .name("dq")
            .or(caps.name("sq"))
            .map_or("", |m| m.as_str());
        if !body.is_empty() && body != MASK {
            *text = masked_literal(&caps);
            *total += 1;
        }
    }
}

static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("(?i){SECRET_WORDS}"))
        .unwrap_or_else(|e| panic!("the secret name pattern is valid: {e}"))
});

static WHOLE_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^{LITERAL}$"))
        .unwrap_or_else(|e| panic!("the literal pattern is valid: {e}"))
});

/// Options of `redact`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactOptions {}

/// The stage.
pub struct Redact;

impl Redact {
    fn redact_unit(env: &mut Envelope) -> usize {
        fn apply(text: &mut String) -> usize {
            let (clean, n) = redact(text);
            if n > 0 {
                *text = clean;
            }
            n
        }
        let unit = std::sync::Arc::make_mut(&mut env.unit);
        let mut total = 0;
        let mut source = unit.source.to_string();
        total += apply(&mut source);
        if total > 0 {
            unit.source = source.into();
        }
        total += apply(&mut unit.signature);
        total += apply(&mut unit.context);
        for p in &mut unit.params {
            redact_default(&p.name, &mut p.default, &mut total);
            if let Some(d) = &mut p.default {
                total += apply(d);
            }
        }
        for m in &mut unit.raise_messages {
            total += apply(&mut m.message);
        }
        if let Some(c) = &mut unit.constructor {
            for p in &mut c.params {
                redact_default(&p.name, &mut p.default, &mut total);
                if let Some(d) = &mut p.default {
                    total += apply(d);
                }
            }
        }
        total
    }
}

impl TransformStage for Redact {
    const TYPE: &'static str = "redact";
    const SUMMARY: &'static str = "Removes secrets (keys, tokens, passwords in string literals and assignments) from what a model sees of each unit";
    type Options = RedactOptions;

    fn options() -> Vec<OptionDoc> {
        Vec::new()
    }

    fn new(_options: RedactOptions, _stage: &str) -> Result<Redact, String> {
        Ok(Redact)
    }

    fn process(&self, item: Item, out: &mut Outputs) -> Result<(), String> {
        match item {
            Item::Unit(mut env) => {
                let n = Self::redact_unit(&mut env);
                if n > 0 {
                    env.extra.insert("redact".into(), serde_json_value(n));
                }
                out.send(Item::Unit(env));
                Ok(())
            }
            Item::File(_) => {
                Err("`redact` takes units; connect it after an extractor or analyzer".into())
            }
        }
    }
}

fn serde_json_value(n: usize) -> docpipe_plugin::Value {
    docpipe_plugin::Value::from(n as u64)
}

fn register(plugin: &mut Plugin) {
    plugin.transform::<Redact>();
}

export_plugin!(register);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secret_assignments_and_key_like_literals() {
        let source = r#"def connect(host, password="hunter2-very-secret"):
    api_key = "sk-live-0123456789abcdefABCDEF"
    headers = {"Authorization": "Bearer abc", "x-token": 'tok_12345'}
    note = "ghp_abcdefghijklmnopqrstuvwxyz0123"
    if password == "":
        raise ValueError("no password")
    return open_session(host, token="t0k3n-value")
"#;
        let (clean, n) = redact(source);
        for secret in [
            "hunter2-very-secret",
            "sk-live-0123456789abcdefABCDEF",
            "tok_12345",
            "ghp_abcdefghijklmnopqrstuvwxyz0123",
            "t0k3n-value",
            "Bearer abc",
        ] {
            assert!(!clean.contains(secret), "{secret} left in:\n{clean}");
        }
        assert_eq!(n, 6, "{clean}");
        // Code and harmless strings stay.
        assert!(clean.contains(r#"if password == "":"#), "{clean}");
        assert!(
            clean.contains(r#"raise ValueError("no password")"#),
            "{clean}"
        );
        assert!(
            clean.contains("def connect(host, password=\"<redacted>\"):"),
            "{clean}"
        );
    }
}

#[cfg(test)]
mod module_tests {
    #[test]
    fn masks_defaults_in_a_whole_module() {
        let source = "import os\n\nDEFAULT_TOKEN = \"tok-3141592653589793\"\n\n\ndef connect(host, password=\"hunter2-very-secret\"):\n    api_key = \"sk-live-0123456789abcdefABCDEF\"\n";
        let (clean, n) = super::redact(source);
        assert!(!clean.contains("hunter2"), "{clean}");
        assert_eq!(n, 3);
    }
}
