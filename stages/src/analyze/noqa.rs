//! `# noqa` comments: a finding about a definition is not reported when its
//! `def` or `class` header, or the line where its docstring ends, carries
//! `# noqa` (every code) or `# noqa: CODE, CODE` (those codes). Both habits
//! are served: flake8 and pydoclint report at the `def` line, ruff at the
//! docstring. For a module, the first line of the file counts as its header.
//!
//! Comments are found by text, not by tokens: a `# noqa` inside a string on
//! one of those lines counts too, as it would for a person reading the line.

use docpipe_core::model::{CodeUnit, Finding, UnitKind};

/// What a set of `# noqa` comments suppresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Noqa {
    /// A bare `# noqa`: everything.
    all: bool,
    /// Codes named after `# noqa:`.
    codes: Vec<String>,
}

impl Noqa {
    /// The `# noqa` comments that apply to `unit`'s findings.
    pub fn of(unit: &CodeUnit) -> Noqa {
        let mut noqa = Noqa::default();
        let source: &str = &unit.source;
        if !source.contains("noqa") && !source.contains("NOQA") {
            return noqa;
        }
        let header = match unit.kind {
            UnitKind::Module => source.lines().next().unwrap_or(""),
            _ => source
                .find(unit.signature.as_str())
                .filter(|_| !unit.signature.is_empty())
                .map_or("", |at| {
                    let end = line_end(source, at + unit.signature.len());
                    &source[at..end]
                }),
        };
        noqa.read(header);
        if let Some(ds) = &unit.docstring
            && let Some(end) = ds.span.end.checked_sub(unit.span.start)
            && end <= source.len()
        {
            noqa.read(&source[end..line_end(source, end)]);
        }
        noqa
    }

    /// Whether `finding` is suppressed.
    pub fn suppresses(&self, finding: &Finding) -> bool {
        self.all || self.codes.iter().any(|c| *c == finding.code)
    }

    /// Whether nothing is suppressed.
    pub fn is_empty(&self) -> bool {
        !self.all && self.codes.is_empty()
    }

    fn read(&mut self, text: &str) {
        for line in text.lines() {
            let mut rest = line;
            while let Some(hash) = rest.find('#') {
                rest = &rest[hash + 1..];
                let comment = rest.trim_start();
                let Some(after) = comment
                    .get(..4)
                    .filter(|w| w.eq_ignore_ascii_case("noqa"))
                    .map(|_| &comment[4..])
                else {
                    continue;
                };
                match after.trim_start().strip_prefix(':') {
                    Some(list) => {
                        let tokens = list
                            .split(|c: char| c == ',' || c.is_whitespace())
                            .filter(|t| !t.is_empty());
                        // Codes up to the first word that is not one (`# noqa: DOC101 why`).
                        for token in tokens {
                            if !looks_like_code(token) {
                                break;
                            }
                            self.codes.push(token.to_string());
                        }
                    }
                    None if after.is_empty() || after.starts_with([' ', '\t', '#']) => {
                        self.all = true
                    }
                    // `# noqaX` is not a directive.
                    None => {}
                }
            }
        }
    }
}

/// `DOC101`, `DP100`, `E501`: capital letters, then digits.
fn looks_like_code(token: &str) -> bool {
    let digits = token.trim_start_matches(|c: char| c.is_ascii_uppercase());
    digits.len() < token.len() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// The end of the line holding byte `at` of `text` (before its line break).
fn line_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.find(['\n', '\r']))
        .map_or(text.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use docpipe_core::model::SourceFile;

    use super::*;
    use crate::python::extract;

    fn noqa_of(source: &str, qualname: &str) -> Noqa {
        let units = extract(&SourceFile::from_text("m.py", source)).expect("the source parses");
        let unit = units
            .iter()
            .find(|u| u.qualname == qualname)
            .expect("the unit exists");
        Noqa::of(unit)
    }

    fn finding(code: &'static str) -> Finding {
        Finding {
            code: code.into(),
            message: String::new(),
            line: 1,
            column: 1,
            fix: None,
            severity: docpipe_core::model::Severity::Error,
        }
    }

    #[test]
    fn codes_on_the_def_line_or_after_the_docstring() {
        let src = "@decorator\ndef f(\n    x,\n):  # noqa: DOC101, DOC201\n    \"\"\"Doc.\"\"\"  # NOQA:DOC501\n    return x\n";
        let noqa = noqa_of(src, "f");
        assert!(noqa.suppresses(&finding("DOC101")));
        assert!(noqa.suppresses(&finding("DOC201")));
        assert!(noqa.suppresses(&finding("DOC501")));
        assert!(!noqa.suppresses(&finding("DOC102")));
    }

    #[test]
    fn a_bare_noqa_suppresses_everything() {
        let noqa = noqa_of("class A:  # noqa\n    pass\n", "A");
        assert!(noqa.suppresses(&finding("DP101")));
        let module = noqa_of("import os  # noqa\n", "");
        assert!(module.suppresses(&finding("DP100")));
    }

    #[test]
    fn comments_in_the_body_and_lookalikes_do_not_count() {
        assert!(noqa_of("def f(x):\n    return x  # noqa\n", "f").is_empty());
        assert!(noqa_of("def f(x):  # noqaish\n    pass\n", "f").is_empty());
        assert!(noqa_of("def f(x):  # see the noqa docs\n    pass\n", "f").is_empty());
    }
}
