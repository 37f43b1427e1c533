//! Conventions as a project has them: each docstring is completed in the
//! convention it is written in, new ones take the project's convention (or
//! the configured one), and a person's text stays byte for byte.

#[allow(dead_code)]
#[path = "../stages/tests/llm_support/fake_openai.rs"]
mod fake_openai;
mod support;

use std::path::Path;

use fake_openai::{Auth, FakeServer, well_behaved};
use support::{Ran, docpipe, run};

/// A project of NumPy docstrings, one Sphinx-field docstring, one undocumented
/// function and a docstring with a `\N{...}` escape.
fn numpy_project(dir: &Path) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(
        pkg.join("numbers.py"),
        r#""""Numbers.

Notes
-----
Written in NumPy's convention.
"""


def add(a, b):
    """Add two numbers.

    Parameters
    ----------
    a : int
        The first.

    Returns
    -------
    int
        The sum.
    """
    return a + b


def sub(a, b):
    """Subtract.

    Parameters
    ----------
    a : int
        The first.
    b : int
        The second.

    Returns
    -------
    int
        The difference.
    """
    return a - b


def mul(a, b):
    """Multiply.

    Parameters
    ----------
    a : int
        The first.
    b : int
        The second.

    Returns
    -------
    int
        The product.
    """
    return a * b


def fields(text, width):
    """Wrap text.

    :param text: The text.
    :returns: The lines.
    """
    return [text[:width]]


def bullet(x):
    """Join with \N{BULLET} marks.

    Parameters
    ----------
    y : int
        A parameter that is gone.
    """
    print(x)


def bare(n):
    return n
"#,
    )
    .expect("write");
}

fn read(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("pkg/numbers.py")).expect("read")
}

/// The text of the docstring of `def name` in `text`, up to the closing quotes.
fn docstring_of<'a>(text: &'a str, name: &str) -> &'a str {
    let def = text
        .find(&format!("def {name}("))
        .unwrap_or_else(|| panic!("no def {name} in:\n{text}"));
    let rest = &text[def..];
    let open = rest
        .find("\"\"\"")
        .unwrap_or_else(|| panic!("{name} has no docstring"));
    let body = &rest[open + 3..];
    let close = body.find("\"\"\"").expect("closing quotes");
    &body[..close]
}

fn codes(ran: &Ran) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).expect("json findings");
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn auto_writes_new_docstrings_in_the_project_convention_and_never_mixes() {
    let dir = tempfile::tempdir().expect("temp dir");
    numpy_project(dir.path());
    let before = read(dir.path());
    let report = dir.path().join("report.json");
    let ran = run(
        dir.path(),
        &[
            "run",
            "generate",
            "pkg",
            "-v",
            "--report",
            report.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "new docstrings in the numpy convention (docstrings by convention: numpy 5, sphinx 1)"
        ),
        "{}",
        ran.stderr
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(json["conventions"]["new_docstrings"], "numpy", "{json}");
    assert_eq!(json["conventions"]["docstrings"]["numpy"], 5, "{json}");

    let after = read(dir.path());
    // The new docstring is NumPy's.
    let bare = docstring_of(&after, "bare");
    assert!(bare.contains("Parameters\n    ----------\n    n"), "{bare}");
    assert!(!bare.contains("Args:"), "{bare}");
    // The NumPy docstring gets its missing entry as a NumPy entry, in place.
    let add = docstring_of(&after, "add");
    assert!(
        add.contains("    a : int\n        The first.\n    b\n"),
        "{add}"
    );
    assert!(!add.contains("Args:") && !add.contains(":param"), "{add}");
    // The Sphinx docstring stays Sphinx: a field for the missing parameter.
    let fields = docstring_of(&after, "fields");
    assert!(fields.contains(":param width:"), "{fields}");
    assert!(fields.contains(":param text: The text.\n"), "{fields}");
    assert!(fields.contains(":returns: The lines."), "{fields}");
    assert!(
        !fields.contains("Parameters\n") && !fields.contains("Args:"),
        "{fields}"
    );
    // The stale entry goes, the escape stays as written (no `r` prefix).
    let bullet = docstring_of(&after, "bullet");
    assert!(
        bullet.starts_with("Join with \\N{BULLET} marks."),
        "{bullet}"
    );
    assert!(!bullet.contains("    y : int"), "{bullet}");
    assert!(bullet.contains("    x\n"), "{bullet}");
    assert!(!after.contains("r\"\"\"Join"), "{after}");
    // What the person wrote in the complete docstrings is untouched.
    for name in ["sub", "mul"] {
        assert_eq!(docstring_of(&after, name), docstring_of(&before, name));
    }

    // `check` then reports nothing but placeholders; a second run writes nothing.
    let checked = run(dir.path(), &["run", "check", "pkg", "--format", "json"]);
    let found = codes(&checked);
    assert!(
        !found.is_empty() && found.iter().all(|c| c == "DP120"),
        "{found:?}\n{after}"
    );
    let again = run(dir.path(), &["run", "generate", "pkg", "--check"]);
    assert_eq!(again.status, 0, "{}{}", again.stdout, again.stderr);
}

#[test]
fn a_configured_style_sets_new_docstrings_and_keeps_the_others_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    numpy_project(dir.path());
    let ran = run(
        dir.path(),
        &["run", "generate", "pkg", "--set", "style.name=\"google\""],
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let after = read(dir.path());
    let bare = docstring_of(&after, "bare");
    assert!(bare.contains("Args:\n        n"), "{bare}");
    let add = docstring_of(&after, "add");
    assert!(add.contains("    b\n"), "{add}");
    assert!(!add.contains("Args:"), "{add}");
    assert!(docstring_of(&after, "fields").contains(":param width:"));
}

#[test]
fn check_reads_each_docstring_in_its_own_convention() {
    let dir = tempfile::tempdir().expect("temp dir");
    numpy_project(dir.path());
    let checked = run(dir.path(), &["run", "check", "pkg", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&checked.stdout).expect("json");
    let mut found: Vec<String> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{} {}", f["line"], f["code"].as_str().unwrap_or("")))
        .collect();
    found.sort();
    // add: b undocumented; fields: width undocumented; bullet: x undocumented,
    // y extraneous; bare: no docstring (at the docstring, the entry, the def).
    // The complete NumPy and Sphinx docstrings have no finding.
    let text = read(dir.path());
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("{needle}"))
    };
    let mut expected = vec![
        format!("{} DOC101", line("def add(") + 1),
        format!("{} DOC101", line("def fields(") + 1),
        format!("{} DOC101", line("def bullet(") + 1),
        format!("{} DOC102", line("    y : int")),
        format!("{} DP102", line("def bare(")),
    ];
    expected.sort();
    assert_eq!(found, expected, "{}", checked.stdout);
}

#[test]
fn a_real_model_replaces_placeholders_and_keeps_the_persons_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("pkg")).expect("mkdir");
    let path = dir.path().join("pkg/shop.py");
    std::fs::write(
        &path,
        r#""""Shop."""


def price(cents, rate):
    """Compute a price.

    The rate is a percentage.

    Args:
        cents: The price in cents, as a person wrote it.
        rate: TODO.

    Returns:
        TODO.
    """
    return cents * rate


def check(cents):
    """TODO: Return the check.

    Args:
        cents: TODO.

    Raises:
        ValueError: TODO.
    """
    if cents < 0:
        raise ValueError(cents)
"#,
    )
    .expect("write");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let key = "sk-docpipe-conventions-test";
    let server = rt.block_on(FakeServer::start(
        Auth::OpenAi(Some(key.to_string())),
        well_behaved(),
    ));
    let out = docpipe(dir.path())
        .args(["run", "generate", "pkg"])
        .args(["--set", "model.provider=\"openai\""])
        .args(["--set", &format!("model.base_url=\"{}/v1\"", server.url)])
        .args(["--set", "model.name=\"gpt-4o-mini\""])
        .env("OPENAI_API_KEY", key)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The person's docstring was in the prompt, marked entries are asked for.
    let prompts: Vec<String> = server.requests().iter().map(|r| r.prompt()).collect();
    assert!(
        prompts
            .iter()
            .any(|p| p.contains("The price in cents, as a person wrote it.")),
        "{prompts:?}"
    );
    let after = std::fs::read_to_string(&path).expect("read");
    let doc = docstring_of(&after, "price");
    assert!(!doc.contains("TODO"), "{doc}");
    assert!(doc.contains("        rate: The rate.\n"), "{doc}");
    assert!(doc.contains("    Returns:\n        The result.\n"), "{doc}");
    // What the person wrote stays as written.
    assert!(
        doc.starts_with("Compute a price.\n\n    The rate is a percentage.\n"),
        "{doc}"
    );
    assert!(
        doc.contains("        cents: The price in cents, as a person wrote it.\n"),
        "{doc}"
    );
    let skeleton = docstring_of(&after, "check");
    assert_eq!(
        skeleton,
        "Do the thing.\n\n    Args:\n        cents: The cents.\n\n    Raises:\n        ValueError: On error.\n    "
    );
    let checked = run(dir.path(), &["run", "check", "pkg", "--format", "json"]);
    assert!(codes(&checked).is_empty(), "{}", checked.stdout);
}

#[test]
fn docs_reads_each_docstring_in_its_own_convention() {
    let dir = tempfile::tempdir().expect("temp dir");
    numpy_project(dir.path());
    let out_dir = dir.path().join("api");
    let ran = docpipe(dir.path())
        .args(["run", "docs", "pkg", "-q"])
        .env("DOCPIPE_DOCS_DIR", &out_dir)
        .output()
        .expect("run");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let page = std::fs::read_to_string(out_dir.join("pkg.numbers.md"))
        .or_else(|_| std::fs::read_to_string(out_dir.join("numbers.md")))
        .unwrap_or_else(|e| panic!("no page in {}: {e}", out_dir.display()));
    // NumPy sections and Sphinx fields become the same lists, not code blocks.
    assert!(page.contains("- `a` (`int`): The first."), "{page}");
    assert!(page.contains("- `int`: The difference."), "{page}");
    assert!(page.contains("- `text`: The text."), "{page}");
    assert!(!page.contains("----------"), "{page}");
    assert!(!page.contains(":param"), "{page}");
}
