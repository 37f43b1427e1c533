//! `# noqa` comments: a finding about a definition is not reported when its
//! `def` or `class` header, or the line where its docstring ends, carries
//! `# noqa` (every code) or `# noqa: CODE, CODE` (those codes). Both habits
//! are served: flake8 and pydoclint report at the `def` line, ruff at the
//! docstring. For a module, the first line of the file counts as its header.
//!
//! docpipe's own directive works in the same places, as mypy's
//! `# type: ignore[code]` does: `# docpipe: ignore[DOC201, DOC101]` (those
//! codes) or `# docpipe: ignore` (every code). Unlike a `# noqa`, which other
//! tools read too, it is docpipe's alone, so docpipe can say when one
//! suppresses nothing ([`Noqa::unused`], `--warn-unused-ignores`). A line of
//! its own holding `# docpipe: ignore-file` leaves the whole file out
//! ([`ignores_file`]).
//!
//! Comments are found by text, not by tokens: a `# noqa` inside a string on
//! one of those lines counts too, as it would for a person reading the line.

use docpipe_core::model::{CodeUnit, Finding, UnitKind};

/// What a set of `# noqa` and `# docpipe: ignore` comments suppresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Noqa {
    /// A bare `# noqa`: everything.
    all: bool,
    /// Codes named after `# noqa:`.
    codes: Vec<String>,
    /// `# docpipe: ignore[...]` comments, each with the codes it names
    /// (none: a bare `# docpipe: ignore`, every code).
    directives: Vec<Vec<String>>,
}

/// Whether `text` (a file) has a line of its own holding
/// `# docpipe: ignore-file`, as ruff's `# ruff: noqa` may stand anywhere.
pub fn ignores_file(text: &str) -> bool {
    let mut from = 0;
    while let Some(i) = text[from..].find("ignore-file") {
        let at = from + i;
        from = at + "ignore-file".len();
        let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let line = &text[line_start..line_end(text, at)];
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = comment.trim_start().strip_prefix("docpipe:") else {
            continue;
        };
        if let Some(after) = rest.trim_start().strip_prefix("ignore-file")
            && (after.is_empty() || after.starts_with([' ', '\t', '#']))
        {
            return true;
        }
    }
    false
}

