//! Completing a docstring a person wrote keeps their text as they wrote it:
//! the summary and description line for line (line breaks, indentation,
//! marker lines such as `+`), the line breaks of the item descriptions they
//! wrote, while missing parameters, returns and exceptions are added and
//! parameters that left the signature go. Checked on two files of the CPython
//! standard library and on small sources in every built-in style. Also: a
//! class docstring the writer inserts is followed by a blank line (PEP 257,
//! ruff D204).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use docpipe_core::config::validate::validate;
use docpipe_core::config::{EnvVars, LoadOptions, load};
use docpipe_core::executor::{ExecOptions, RunHandles, RunOutcome, build_stages, execute};
use docpipe_core::model::CodeUnit;
use docpipe_core::stage::{RunOptions, WriteMode};
use docpipe_core::style::Style;
use docpipe_stages::style::{GoogleStyle, NumpyStyle, SphinxStyle};

/// The generate pipeline with the offline template model, in `style`.
fn pipeline(style: &str) -> String {
    format!(
        r#"
[model]
provider = "template"

[style]
name = "{style}"

[stages.source]
type = "python-source"

[stages.extract]
type = "python-extract"
inputs = ["source"]

[stages.analyze]
type = "docstring-analyze"
inputs = ["extract"]

[stages.budget]
type = "token-budget"
inputs = ["analyze.incomplete"]

[stages.generate]
type = "llm-generate"
inputs = ["budget"]

[stages.parse]
type = "reply-parse"
inputs = ["generate"]

[stages.write]
type = "python-writer"
inputs = ["analyze.complete", "parse"]
"#
    )
}

/// Runs the generate pipeline in `style` over `paths`, writing in place.
fn run(paths: &[PathBuf], style: &str) -> RunOutcome {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let registry = docpipe_stages::builtin_registry();
    let embedded = pipeline(style);
    let options = LoadOptions {
        explicit: None,
        cwd: std::env::temp_dir().join("docpipe-writer-merge-verbatim-no-config"),
        overrides: Vec::new(),
        embedded: &embedded,
        sections: registry.section_names(),
        env: Some(EnvVars::from_map(HashMap::new())),
    };
    let (config, _) = load(&options).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let run = Arc::new(RunOptions {
        paths: paths.to_vec(),
        write_mode: WriteMode::InPlace,
        jobs: 2,
        ..RunOptions::default()
    });
    let validated =
        validate(config, &registry, run.clone()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let plan = validated
        .plan(None)
        .unwrap_or_else(|e| panic!("{e}"))
        .clone();
    let stages = build_stages(&validated, &plan, &registry, run.clone())
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let outcome = rt.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(300),
            execute(
                &plan,
                stages,
                RunHandles::new(run),
                ExecOptions {
                    channel_capacity: 8,
                    jobs: 2,
                    ..ExecOptions::default()
                },
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("the {style} run did not finish within five minutes"))
    });
    assert!(outcome.fatal.is_none(), "fatal: {:?}", outcome.fatal);
    assert!(
        outcome.invariant.is_none(),
        "invariant: {:?}",
        outcome.invariant
    );
    assert!(
        outcome.report.failures.is_empty(),
        "units failed: {:#?}",
        outcome.report.failures
    );
    outcome
}

