//! The template model: summaries from names, a reply that follows the reply
//! schema, and docstrings that docpipe's own analyzer finds complete after a
//! round trip through every style (render, write, parse back).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use docpipe_core::chat::{ChatRequest, Model};
use docpipe_core::model::{CodeUnit, SourceFile};
use docpipe_core::style::{RenderOptions, Style};
use docpipe_stages::analyze::{AnalyzeSettings, check_doc};
use docpipe_stages::reply::Reply;
use docpipe_stages::style::{GoogleStyle, NumpyStyle, SphinxStyle};
use docpipe_stages::template::{TemplateModel, document, document_with, summary_for};
use docpipe_stages::writer::body_indent;
use docpipe_stages::writer::escape::{docstring_value, normalize_body};

const SAMPLE: &str = r#"
"""Sample."""
import abc


class UserAccount(abc.ABC):
    def __init__(self, name: str, *tags: str, **extra) -> None:
        self.name = name

    def get_user_name(self) -> str:
        return self.name

    def is_valid(self):
        return bool(self.name)

    @property
    def display_name(self):
        return self.name.title()

    @classmethod
    def from_dict(cls, data: dict) -> "UserAccount":
        if "name" not in data:
            raise KeyError("name")
        return cls(data["name"])

    @staticmethod
    def parseJSONValue(text, /, strict=True, *, limit: int = 10):
        raise NotImplementedError

    def iter_items(self) -> "Iterator[int]":
        yield 1

    @abc.abstractmethod
    def close(self): ...

    def __repr__(self):
        return f"UserAccount({self.name!r})"


class HttpClient:
    pass


def fetch(url, timeout: float = 1.5) -> bytes:
    err = ValueError(url)
    if not url:
        raise err
    raise ConnectionError(url)


async def stream_rows(query):
    yield query
    return
"#;

fn units_of(text: &str, path: &str) -> Vec<CodeUnit> {
    let file = SourceFile::from_text(path, text);
    docpipe_stages::python::extract(&file)
        .unwrap_or_else(|f| panic!("{path} does not extract: {f:?}"))
}

fn find<'a>(units: &'a [CodeUnit], qualname: &str) -> &'a CodeUnit {
    units
        .iter()
        .find(|u| u.qualname == qualname)
        .unwrap_or_else(|| panic!("no unit `{qualname}`"))
}

#[test]
fn summaries_come_from_names() {
    let units = units_of(SAMPLE, "pkg/user_accounts.py");
    let summary = |q: &str| summary_for(find(&units, q));
    assert_eq!(summary(""), "User accounts module.");
    assert_eq!(summary("UserAccount"), "User account class.");
    assert_eq!(
        summary("UserAccount.__init__"),
        "Initialize the user account."
    );
    assert_eq!(summary("UserAccount.get_user_name"), "Get the user name.");
    assert_eq!(summary("UserAccount.is_valid"), "Return whether valid.");
    assert_eq!(
        summary("UserAccount.display_name"),
        "Return the display name."
    );
    assert_eq!(summary("UserAccount.from_dict"), "Create from dict.");
    assert_eq!(
        summary("UserAccount.parseJSONValue"),
        "Parse the json value."
    );
    assert_eq!(summary("UserAccount.iter_items"), "Iterate over the items.");
    assert_eq!(
        summary("UserAccount.__repr__"),
        "Return the representation of the user account."
    );
    assert_eq!(summary("HttpClient"), "Http client class.");
    assert_eq!(summary("fetch"), "Fetch.");
}

#[test]
fn documents_every_parameter_return_yield_and_exception() {
    let units = units_of(SAMPLE, "pkg/user_accounts.py");
    let init = document(find(&units, "UserAccount.__init__"));
    let names: Vec<&str> = init.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["name", "tags", "extra"],
        "self is left out, *args and **kwargs are in"
    );
    assert_eq!(init.params[0].ty.as_deref(), Some("str"));
    assert_eq!(
        init.params[1].description, "TODO.",
        "what only a person can say is marked"
    );
    assert_eq!(init.summary, "TODO: Initialize the user account.");
    assert!(
        init.returns.is_none(),
        "`-> None` documents no return value"
    );

    let parse = document(find(&units, "UserAccount.parseJSONValue"));
    let names: Vec<&str> = parse.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["text", "strict", "limit"],
        "a staticmethod keeps its first parameter"
    );
    assert_eq!(
        parse.params[2].description, "TODO. Defaults to ``10``.",
        "a default is a fact of the code, a literal in double backticks"
    );

    let fetch = document(find(&units, "fetch"));
    assert_eq!(
        fetch.returns.as_ref().and_then(|r| r.ty.as_deref()),
        Some("bytes")
    );
    let raised: Vec<&str> = fetch.raises.iter().map(|r| r.exception.as_str()).collect();
    assert_eq!(
        raised,
        ["ConnectionError"],
        "`raise err` names a variable, not a class"
    );

    let items = document(find(&units, "UserAccount.iter_items"));
    assert_eq!(
        items.yields.as_ref().and_then(|y| y.ty.as_deref()),
        Some("int")
    );
    assert!(items.returns.is_none());
    let rows = document(find(&units, "stream_rows"));
    assert!(rows.yields.is_some() && rows.returns.is_none());
}

