use std::ops::Range;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Excerpt;

/// What kind of definition a [`CodeUnit`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// A whole module (its docstring is the file's first statement).
    Module,
    /// A `class` statement.
    Class,
    /// A `def` or `async def` outside a class body.
    Function,
    /// A `def` or `async def` directly inside a class body.
    Method,
}

impl UnitKind {
    /// Lower-case name as used in messages and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Module => "module",
            UnitKind::Class => "class",
            UnitKind::Function => "function",
            UnitKind::Method => "method",
        }
    }
}

/// How a parameter is bound, in Python's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// Before a `/`.
    PositionalOnly,
    /// Positional or keyword.
    Normal,
    /// `*args`.
    VarPositional,
    /// After a `*` or `*args`.
    KeywordOnly,
    /// `**kwargs`.
    VarKeyword,
}

/// One parameter of a function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param {
    /// Name without stars.
    pub name: String,
    /// How the parameter binds.
    pub kind: ParamKind,
    /// Annotation as source text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    /// Default value as source text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The quotes of a string literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuoteStyle {
    /// `"""`
    #[serde(rename = "\"\"\"")]
    TripleDouble,
    /// `'''`
    #[serde(rename = "'''")]
    TripleSingle,
    /// `"`
    #[serde(rename = "\"")]
    Double,
    /// `'`
    #[serde(rename = "'")]
    Single,
}

impl QuoteStyle {
    /// The quote characters.
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStyle::TripleDouble => "\"\"\"",
            QuoteStyle::TripleSingle => "'''",
            QuoteStyle::Double => "\"",
            QuoteStyle::Single => "'",
        }
    }
}

/// An existing docstring, located exactly in the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Docstring {
    /// The string's value as Python sees it (escapes processed, before `inspect.cleandoc`).
    pub value: String,
    /// Byte span of the whole literal, prefix and quotes included, in [`SourceFile::text`](super::SourceFile::text).
    pub span: Range<usize>,
    /// String prefix as written (`r`, `u`, `R`...), empty when none.
    pub prefix: String,
    /// Quote style of the literal.
    pub quote: QuoteStyle,
    /// Indentation of the line the literal starts on.
    pub indent: String,
    /// 1-based line of the literal.
    pub line: usize,
}

/// Where a new docstring goes when a unit has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Insertion {
    /// Byte offset in the file text where the docstring line is inserted.
    pub offset: usize,
    /// Indentation of the body (spaces or tabs, as the file has them).
    pub indent: String,
    /// The body sits on the same line as the colon (`def f(x): return x`): the
    /// writer must turn it into a block. Byte span of the inline body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_body: Option<Range<usize>>,
}

/// The message an exception is raised with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RaiseMessage {
    /// The exception as raised (`ValueError`, `errors.Bad`).
    pub exception: String,
    /// The string literal's value (an f-string's text as written).
    pub message: String,
}

/// Which docstring documents the parameters of a class's `__init__`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamsHolder {
    /// The class docstring.
    Class,
    /// The docstring of `__init__` itself.
    Init,
}

/// A class and its own `__init__`, which share the documentation of the
/// constructor's parameters: both units carry the same value, so each can be
/// checked knowing what the other's docstring says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Constructor {
    /// The parameters of `__init__` after the bound `self`.
    pub params: Vec<Param>,
    /// The class docstring's value, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_doc: Option<String>,
    /// The `__init__` docstring's value, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_doc: Option<String>,
    /// Where the parameters are documented, once an analyzer has settled it
    /// (from `[style] init_params` and what the two docstrings hold);
    /// generators and reply checks downstream follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documented_on: Option<ParamsHolder>,
}