fn style_named(name: &str) -> Box<dyn Style> {
    match name {
        "numpy" => Box::new(NumpyStyle),
        "sphinx" => Box::new(SphinxStyle),
        _ => Box::new(GoogleStyle),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The units of the file at `path`, by qualified name.
fn units(path: &Path) -> HashMap<String, CodeUnit> {
    let file = Arc::new(
        docpipe_stages::python::read_source(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    );
    docpipe_stages::python::extract(&file)
        .unwrap_or_else(|e| panic!("{} does not extract: {e:?}", path.display()))
        .into_iter()
        .map(|u| (u.qualname.clone(), u))
        .collect()
}

/// Lines of a docstring value cleaned like `inspect.cleandoc` (no tabs in these sources).
fn cleandoc(value: &str) -> Vec<String> {
    let raw: Vec<&str> = value.lines().collect();
    let margin = raw
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut lines: Vec<String> = raw
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let l = if i == 0 {
                l.trim_start()
            } else {
                l.get(margin..).unwrap_or("")
            };
            l.trim_end().to_string()
        })
        .collect();
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Whether a cleaned line could start a section in one of the built-in styles.
fn looks_like_section(line: &str) -> bool {
    let t = line.trim();
    (!line.starts_with(' ') && t.ends_with(':') && !t.contains(' '))
        || (t.len() >= 3 && t.chars().all(|c| c == '-'))
        || t.starts_with(":param")
        || t.starts_with(":return")
        || t.starts_with(":raise")
        || t.starts_with(".. ")
}

/// `python3 -m py_compile` accepts the file (skipped without python3).
fn assert_compiles(path: &Path) {
    let Ok(out) = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(path)
        .output()
    else {
        return;
    };
    assert!(
        out.status.success(),
        "{} does not compile: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The standard library's directory, `None` without python3.
fn stdlib() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    dir.join("email/_policybase.py").is_file().then_some(dir)
}

/// Every docstring a person wrote in `before` keeps its lines in `after`:
/// one without a section must start the completed docstring unchanged.
/// Returns how many were checked and how many were completed.
fn assert_heads_kept(before: &Path, after: &Path) -> (usize, usize) {
    let old = units(before);
    let new = units(after);
    let (mut checked, mut completed) = (0, 0);
    for (name, unit) in &old {
        let Some(doc) = &unit.docstring else {
            continue;
        };
        let mine = cleandoc(&doc.value);
        if mine.iter().any(|l| looks_like_section(l)) {
            continue;
        }
        let now = new
            .get(name)
            .and_then(|u| u.docstring.as_ref())
            .unwrap_or_else(|| panic!("{name} lost its docstring in {}", after.display()));
        let now = cleandoc(&now.value);
        assert!(
            now.starts_with(&mine),
            "{}: `{name}` does not start with what the person wrote.\nwas:\n{}\nnow:\n{}",
            after.display(),
            mine.join("\n"),
            now.join("\n")
        );
        checked += 1;
        completed += usize::from(now.len() > mine.len());
    }
    (checked, completed)
}

#[test]
fn stdlib_docstrings_keep_their_lines_when_completed() {
    let Some(lib) = stdlib() else {
        eprintln!("python3 or its standard library not found; skipping");
        return;
    };
    let originals = [
        lib.join("email/_header_value_parser.py"),
        lib.join("email/_policybase.py"),
    ];
    let parser_text = read(&originals[0]);
    let policy_text = read(&originals[1]);

    // get_phrase: two grammar lines, the second indented under the first.
    let start = parser_text
        .find("def get_phrase(value):\n    \"\"\" phrase = 1*word / obs-phrase\n")
        .unwrap_or_else(|| panic!("get_phrase's docstring is not as expected"));
    let end = start
        + parser_text[start..]
            .find("even the obsolete grammar.\n")
            .unwrap_or_else(|| panic!("get_phrase's docstring is not as expected"))
        + "even the obsolete grammar.\n".len();
    // Kept byte for byte, the space after the quotes too.
    let get_phrase = parser_text[start..end].to_string();
    assert!(get_phrase.contains("\n        obs-phrase = word *(word / \".\" / CFWS)\n"));

    // `"""+` docstrings: the marker line, then the person's lines.
    let plus_blocks: Vec<&str> = policy_text
        .match_indices("\"\"\"+\n")
        .map(|(at, _)| {
            let body = &policy_text[at + 3..];
            let close = body.find("\"\"\"").unwrap_or(body.len());
            let last = body[..close].trim_end().len();
            &policy_text[at..at + 3 + last]
        })
        .collect();
    assert!(plus_blocks.len() >= 5, "{plus_blocks:#?}");

    for style in ["google", "numpy", "sphinx"] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let copies: Vec<PathBuf> = originals
            .iter()
            .map(|p| {
                let to = dir.path().join(p.file_name().unwrap_or_default());
                std::fs::copy(p, &to).unwrap_or_else(|e| panic!("copy {}: {e}", p.display()));
                to
            })
            .collect();
        let first = run(&copies, style);
        assert_eq!(first.report.files_written, 2, "{style}");

        let parser_now = read(&copies[0]);
        assert!(
            parser_now.contains(&get_phrase),
            "{style}: get_phrase lost the person's lines:\n{}",
            &parser_now[parser_now.find("def get_phrase").unwrap_or(0)..]
                [..900.min(parser_now.len() - parser_now.find("def get_phrase").unwrap_or(0))]
        );
        let policy_now = read(&copies[1]);
        for block in &plus_blocks {
            assert!(
                policy_now.contains(block),
                "{style}: lost the person's lines:\n{block}"
            );
        }
        assert_eq!(
            policy_now.matches("\"\"\"+\n").count(),
            plus_blocks.len(),
            "{style}: every `+` marker stays on its own line"
        );

        // Completed: the parameters are documented now.
        let parsed = style_named(style);
        let documented = |path: &Path, qualname: &str, params: &[&str]| {
            let doc = units(path)
                .get(qualname)
                .and_then(|u| u.docstring.clone())
                .unwrap_or_else(|| panic!("{style}: {qualname} has no docstring"));
            let model = parsed.parse(&doc.value);
            for p in params {
                assert!(
                    model.param(p).is_some_and(|d| !d.description.is_empty()),
                    "{style}: {qualname} does not document `{p}`:\n{}",
                    doc.value
                );
            }
        };
        documented(&copies[0], "get_phrase", &["value"]);
        documented(
            &copies[1],
            "Compat32.header_store_parse",
            &["name", "value"],
        );
        documented(&copies[1], "Compat32.fold", &["name", "value"]);

        for (before, after) in originals.iter().zip(&copies) {
            let (checked, completed) = assert_heads_kept(before, after);
            assert!(
                checked >= 20 && completed >= 10,
                "{style}: only {checked} docstrings checked, {completed} completed in {}",
                after.display()
            );
            assert_compiles(after);
        }

        // A second run has nothing left to do.
        let second = run(&copies, style);
        assert_eq!(second.report.files_written, 0, "{style}");
        assert_eq!(second.report.by_state.generated, 0, "{style}");
    }
}

/// A small source in `style` with incomplete docstrings a person wrote.
const COMMON: &str = r#""""Sample module."""


def get_phrase(value, extra=None):
    """ phrase = 1*word / obs-phrase
        obs-phrase = word *(word / "." / CFWS)

    This means a phrase can be a sequence of words, periods, and CFWS in any
    order as long as it starts with at least one word.

    """
    return value, extra


def fold(name, value):
    """+
    Headers are folded using the Header folding algorithm, which preserves
    existing line breaks in the value.
    """
    return name + value
"#;

const GOOGLE: &str = r#"

def send(to, body):
    """Send a message.

    My own words,
    on two lines.

    Args:
        to: Who gets it,
            one address per line.
        old: Gone from the signature.

    See Also:
        receive()
    """
    return to, body
"#;

const NUMPY: &str = r#"

def send(to, body):
    """Send a message.

    My own words,
    on two lines.

    Parameters
    ----------
    to : str
        Who gets it,
        one address per line.
    old : int
        Gone from the signature.

    See Also
    --------
    receive
    """
    return to, body
"#;

const SPHINX: &str = r#"

def send(to, body):
    """Send a message.

    My own words,
    on two lines.

    :param to: Who gets it,
        one address per line.
    :type to: str
    :param old: Gone from the signature.
    """
    return to, body
"#;

/// Runs the pipeline in `style` over `source`; returns the file after, and
/// checks that a second run changes nothing.
fn complete(style: &str, source: &str) -> String {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("sample.py");
    std::fs::write(&path, source).unwrap_or_else(|e| panic!("{e}"));
    let first = run(std::slice::from_ref(&path), style);
    assert_eq!(first.report.files_written, 1, "{style}");
    assert_compiles(&path);
    let after = read(&path);
    let second = run(std::slice::from_ref(&path), style);
    assert_eq!(second.report.files_written, 0, "{style}: not idempotent");
    assert_eq!(read(&path), after);
    after
}

fn assert_common_kept(after: &str) {
    assert!(after.contains(
        "    \"\"\" phrase = 1*word / obs-phrase\n        obs-phrase = word *(word / \".\" / CFWS)\n\n    This means a phrase can be a sequence of words, periods, and CFWS in any\n    order as long as it starts with at least one word.\n"
    ), "{after}");
    assert!(after.contains(
        "    \"\"\"+\n    Headers are folded using the Header folding algorithm, which preserves\n    existing line breaks in the value.\n"
    ), "{after}");
    assert!(
        after.contains("    My own words,\n    on two lines.\n"),
        "{after}"
    );
    assert!(
        !after.contains("Gone from the signature"),
        "a parameter that left the signature goes: {after}"
    );
}

#[test]
fn google_merge_keeps_the_persons_lines() {
    let after = complete("google", &format!("{COMMON}{GOOGLE}"));
    assert_common_kept(&after);
    assert!(
        after.contains("        to: Who gets it,\n            one address per line.\n"),
        "{after}"
    );
    insta::assert_snapshot!("merge_verbatim_google", after);
}

#[test]
fn numpy_merge_keeps_the_persons_lines() {
    let after = complete("numpy", &format!("{COMMON}{NUMPY}"));
    assert_common_kept(&after);
    assert!(
        after.contains("    to : str\n        Who gets it,\n        one address per line.\n"),
        "{after}"
    );
    insta::assert_snapshot!("merge_verbatim_numpy", after);
}

#[test]
fn sphinx_merge_keeps_the_persons_lines() {
    let after = complete("sphinx", &format!("{COMMON}{SPHINX}"));
    assert_common_kept(&after);
    assert!(
        after.contains("    :param to: Who gets it,\n        one address per line.\n"),
        "{after}"
    );
    insta::assert_snapshot!("merge_verbatim_sphinx", after);
}

const CLASSES: &str = r#""""Classes."""


class Packed:
    limit = 3

    def size(self):
        return self.limit


class Spaced:

    limit = 4


class Commented:
    # The comment stays under the docstring.
    limit = 5


class Inline: pass
"#;

#[test]
fn an_inserted_class_docstring_is_followed_by_a_blank_line() {
    let after = complete("google", CLASSES);
    for class in ["Packed", "Spaced", "Commented", "Inline"] {
        let at = after
            .find(&format!("class {class}:\n    \"\"\""))
            .unwrap_or_else(|| panic!("{class} got no docstring:\n{after}"));
        let open = at + format!("class {class}:\n    \"\"\"").len();
        let close = open
            + after[open..]
                .find("\"\"\"")
                .unwrap_or_else(|| panic!("{class}: no closing quotes:\n{after}"))
            + 3;
        assert!(
            after[close..].starts_with("\n\n") && !after[close..].starts_with("\n\n\n"),
            "{class}: one blank line after the docstring:\n{after}"
        );
    }
    insta::assert_snapshot!("class_docstring_blank_line", after);
}

const VARIADIC: &str = r#""""Variadics."""


def spread(first, *args, **kwargs):
    return first, args, kwargs
"#;

const VARIADIC_WRITTEN: &str = r#""""Variadics."""


def partly(*args, **kwargs):
    """Partly documented.

    Args:
        args: Mine, without stars.
    """
    return args, kwargs
"#;

#[test]
fn variadic_parameters_get_stars_where_the_style_lists_them_so() {
    let google = complete("google", VARIADIC);
    assert!(
        google.contains("        *args: ") && google.contains("        **kwargs: "),
        "{google}"
    );
    let numpy = complete("numpy", VARIADIC);
    assert!(
        numpy.contains("\n    *args\n") && numpy.contains("\n    **kwargs\n"),
        "{numpy}"
    );
    let sphinx = complete("sphinx", VARIADIC);
    assert!(
        sphinx.contains(":param args: ") && !sphinx.contains(":param *"),
        "{sphinx}"
    );
    // An entry a person wrote keeps their name; the one added is starred.
    let written = complete("google", VARIADIC_WRITTEN);
    assert!(
        written.contains("        args: Mine, without stars.\n        **kwargs: "),
        "{written}"
    );
    insta::assert_snapshot!(
        "variadic_parameters",
        format!(
            "----- google\n{google}\n----- numpy\n{numpy}\n----- sphinx\n{sphinx}\n----- google, partly written\n{written}"
        )
    );
}
