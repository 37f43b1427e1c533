//! `--set section.key=value` overrides, typed like the file.

use toml::Value;

/// One parsed `--set` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The argument as given, for messages.
    pub raw: String,
    /// Key path (`["model", "provider"]`).
    pub path: Vec<String>,
    /// The value: a TOML value when the text parses as one, else a string.
    pub value: Value,
    /// The text, when it is a whole number too large for TOML (kept as a
    /// string in `value`, so that the option reading it says what it takes).
    pub oversized: Option<String>,
}

/// Parses `section.key=value`. The value is read as a TOML value (`8`, `true`,
/// `["a", "b"]`, `"quoted"`); anything that is not one is taken as a string,
/// so `--set model.name=gpt-4o-mini` needs no quotes.
pub fn parse_override(raw: &str) -> Result<Override, String> {
    let Some((key, value)) = raw.split_once('=') else {
        return Err(format!(
            "`--set {raw}` has no `=`: write `--set section.key=value`"
        ));
    };
    let path: Vec<String> = key
        .trim()
        .split('.')
        .map(|s| s.trim().to_string())
        .collect();
    if path.len() < 2 || path.iter().any(String::is_empty) {
        return Err(format!(
            "`--set {raw}`: the key must be a dotted path such as `model.provider` or `stages.extract.concurrency`"
        ));
    }
    let text = value.trim();
    let mut oversized = None;
    let value = match toml::from_str::<toml::Table>(&format!("v = {text}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(text.to_string())),
        Err(_) => {
            let digits = text.trim_start_matches(['+', '-']).replace('_', "");
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                oversized = Some(text.to_string());
            }
            Value::String(text.to_string())
        }
    };
    Ok(Override {
        raw: raw.to_string(),
        path,
        value,
        oversized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_like_the_file() {
        assert_eq!(
            parse_override("model.rpm=60").unwrap().value,
            Value::Integer(60)
        );
        assert_eq!(
            parse_override("a.b=true").unwrap().value,
            Value::Boolean(true)
        );
        assert_eq!(
            parse_override("model.name=gpt-4o-mini").unwrap().value,
            Value::String("gpt-4o-mini".into())
        );
        assert_eq!(
            parse_override("model.base_url=http://127.0.0.1:9/v1")
                .unwrap()
                .value,
            Value::String("http://127.0.0.1:9/v1".into())
        );
    }

    #[test]
    fn a_whole_number_too_large_for_toml_is_marked() {
        let o = parse_override("model.rpm=99999999999999999999999").unwrap();
        assert_eq!(o.oversized.as_deref(), Some("99999999999999999999999"));
        assert_eq!(parse_override("model.rpm=60").unwrap().oversized, None);
        assert_eq!(parse_override("model.name=gpt-4o").unwrap().oversized, None);
    }

    #[test]
    fn a_key_without_section_is_rejected() {
        assert!(parse_override("provider=openai").is_err());
        assert!(parse_override("model.provider").is_err());
    }
}
