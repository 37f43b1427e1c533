//! Comparing a type written in a docstring with an annotation, as types.
//!
//! A docstring type contradicts an annotation only when they name different
//! types; different spellings of one type agree: whitespace and quotes,
//! `Optional[X]`, `Union[X, None]`, `X | None` and `X or None`, the order of
//! a union's members, module prefixes (`typing.List`, `pathlib.Path`: only
//! the last dotted name counts), the `typing` aliases of builtins (`List`,
//! `Dict`, ...), NumPy's `, optional` and `, default ...` suffixes, and case
//! and underscores in a bare name (`array_like` is `ArrayLike`). A bare name
//! in the docstring matches a generic of that name (`dict` for
//! `dict[str, int]`), and a docstring that leaves `None` out of an optional
//! annotation agrees with it. Text that does not read as a type expression
//! (`list of str`, `str, int`) is never compared.

use std::collections::BTreeSet;

/// A parsed type expression.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ty {
    /// A name, reduced to its last dotted component (`None` included).
    Name(String),
    /// `head[args]`.
    Generic(String, Vec<Ty>),
    /// `[a, b]` inside a generic (`Callable[[int], str]`), or a literal value.
    List(Vec<Ty>),
    /// Members of a union, two or more.
    Union(BTreeSet<Ty>),
}

/// Whether `documented` (a docstring's type) contradicts `annotation`
/// (source text of an annotation). `false` when either does not read as a
/// type expression.
pub fn contradicts(documented: &str, annotation: &str) -> bool {
    let (Some(doc), Some(ann)) = (parse_documented(documented), parse(annotation)) else {
        return false;
    };
    !agrees(&doc, &ann)
}

/// The element type of a generator annotation (`Iterator[int]`,
/// `Generator[int, None, None]`, `AsyncIterable[str]`: the first argument),
/// as source text; `None` for any other annotation.
pub fn yielded_type(annotation: &str) -> Option<String> {
    let a = unquote(annotation.trim());
    let open = a.find('[')?;
    let head = a[..open].rsplit('.').next().unwrap_or("").trim();
    let generator = matches!(
        head,
        "Iterator"
            | "Iterable"
            | "Generator"
            | "AsyncIterator"
            | "AsyncIterable"
            | "AsyncGenerator"
    );
    if !generator || !a.ends_with(']') {
        return None;
    }
    let inner = &a[open + 1..a.len() - 1];
    let mut depth = 0usize;
    for (i, c) in inner.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return Some(inner[..i].trim().to_string()),
            _ => {}
        }
    }
    Some(inner.trim().to_string())
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

fn agrees(doc: &Ty, ann: &Ty) -> bool {
    if doc == ann || is_any(doc) || is_any(ann) {
        return true;
    }
    match (doc, ann) {
        // `dict` documents `dict[str, int]`.
        (Ty::Name(d), Ty::Generic(a, _)) if d == a => true,
        // `int` documents `int | None`; `int | str` documents `int | str | None`.
        (_, Ty::Union(members)) if members.contains(&none()) => {
            let without: BTreeSet<Ty> = members.iter().filter(|m| **m != none()).cloned().collect();
            let rest = if without.len() == 1 {
                without.into_iter().next().unwrap_or_else(none)
            } else {
                Ty::Union(without)
            };
            agrees(doc, &rest)
        }
        (Ty::Generic(d, dargs), Ty::Generic(a, aargs)) => {
            d == a
                && dargs.len() == aargs.len()
                && dargs.iter().zip(aargs).all(|(x, y)| agrees(x, y))
        }
        (Ty::Union(d), Ty::Union(a)) => {
            d.len() == a.len() && d.iter().all(|x| a.iter().any(|y| agrees(x, y)))
        }
        _ => false,
    }
}

/// `Any`, `object`, or a `Literal[...]` whose values are not types.
fn is_any(ty: &Ty) -> bool {
    match ty {
        Ty::Name(n) => n == "any" || n == "object",
        Ty::Generic(n, _) => n == "literal",
        _ => false,
    }
}

fn none() -> Ty {
    Ty::Name("None".into())
}

/// A docstring's type: NumPy's `, optional` and `, default ...` dropped,
/// `or` read as `|`.
fn parse_documented(text: &str) -> Option<Ty> {
    let mut t = text.trim();
    for suffix in [", optional", ",optional", " optional"] {
        if let Some(stripped) = t.strip_suffix(suffix) {
            t = stripped.trim_end();
        }
    }
    if let Some(at) = t.find(", default").or_else(|| t.find(" default ")) {
        t = t[..at].trim_end();
    }
    // NumPy's protocol words are prose: `dict-like`, `array-like`,
    // `file-like object`.
    let hyphenated = t
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
        .any(|w| w.trim_matches('-').contains('-'));
    if hyphenated {
        return None;
    }
    let with_bars = t.replace(" or ", " | ");
    // `function` is how NumPy's guide writes a callable.
    let words: Vec<&str> = with_bars
        .split(' ')
        .map(|w| if w == "function" { "callable" } else { w })
        .collect();
    parse(&words.join(" "))
}

/// Parses an annotation (or a docstring type) into a [`Ty`].
fn parse(text: &str) -> Option<Ty> {
    let t = unquote(text.trim());
    let tokens = tokens(t)?;
    let mut parser = Parser { tokens, at: 0 };
    let ty = parser.union()?;
    (parser.at == parser.tokens.len()).then_some(ty)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Name(String),
    Open,
    Close,
    Comma,
    Bar,
}