#[test]
fn a_raise_is_described_by_its_message_or_marked() {
    let units = units_of(
        "def check(x, y):\n    if x < 0:\n        raise ValueError(\"x must be positive\")\n    if y:\n        raise KeyError(f'no {y}')\n    raise TypeError(x)\n",
        "m.py",
    );
    let doc = document_with(find(&units, "check"), "FIXME");
    let raised: Vec<(&str, &str)> = doc
        .raises
        .iter()
        .map(|r| (r.exception.as_str(), r.description.as_str()))
        .collect();
    assert_eq!(
        raised,
        [
            ("ValueError", "x must be positive."),
            ("KeyError", "no {y}."),
            ("TypeError", "FIXME.")
        ]
    );
    assert!(doc.summary.starts_with("FIXME: "));
}

#[test]
fn annotations_and_defaults_are_written_on_one_line() {
    use docpipe_stages::template::one_line_annotation;
    assert_eq!(
        one_line_annotation("dict[\n        str, int]"),
        "dict[str, int]"
    );
    assert_eq!(
        one_line_annotation("Callable[  # the handler\n    [int], str ]"),
        "Callable[[int], str]"
    );
    assert_eq!(one_line_annotation("'User'"), "User");
    assert_eq!(one_line_annotation("'Node[T'"), "'Node[T'");
    assert_eq!(one_line_annotation("int|None"), "int | None");
    // A string that does not read as a type stays the string it is.
    assert_eq!(one_line_annotation("\"a # b\""), "\"a # b\"");
    assert_eq!(one_line_annotation("'a: b'"), "'a: b'");
}

#[tokio::test]
async fn the_reply_follows_the_schema_and_names_each_unit() {
    let units: Vec<Arc<CodeUnit>> = units_of(SAMPLE, "m.py").into_iter().map(Arc::new).collect();
    let response = TemplateModel::default()
        .complete(ChatRequest {
            units: units.clone(),
            ..ChatRequest::default()
        })
        .await
        .unwrap_or_else(|e| panic!("template: {e}"));
    let content = response.content.unwrap_or_default();
    let value: serde_json::Value =
        serde_json::from_str(&content).unwrap_or_else(|e| panic!("{e}: {content}"));
    let validator = jsonschema::validator_for(docpipe_stages::reply::schema())
        .unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let reply: Reply = serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = reply
        .docstrings
        .iter()
        .map(|d| d.qualname.as_str())
        .collect();
    let expected: Vec<&str> = units.iter().map(|u| u.qualname.as_str()).collect();
    assert_eq!(names, expected);
    assert_eq!((response.usage.prompt, response.usage.completion), (0, 0));
}

/// Problems the analyzer finds in the template's docstrings for `units`,
/// after rendering with `style` and parsing the written value back: none but
/// the placeholders (DP120), which are there for a person to replace.
fn round_trip_findings(style: &dyn Style, units: &[CodeUnit]) -> Vec<String> {
    let settings = AnalyzeSettings {
        ignore: vec!["DP120".into()],
        ..AnalyzeSettings::default()
    };
    let mut problems = Vec::new();
    for unit in units {
        let indent = body_indent(unit).to_string();
        let rendered = style.render(
            &document(unit),
            &RenderOptions {
                width: 88,
                indent: indent.clone(),
            },
        );
        let value = docstring_value(&normalize_body(&rendered), &indent);
        let parsed = style.parse(&value);
        for f in check_doc(unit, Some(&parsed), &settings) {
            problems.push(format!(
                "{} `{}` ({}): {} {}",
                unit.path.display(),
                unit.display_name(),
                style.name(),
                f.code,
                f.message
            ));
        }
    }
    problems
}

#[test]
fn template_docstrings_pass_the_analyzer_in_every_style() {
    let units = units_of(SAMPLE, "pkg/user_accounts.py");
    for style in [&GoogleStyle as &dyn Style, &NumpyStyle, &SphinxStyle] {
        let problems = round_trip_findings(style, &units);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

fn stdlib() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

#[test]
fn template_docstrings_pass_the_analyzer_on_stdlib_modules() {
    let Some(root) = stdlib() else {
        eprintln!("python3 not found; skipping");
        return;
    };
    let names = [
        "argparse.py",
        "json/decoder.py",
        "asyncio/tasks.py",
        "collections/__init__.py",
        "pathlib.py",
        "email/message.py",
        "logging/__init__.py",
        "typing.py",
        "dataclasses.py",
        "contextlib.py",
    ];
    let mut units = Vec::new();
    for name in names {
        let path: &Path = &root.join(name);
        let Ok(file) = docpipe_stages::python::read_source(path) else {
            continue;
        };
        units.extend(docpipe_stages::python::extract(&file).unwrap_or_default());
    }
    assert!(units.len() > 1000, "too few units: {}", units.len());
    for style in [&GoogleStyle as &dyn Style, &NumpyStyle, &SphinxStyle] {
        let problems = round_trip_findings(style, &units);
        assert!(
            problems.is_empty(),
            "{} problem(s):\n{}",
            problems.len(),
            problems
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