/// One documentable definition: a module, class, function or method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeUnit {
    /// File the unit is defined in.
    pub path: PathBuf,
    /// Dotted path inside the module (`Outer.Inner.method`, `f.<locals>.g` style without `<locals>`); empty for the module.
    pub qualname: String,
    /// The defined name (the module's stem for a module).
    pub name: String,
    /// What kind of definition this is.
    pub kind: UnitKind,
    /// `async def`.
    #[serde(default)]
    pub is_async: bool,
    /// Defined inside a function body (at any depth).
    #[serde(default)]
    pub nested: bool,
    /// Qualified name of the enclosing class, when directly inside one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Decorators as source text without the `@`.
    #[serde(default)]
    pub decorators: Vec<String>,
    /// Parameters in order, `self`/`cls` included for methods.
    #[serde(default)]
    pub params: Vec<Param>,
    /// Return annotation as source text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    /// Exception names raised at the unit's own level, deduplicated, in order of appearance.
    #[serde(default)]
    pub raises: Vec<String>,
    /// The body yields at its own level (a generator).
    #[serde(default)]
    pub yields: bool,
    /// The body has a `return <value>` at its own level.
    #[serde(default)]
    pub returns_value: bool,
    /// The message of each exception raised with a string literal
    /// (`raise ValueError("x must be positive")`), the first one per
    /// exception: what the code says about when it is raised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raise_messages: Vec<RaiseMessage>,
    /// The body has an explicit `return None` at its own level (a default
    /// implementation, say): a Returns section may describe what other
    /// implementations return.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub returns_none: bool,
    /// The body raises at its own level an exception that no name tells
    /// (`raise err` of a variable, `raise self.error()`, a bare `raise` under
    /// `except:`), so it may raise exceptions `raises` does not list. A bare
    /// `raise` in `except KeyError:` raises `KeyError`, and is listed so.
    #[serde(default)]
    pub reraises: bool,
    /// McCabe cyclomatic complexity of the body.
    #[serde(default)]
    pub complexity: u32,
    /// The existing docstring. (Boxed: most units to document have none,
    /// and a big file's units are all held at once.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docstring: Option<Box<Docstring>>,
    /// Where a new docstring would go.
    pub insertion: Insertion,
    /// 1-based line of the definition (the `def`/`class` keyword, or 1 for a module).
    pub line: usize,
    /// 1-based column of the definition.
    pub column: usize,
    /// Byte span of the whole definition, decorators included.
    pub span: Range<usize>,
    /// The signature as written, from `def`/`class` to the colon.
    #[serde(default)]
    pub signature: String,
    /// The unit's source text (decorators included), shared with the file's other units.
    #[serde(default)]
    pub source: Excerpt,
    /// Enclosing context for a model prompt: the class header and its docstring summary, or the module docstring summary.
    #[serde(default)]
    pub context: String,
    /// For a class with its own `__init__`, and for that `__init__`: the
    /// constructor's parameters and both docstrings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constructor: Option<Box<Constructor>>,
}

impl CodeUnit {
    /// The name a user reads in messages: the qualified name, or the module path for a module.
    pub fn display_name(&self) -> String {
        self.display_str().to_owned()
    }

    /// [`display_name`](Self::display_name), borrowed.
    pub fn display_str(&self) -> &str {
        if self.qualname.is_empty() {
            &self.name
        } else {
            &self.qualname
        }
    }

    /// Whether the unit has a docstring with text in it. An empty docstring
    /// (`""""""`), or one of only whitespace, documents nothing: it counts
    /// as missing, as interrogate counts it.
    pub fn is_documented(&self) -> bool {
        self.docstring
            .as_ref()
            .is_some_and(|d| !d.value.trim().is_empty())
    }

    /// Whether this is the `__init__` method of a class (not a function that
    /// happens to be called so).
    pub fn is_init(&self) -> bool {
        self.kind == UnitKind::Method && self.name == "__init__"
    }

    /// Whether a decorator with this last path component is present (`property`, `x.setter` as `setter`).
    pub fn has_decorator(&self, name: &str) -> bool {
        self.decorators.iter().any(|d| {
            let head = d.split('(').next().unwrap_or(d).trim();
            head == name || head.rsplit('.').next() == Some(name)
        })
    }
}