impl Noqa {
    /// The `# noqa` comments that apply to `unit`'s findings.
    pub fn of(unit: &CodeUnit) -> Noqa {
        let mut noqa = Noqa::default();
        let source: &str = &unit.source;
        if !source.contains("noqa") && !source.contains("NOQA") && !source.contains("docpipe:") {
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
        self.all
            || self.codes.iter().any(|c| *c == finding.code)
            || self
                .directives
                .iter()
                .any(|d| d.is_empty() || d.iter().any(|c| *c == finding.code))
    }

    /// Whether nothing is suppressed.
    pub fn is_empty(&self) -> bool {
        !self.all && self.codes.is_empty() && self.directives.is_empty()
    }

    /// The `# docpipe: ignore` comments, as written, that suppress none of
    /// `findings` (the unit's findings before suppression): a bare one when
    /// there are none, else each code that has no finding.
    pub fn unused(&self, findings: &[Finding]) -> Vec<String> {
        let mut out = Vec::new();
        for codes in &self.directives {
            if codes.is_empty() {
                if findings.is_empty() {
                    out.push("# docpipe: ignore".to_string());
                }
                continue;
            }
            for code in codes {
                if !findings.iter().any(|f| f.code == code.as_str()) {
                    out.push(format!("# docpipe: ignore[{code}]"));
                }
            }
        }
        out
    }

    fn read(&mut self, text: &str) {
        for line in text.lines() {
            let mut rest = line;
            while let Some(hash) = rest.find('#') {
                rest = &rest[hash + 1..];
                let comment = rest.trim_start();
                if let Some(directive) = comment.strip_prefix("docpipe:") {
                    self.read_directive(directive.trim_start());
                    continue;
                }
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

impl Noqa {
    /// `ignore[CODE, ...]` or `ignore` after `# docpipe:`; anything else
    /// (`ignore-file`, a word docpipe does not know) is not a directive here.
    fn read_directive(&mut self, text: &str) {
        let Some(after) = text.strip_prefix("ignore") else {
            return;
        };
        if let Some(list) = after.strip_prefix('[') {
            let Some((inside, _)) = list.split_once(']') else {
                return;
            };
            let codes: Vec<String> = inside
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            if !codes.is_empty() {
                self.directives.push(codes);
            }
        } else if after.is_empty() || after.starts_with([' ', '\t', '#']) {
            self.directives.push(Vec::new());
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
    fn docpipe_ignore_names_codes_or_everything() {
        let src =
            "def f(x):  # docpipe: ignore[DOC101, DOC201]\n    \"\"\"Doc.\"\"\"\n    return x\n";
        let noqa = noqa_of(src, "f");
        assert!(noqa.suppresses(&finding("DOC101")));
        assert!(noqa.suppresses(&finding("DOC201")));
        assert!(!noqa.suppresses(&finding("DOC501")));
        let bare = noqa_of("class A:  # docpipe: ignore\n    pass\n", "A");
        assert!(bare.suppresses(&finding("DP101")));
        let after_docstring = noqa_of(
            "def f(x):\n    \"\"\"Doc.\"\"\"  # docpipe: ignore[DOC101]\n    return x\n",
            "f",
        );
        assert!(after_docstring.suppresses(&finding("DOC101")));
        assert!(!after_docstring.suppresses(&finding("DOC201")));
    }

    #[test]
    fn docpipe_lookalikes_suppress_nothing() {
        for header in [
            "# docpipe: ignored[DOC101]",
            "# docpipe: ignore-file",
            "# docpipe: ignore[]",
            "# docpipe: ignore[DOC101",
            "# docpipe:check",
        ] {
            let noqa = noqa_of(&format!("def f(x):  {header}\n    pass\n"), "f");
            assert!(noqa.is_empty(), "{header}");
        }
    }

    #[test]
    fn unused_names_each_code_without_a_finding() {
        let noqa = noqa_of(
            "def f(x):  # docpipe: ignore[DOC101, DOC201]\n    pass\n",
            "f",
        );
        assert_eq!(
            noqa.unused(&[finding("DOC101")]),
            ["# docpipe: ignore[DOC201]"]
        );
        assert!(
            noqa.unused(&[finding("DOC101"), finding("DOC201")])
                .is_empty()
        );
        let bare = noqa_of("def f(x):  # docpipe: ignore\n    pass\n", "f");
        assert_eq!(bare.unused(&[]), ["# docpipe: ignore"]);
        assert!(bare.unused(&[finding("DP102")]).is_empty());
        // A `# noqa` is other tools' too: never reported here.
        assert!(
            noqa_of("def f(x):  # noqa: DOC101\n    pass\n", "f")
                .unused(&[])
                .is_empty()
        );
    }

    #[test]
    fn ignore_file_stands_on_a_line_of_its_own() {
        assert!(ignores_file("import os\n# docpipe: ignore-file\n"));
        assert!(ignores_file(
            "  #docpipe:ignore-file  # generated\r\nx = 1\n"
        ));
        assert!(!ignores_file("x = 1  # docpipe: ignore-file\n"));
        assert!(!ignores_file("s = \"# docpipe: ignore-file\"\n"));
        assert!(!ignores_file("# docpipe: ignore-files\n"));
        assert!(!ignores_file("# docpipe: ignore\n"));
    }

    #[test]
    fn comments_in_the_body_and_lookalikes_do_not_count() {
        assert!(noqa_of("def f(x):\n    return x  # noqa\n", "f").is_empty());
        assert!(noqa_of("def f(x):  # noqaish\n    pass\n", "f").is_empty());
        assert!(noqa_of("def f(x):  # see the noqa docs\n    pass\n", "f").is_empty());
    }
}
