//! Parameter lists CPython refuses: `def g(*)`, `def g(x=1, y)`,
//! `def g(x, x)`, `def g((a, b))`.

use tree_sitter::Node;

use crate::python::extract::{kind_of, named_children};

/// The first problem of the parameter list `params` (of a `def`, or of a
/// lambda when `lambda`), as (byte offset, message).
pub(super) fn check(params: Node<'_>, text: &str, lambda: bool) -> Option<(usize, String)> {
    let mut names: Vec<&str> = Vec::new();
    let mut seen_default = false;
    let mut keyword_only = false;
    // A bare `*` waiting for a named parameter after it.
    let mut bare_star: Option<usize> = None;
    for p in named_children(params) {
        let at = p.start_byte();
        let (name, kind) = match kind_of(p) {
            "identifier" => (Some(p), Kind::Plain),
            "typed_parameter" => match named_children(p).find(|c| kind_of(*c) != "type") {
                Some(inner) if kind_of(inner) == "list_splat_pattern" => {
                    (splat_name(inner), Kind::Star)
                }
                Some(inner) if kind_of(inner) == "dictionary_splat_pattern" => {
                    (splat_name(inner), Kind::DoubleStar)
                }
                inner => (inner, Kind::Plain),
            },
            "default_parameter" | "typed_default_parameter" => {
                let name = p.child_by_field_name("name");
                if name.is_some_and(|n| kind_of(n) == "tuple_pattern") {
                    return Some((at, parenthesized(lambda)));
                }
                (name, Kind::Default)
            }
            "list_splat_pattern" => (splat_name(p), Kind::Star),
            "dictionary_splat_pattern" => (splat_name(p), Kind::DoubleStar),
            "keyword_separator" => (None, Kind::BareStar),
            "positional_separator" => (None, Kind::Slash),
            "tuple_pattern" => return Some((at, parenthesized(lambda))),
            _ => continue,
        };
        match kind {
            Kind::Plain | Kind::Default => {
                if keyword_only {
                    bare_star = None;
                } else if kind == Kind::Default {
                    seen_default = true;
                } else if seen_default {
                    return Some((at, "non-default argument follows default argument".into()));
                }
            }
            Kind::Star => keyword_only = true,
            Kind::BareStar => {
                keyword_only = true;
                bare_star = Some(at);
            }
            Kind::DoubleStar => {
                if let Some(star) = bare_star {
                    return Some((star, "named arguments must follow bare *".into()));
                }
            }
            Kind::Slash => {}
        }
        if let Some(name) = name {
            let name = &text[name.start_byte()..name.end_byte()];
            if names.contains(&name) {
                return Some((
                    at,
                    format!("duplicate argument '{name}' in function definition"),
                ));
            }
            names.push(name);
        }
    }
    bare_star.map(|star| (star, "named arguments must follow bare *".into()))
}

/// Python 2's tuple parameters (`def f((a, b))`).
fn parenthesized(lambda: bool) -> String {
    let what = if lambda {
        "Lambda expression parameters"
    } else {
        "Function parameters"
    };
    format!("{what} cannot be parenthesized")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Default,
    Star,
    DoubleStar,
    BareStar,
    Slash,
}

/// The identifier inside `*args` or `**kwargs`.
fn splat_name(node: Node<'_>) -> Option<Node<'_>> {
    named_children(node).find(|c| kind_of(*c) == "identifier")
}
