//! Property test: the template's entries parse back as written. Signatures
//! are generated with annotations and defaults that span lines, carry
//! comments and odd spacing, and string annotations with brackets that do not
//! balance; each is extracted by the real extractor, documented by the
//! template with every type kept, rendered in Google, NumPy and Sphinx, and
//! parsed again: every parameter comes back with its name, its type on one
//! line (whitespace collapsed as `ast.unparse` prints it) and its text, and
//! the Returns type likewise.

use std::sync::Arc;

use docpipe_core::model::{DocModel, SourceFile};
use docpipe_core::style::{RenderOptions, Style};
use docpipe_stages::style::{GoogleStyle, NumpyStyle, SphinxStyle};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ANNOTATIONS: &[&str] = &[
    "int",
    "dict[\n        str,  int\n    ]",
    "list[  str ]",
    "'Node[T'",
    "\"Tree]\"",
    "'a: b'",
    "Callable[\n        [int, str],   # the arguments\n        bool,\n    ]",
    "tuple[int, ...]",
    "Optional['Node']",
    "int | None",
    "Literal['a', \"b\"]",
    "'x' 'y'",
];

const DEFAULTS: &[&str] = &[
    "1",
    "2.0",
    "None",
    "'text'",
    "(\n        1,\n        2,\n    )",
    "{'a':   1}",
    "lambda x: x",
    "-1",
];

fn signature(rng: &mut Rng, i: usize) -> String {
    let n = 1 + rng.below(4);
    let mut params = Vec::new();
    let mut defaults = false;
    for k in 0..n {
        let mut p = format!("p{k}");
        if rng.below(4) > 0 {
            p.push_str(": ");
            p.push_str(rng.pick(ANNOTATIONS));
        }
        // After the first default every parameter has one.
        defaults |= rng.below(3) == 0;
        if defaults {
            p.push_str(" = ");
            p.push_str(rng.pick(DEFAULTS));
        }
        params.push(p);
    }
    let ret = if rng.below(2) == 0 {
        format!(" -> {}", rng.pick(ANNOTATIONS))
    } else {
        String::new()
    };
    let body = if ret.is_empty() { "pass" } else { "return p0" };
    format!(
        "def f{i}(\n    {},\n){ret}:\n    {body}\n",
        params.join(",\n    ")
    )
}

/// How a type reads once its whitespace is collapsed (line breaks and
/// comments inside brackets are gone).
fn collapsed(ty: &str) -> String {
    docpipe_stages::template::one_line_annotation(ty)
}

fn check(style: &dyn Style, doc: &DocModel, where_: &str) {
    let text = style.render(
        doc,
        &RenderOptions {
            width: 88,
            indent: "    ".into(),
        },
    );
    let back = style.parse(&text);
    assert_eq!(
        back.params.len(),
        doc.params.len(),
        "{where_} in {}:\n{text}",
        style.name()
    );
    for (a, b) in doc.params.iter().zip(&back.params) {
        assert_eq!(a.name, b.name, "{where_} in {}:\n{text}", style.name());
        assert_eq!(a.ty, b.ty, "{where_} in {}:\n{text}", style.name());
        assert_eq!(
            a.description,
            b.description,
            "{where_} in {}:\n{text}",
            style.name()
        );
        if let Some(ty) = &a.ty {
            assert!(!ty.contains('\n'), "{where_}: {ty:?}");
        }
    }
    if let Some(r) = &doc.returns {
        let got = back
            .returns
            .as_ref()
            .unwrap_or_else(|| panic!("{where_}:\n{text}"));
        assert_eq!(r.ty, got.ty, "{where_} in {}:\n{text}", style.name());
    }
}

#[test]
fn rendered_entries_parse_back_as_written() {
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let styles: [&dyn Style; 3] = [&GoogleStyle, &NumpyStyle, &SphinxStyle];
    for i in 0..300 {
        let source = signature(&mut rng, i);
        let file = Arc::new(SourceFile::from_text("gen.py", source.clone()));
        let units = docpipe_stages::python::extract(&file)
            .unwrap_or_else(|e| panic!("{source}\ndoes not extract: {e:?}"));
        let unit = units
            .iter()
            .find(|u| u.name == format!("f{i}"))
            .unwrap_or_else(|| panic!("no f{i} in {source}"));
        let doc = docpipe_stages::template::document(unit);
        for (p, param) in doc.params.iter().zip(&unit.params) {
            let want = param.annotation.as_deref().map(collapsed);
            assert_eq!(p.ty, want, "{source}");
        }
        for style in styles {
            check(style, &doc, &source);
        }
    }
}

#[test]
fn string_annotations_come_out_as_the_type_they_name() {
    assert_eq!(collapsed("'Node[T'"), "'Node[T'");
    assert_eq!(collapsed("\"Tree\""), "Tree");
    assert_eq!(collapsed("dict[\n    str,  int\n]"), "dict[str, int]");
    assert_eq!(collapsed("tuple[int,]"), "tuple[int,]");
    assert_eq!(collapsed("'x' \"y\""), "xy");
    assert_eq!(collapsed("(\n    1,\n    2,\n)"), "(1, 2)");
    assert_eq!(
        collapsed("Callable[\n    [int, str],   # the arguments\n    bool,\n]"),
        "Callable[[int, str], bool]"
    );
}
