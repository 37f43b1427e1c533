//! API keys: held in a [`Secret`] whose `Debug` and `Display` never show the
//! value, and scrubbed from any text that leaves a backend (server messages
//! sometimes echo the key they refused).

use std::fmt;

/// Text shown in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// An API key. Only [`Secret::expose`] gives the value, for the request header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, to put in a header. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret (and of its longer
    /// prefixes and suffixes, which servers print when they mask a key)
    /// replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        scrub_all(text, std::slice::from_ref(self))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// `text` with every secret of `secrets` removed. Besides the whole key, the
/// first and last 8 characters are removed too: OpenAI answers
/// "Incorrect API key provided: sk-abc12***...wxyz", which would otherwise
/// leak most of a short test key.
pub fn scrub_all(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let value = secret.expose();
        if value.len() < 4 {
            continue;
        }
        out = out.replace(value, REDACTED);
        let chars: Vec<char> = value.chars().collect();
        if chars.len() >= 16 {
            let head: String = chars[..8].iter().collect();
            let tail: String = chars[chars.len() - 8..].iter().collect();
            out = out.replace(&head, REDACTED).replace(&tail, REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let key = Secret::new("sk-test-1234567890abcdef");
        assert_eq!(format!("{key:?}"), REDACTED);
        assert_eq!(format!("{key}"), REDACTED);
        assert_eq!(key.expose(), "sk-test-1234567890abcdef");
    }

    #[test]
    fn scrub_removes_whole_and_masked_keys() {
        let key = Secret::new("sk-test-1234567890abcdef");
        let message = "Incorrect API key provided: sk-test-1234567890abcdef. Masked: sk-test-***cdef, 890abcdef";
        let scrubbed = key.scrub(message);
        assert!(!scrubbed.contains("1234567890abcdef"), "{scrubbed}");
        assert!(!scrubbed.contains("sk-test-"), "{scrubbed}");
        assert!(!scrubbed.contains("90abcdef"), "{scrubbed}");
    }
}