fn tokens(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' | '\r' | '"' | '\'' => {
                chars.next();
                // Two words in a row are prose, not a type.
                if matches!(c, ' ' | '\t' | '\n' | '\r')
                    && matches!(out.last(), Some(Token::Name(_)))
                {
                    let mut look = chars.clone();
                    while look.peek().is_some_and(|c| c.is_whitespace()) {
                        look.next();
                    }
                    if look
                        .peek()
                        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                    {
                        return None;
                    }
                }
            }
            '[' => {
                chars.next();
                out.push(Token::Open);
            }
            ']' => {
                chars.next();
                out.push(Token::Close);
            }
            ',' => {
                chars.next();
                out.push(Token::Comma);
            }
            '|' => {
                chars.next();
                out.push(Token::Bar);
            }
            c if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Name(name));
            }
            '(' | ')' | '{' | '}' | ':' | '=' | '*' => {
                // Tuples, dict displays, `Literal[...]` values, signatures:
                // not worth reading.
                return None;
            }
            _ => return None,
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn union(&mut self) -> Option<Ty> {
        let mut members = vec![self.primary()?];
        while self.peek() == Some(&Token::Bar) {
            self.at += 1;
            members.push(self.primary()?);
        }
        Some(union_of(members))
    }

    fn primary(&mut self) -> Option<Ty> {
        match self.peek()?.clone() {
            Token::Open => {
                self.at += 1;
                let items = self.list()?;
                Some(Ty::List(items))
            }
            Token::Name(raw) => {
                self.at += 1;
                let name = canonical_name(&raw);
                if self.peek() != Some(&Token::Open) {
                    return Some(Ty::Name(name));
                }
                self.at += 1;
                let args = self.list()?;
                Some(match name.as_str() {
                    "optional" if args.len() == 1 => {
                        union_of(args.into_iter().chain([none()]).collect())
                    }
                    "union" => union_of(args),
                    // `Annotated[X, metadata]` is `X`.
                    "annotated" if !args.is_empty() => args.into_iter().next().unwrap_or_else(none),
                    _ => Ty::Generic(name, args),
                })
            }
            _ => None,
        }
    }

    /// Items up to the closing `]` (consumed).
    fn list(&mut self) -> Option<Vec<Ty>> {
        let mut items = Vec::new();
        if self.peek() == Some(&Token::Close) {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(self.union()?);
            match self.peek()? {
                Token::Comma => self.at += 1,
                Token::Close => {
                    self.at += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }
}

/// A union of `members`, flattened; one member is itself.
fn union_of(members: Vec<Ty>) -> Ty {
    let mut set = BTreeSet::new();
    for m in members {
        match m {
            Ty::Union(inner) => set.extend(inner),
            other => {
                set.insert(other);
            }
        }
    }
    if set.len() == 1 {
        set.into_iter().next().unwrap_or_else(none)
    } else {
        Ty::Union(set)
    }
}

/// The last dotted component, `typing` aliases of builtins lowered, and a
/// name written in lower case with underscores (`array_like`) compared
/// without them.
fn canonical_name(raw: &str) -> String {
    let last = raw.rsplit('.').next().unwrap_or(raw);
    let aliased = match last {
        "List" => "list",
        "Dict" => "dict",
        "Set" => "set",
        "FrozenSet" => "frozenset",
        "Tuple" => "tuple",
        "Type" => "type",
        "Text" => "str",
        "NoneType" => "None",
        other => other,
    };
    match aliased {
        "None" | "list" | "dict" | "set" | "frozenset" | "tuple" | "type" | "str" => {
            aliased.to_string()
        }
        other => other.replace('_', "").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_type_agree() {
        for (doc, ann) in [
            ("int", "int"),
            ("Optional[int]", "int | None"),
            ("int or None", "Optional[int]"),
            ("None | int", "Union[int, None]"),
            ("int, optional", "int | None"),
            ("int", "Optional[int]"),
            ("dict", "dict[str, int]"),
            ("List[str]", "list[str]"),
            ("Path", "pathlib.Path"),
            ("str | bytes", "Union[bytes, str]"),
            ("array_like", "ArrayLike"),
            ("Dict[str, Optional[int]]", "dict[str, int | None]"),
            ("Node", "'Node'"),
            ("int, default 2", "int"),
            ("Callable[[int], str]", "typing.Callable[[int], str]"),
        ] {
            assert!(!contradicts(doc, ann), "{doc} vs {ann}");
        }
    }

    #[test]
    fn different_types_contradict() {
        for (doc, ann) in [
            ("str", "int"),
            ("list[str]", "list[int]"),
            ("int | str", "int | bytes"),
            ("Optional[str]", "int"),
            ("dict[str, int]", "dict"),
        ] {
            assert!(contradicts(doc, ann), "{doc} vs {ann}");
        }
    }

    #[test]
    fn prose_is_never_compared() {
        for doc in ["list of str", "str, int", "an integer", "tuple (int, int)"] {
            assert!(!contradicts(doc, "Callable[[int], str]"), "{doc}");
        }
    }

    #[test]
    fn loose_annotations_agree_with_anything() {
        assert!(!contradicts("callable", "Callable[[int], str]"));
        assert!(!contradicts("function, optional", "Callable[[int], str]"));
        assert!(!contradicts("dict-like", "Mapping[str, int]"));
        assert!(!contradicts(
            "bool or dict-like, optional",
            "bool | Mapping[str, bool] | None"
        ));
        assert!(!contradicts("str", "Literal['a', 'b']"));
        assert!(!contradicts("str", "Any"));
        assert!(!contradicts("int", "Annotated[int, Gt(0)]"));
    }

    #[test]
    fn the_yielded_type_is_the_first_argument() {
        assert_eq!(yielded_type("Iterator[int]").as_deref(), Some("int"));
        assert_eq!(
            yielded_type("typing.Generator[dict[str, int], None, None]").as_deref(),
            Some("dict[str, int]")
        );
        assert_eq!(yielded_type("list[int]"), None);
    }
}
