//! The analyzer's rules: one type per finding code, documented the way ruff
//! documents its rules.
//!
//! Codes mean one thing across tools. Where a rule is the check pydoclint
//! has (and ruff's `DOC` rules, which follow pydoclint), it takes
//! pydoclint's code and meaning: `DOC101` a parameter not documented,
//! `DOC201` a return value not documented, and so on. Rules of docpipe's own
//! take codes in the `DP` range, which neither pydoclint nor ruff uses:
//! `DP100`..`DP102` missing docstrings, `DP110` no summary, and the
//! file-level `DP001`..`DP003` of [`crate::python::codes`]. A code is never
//! reused for another meaning.

use docpipe_core::model::{Finding, Severity};

/// A rule: its stable code, a kebab-case name and what to do about a finding.
pub trait Rule {
    /// Stable code (`DOC201`).
    const CODE: &'static str;
    /// Kebab-case name (`undocumented-parameter`).
    const NAME: &'static str;
    /// What to do, as a fix title.
    const FIX: &'static str;
    /// Checked unless left out by `ignore`; a rule that is not (an opt-in
    /// rule) runs only when `select` or `extend_select` names its code.
    const DEFAULT: bool = true;

    /// A finding of this rule at `line`:`column`.
    fn finding(message: String, line: usize, column: usize) -> Finding {
        Finding {
            code: Self::CODE.into(),
            message,
            line,
            column,
            fix: Some(Self::FIX.into()),
            severity: Severity::Error,
        }
    }
}

/// A rule's code, name and fix for listings (`docpipe stages`, the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    /// Stable code.
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// Fix title.
    pub fix: &'static str,
    /// Checked by default (`false`: opt-in, named in `select` or `extend_select`).
    pub default: bool,
}

macro_rules! rule {
    ($(#[$doc:meta])* $ty:ident, $code:literal, $name:literal, $fix:literal) => {
        rule!($(#[$doc])* $ty, $code, $name, $fix, true);
    };
    ($(#[$doc:meta])* $ty:ident, $code:literal, $name:literal, $fix:literal, $default:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;

        impl Rule for $ty {
            const CODE: &'static str = $code;
            const NAME: &'static str = $name;
            const FIX: &'static str = $fix;
            const DEFAULT: bool = $default;
        }
    };
}

rule!(
    /// ## What it does
    /// Checks for modules without a docstring, or with one that is empty or
    /// only whitespace (interrogate counts those as missing too).
    ///
    /// ## Why is this bad?
    /// The module docstring is the first thing a reader (and `help()`) sees;
    /// it says what the module is for.
    ///
    /// ## Example
    /// ```python
    /// import os
    /// ```
    /// Use instead:
    /// ```python
    /// """Helpers for reading configuration files."""
    /// import os
    /// ```
    UndocumentedModule, "DP100", "undocumented-module", "Add a docstring at the top of the module"
);

rule!(
    /// ## What it does
    /// Checks for classes without a docstring (or with an empty one).
    ///
    /// ## Why is this bad?
    /// A class docstring says what an instance represents and how to build one.
    ///
    /// ## Example
    /// ```python
    /// class Cache:
    ///     ...
    /// ```
    /// Use instead:
    /// ```python
    /// class Cache:
    ///     """In-memory cache of parsed files, keyed by path."""
    /// ```
    UndocumentedClass, "DP101", "undocumented-class", "Add a docstring to the class"
);

rule!(
    /// ## What it does
    /// Checks for functions and methods without a docstring (or with an empty one).
    ///
    /// ## Why is this bad?
    /// Without a docstring, callers must read the body to learn what a
    /// function expects, returns and raises.
    ///
    /// ## Example
    /// ```python
    /// def area(r):
    ///     return 3.14159 * r * r
    /// ```
    /// Use instead:
    /// ```python
    /// def area(r):
    ///     """Area of a circle of radius `r`."""
    ///     return 3.14159 * r * r
    /// ```
    UndocumentedFunction, "DP102", "undocumented-function", "Add a docstring to the function"
);

rule!(
    /// ## What it does
    /// Checks for docstrings without a summary line (empty, or starting with a section).
    ///
    /// ## Why is this bad?
    /// Tools show the first line as the summary (`help()`, IDE tooltips, API
    /// indexes); without it they show nothing useful.
    ///
    /// ## Example
    /// ```python
    /// def f(x):
    ///     """
    ///     Args:
    ///         x: The input.
    ///     """
    /// ```
    /// Use instead:
    /// ```python
    /// def f(x):
    ///     """Scale the input.
    ///
    ///     Args:
    ///         x: The input.
    ///     """
    /// ```
    MissingSummary, "DP110", "missing-summary", "Start the docstring with a one-line summary"
);

rule!(
    /// ## What it does
    /// Checks for parameters of the signature that the docstring does not
    /// document, in any of the style's parameter sections (`Args`,
    /// `Keyword Args`, `Other Parameters`, `:param:`, `:keyword:`, ...).
    ///
    /// Only the parameter Python binds is exempt: the first one of a method
    /// that is not a `@staticmethod`, whatever its name. A parameter called
    /// `self` or `cls` anywhere else is an ordinary parameter.
    ///
    /// The parameters of `__init__` are documented on the class or on
    /// `__init__`, as `[style] init_params` says (`either` by default: the
    /// docstring that has a parameters section; the finding goes on
    /// `__init__` when neither has one, or on the class when `ignore_init`
    /// leaves `__init__` out).
    ///
    /// ## Why is this bad?
    /// A caller cannot tell what an undocumented parameter does.
    ///
    /// ## Example
    /// ```python
    /// def copy(src, dst):
    ///     """Copy a file.
    ///
    ///     Args:
    ///         src: Source path.
    ///     """
    /// ```
    /// Use instead:
    /// ```python
    /// def copy(src, dst):
    ///     """Copy a file.
    ///
    ///     Args:
    ///         src: Source path.
    ///         dst: Destination path.
    ///     """
    /// ```
    UndocumentedParameter, "DOC101", "undocumented-parameter", "Document the parameter in the docstring's parameters section"
);

rule!(
    /// ## What it does
    /// Checks for documented parameters that the signature does not have
    /// (for a class docstring: that its own `__init__` does not take). The
    /// finding points at the entry.
    ///
    /// ## Why is this bad?
    /// A stale parameter (renamed or removed) misleads every reader.
    ///
    /// ## Example
    /// ```python
    /// def open(path):
    ///     """Open a file.
    ///
    ///     Args:
    ///         filename: The file.
    ///     """
    /// ```
    /// Use instead:
    /// ```python
    /// def open(path):
    ///     """Open a file.
    ///
    ///     Args:
    ///         path: The file.
    ///     """
    /// ```
    ExtraneousParameter, "DOC102", "extraneous-parameter", "Remove the parameter from the docstring or correct its name"
);

rule!(
    /// ## What it does
    /// Checks for functions that return a value (`return <expr>` at their own
    /// level) whose docstring has no Returns section. Properties are exempt
    /// unless `ignore_property_returns = false`.
    ///
    /// ## Why is this bad?
    /// The caller needs to know what comes back.
    ///
    /// ## Example
    /// ```python
    /// def count(rows):
    ///     """Count rows."""
    ///     return len(rows)
    /// ```
    /// Use instead:
    /// ```python
    /// def count(rows):
    ///     """Count rows.
    ///
    ///     Returns:
    ///         The number of rows.
    ///     """
    ///     return len(rows)
    /// ```
    MissingReturns, "DOC201", "missing-returns", "Add a \"Returns\" section to the docstring"
);

rule!(
    /// ## What it does
    /// Checks for docstrings with a Returns section on functions that return
    /// nothing (no `return <value>`, not a generator, no return annotation
    /// other than `None`, not abstract, not a stub that only raises
    /// `NotImplementedError`). The finding points at the section.
    ///
    /// ## Why is this bad?
    /// The caller expects a value that never comes.
    ///
    /// ## Example
    /// ```python
    /// def log(msg):
    ///     """Log a message.
    ///
    ///     Returns:
    ///         The message.
    ///     """
    ///     print(msg)
    /// ```
    /// Use instead:
    /// ```python
    /// def log(msg):
    ///     """Log a message."""
    ///     print(msg)
    /// ```
    ExtraneousReturns, "DOC202", "extraneous-returns", "Remove the \"Returns\" section from the docstring"
);

rule!(
    /// ## What it does
    /// Checks for generators (`yield` or `yield from` at their own level)
    /// whose docstring has no Yields section.
    ///
    /// ## Why is this bad?
    /// The caller needs to know what the iteration produces.
    ///
    /// ## Example
    /// ```python
    /// def lines(path):
    ///     """Lines of a file."""
    ///     yield from open(path)
    /// ```
    /// Use instead:
    /// ```python
    /// def lines(path):
    ///     """Lines of a file.
    ///
    ///     Yields:
    ///         Each line, with its newline.
    ///     """
    ///     yield from open(path)
    /// ```
    MissingYields, "DOC402", "missing-yields", "Add a \"Yields\" section to the docstring"
);

rule!(
    /// ## What it does
    /// Checks for docstrings with a Yields section on functions that do not
    /// yield (and whose return annotation is not an iterator). The finding
    /// points at the section.
    ///
    /// ## Why is this bad?
    /// It tells the caller to iterate over something that is not a generator.
    ///
    /// ## Example
    /// ```python
    /// def first(xs):
    ///     """First item.
    ///
    ///     Yields:
    ///         The item.
    ///     """
    ///     return xs[0]
    /// ```
    /// Use instead: a Returns section.
    ExtraneousYields, "DOC403", "extraneous-yields", "Remove the \"Yields\" section from the docstring"
);

rule!(
    /// ## What it does
    /// Checks for exceptions raised explicitly (`raise Name` or
    /// `raise Name(...)` at the function's own level) that the docstring's
    /// Raises section does not name. Bare `raise`, re-raised variables
    /// (lower-case names) and `NotImplementedError` are not reported.
    ///
    /// ## Why is this bad?
    /// A caller cannot handle an exception it does not know about.
    ///
    /// ## Example
    /// ```python
    /// def parse(text):
    ///     """Parse text."""
    ///     if not text:
    ///         raise ValueError("empty")
    /// ```
    /// Use instead:
    /// ```python
    /// def parse(text):
    ///     """Parse text.
    ///
    ///     Raises:
    ///         ValueError: If `text` is empty.
    ///     """
    ///     if not text:
    ///         raise ValueError("empty")
    /// ```
    UndocumentedException, "DOC501", "undocumented-exception", "Add the exception to the docstring's \"Raises\" section"
);

rule!(
    /// ## What it does
    /// Checks for parameter types written in the docstring that contradict
    /// the parameter's annotation.
    ///
    /// Types are compared as types, not as text: whitespace, quotes,
    /// `Optional[X]` / `X | None` / `Union[X, None]` / `X or None`, the order
    /// of a union's members, `typing.` and module prefixes (`Path` is
    /// `pathlib.Path`), `List` / `list` and a NumPy `, optional` are the
    /// same; a bare name matches a generic of that name (`dict` for
    /// `dict[str, int]`), and a type that leaves out `None` matches the
    /// optional annotation. A docstring type that is prose (`list of str`)
    /// is not compared.
    ///
    /// ## Why is this bad?
    /// One of the two is wrong, and a reader cannot tell which.
    ///
    /// ## Example
    /// ```python
    /// def scale(x: float, factor: int = 2):
    ///     """Scale a value.
    ///
    ///     Args:
    ///         x (str): The value.
    ///         factor: The factor.
    ///     """
    /// ```
    /// Use instead:
    /// ```python
    /// def scale(x: float, factor: int = 2):
    ///     """Scale a value.
    ///
    ///     Args:
    ///         x (float): The value.
    ///         factor: The factor.
    ///     """
    /// ```
    ParameterTypeMismatch, "DOC105", "parameter-type-mismatch", "Make the documented type agree with the annotation"
);

rule!(
    /// ## What it does
    /// Checks for a Returns type in the docstring that contradicts the
    /// return annotation (compared as [`ParameterTypeMismatch`] compares).
    ///
    /// ## Why is this bad?
    /// One of the two is wrong, and a caller cannot tell which.
    ///
    /// ## Example
    /// ```python
    /// def count(rows) -> int:
    ///     """Count rows.
    ///
    ///     Returns:
    ///         str: The number of rows.
    ///     """
    /// ```
    /// Use instead: `int: The number of rows.`
    ReturnTypeMismatch, "DOC203", "return-type-mismatch", "Make the documented return type agree with the annotation"
);

rule!(
    /// ## What it does
    /// Checks for a Yields type in the docstring that contradicts the
    /// element type of the return annotation (`Iterator[int]`,
    /// `Generator[int, None, None]`: `int`).
    ///
    /// ## Why is this bad?
    /// One of the two is wrong, and a caller cannot tell which.
    ///
    /// ## Example
    /// ```python
    /// def ids() -> Iterator[int]:
    ///     """Every id.
    ///
    ///     Yields:
    ///         str: An id.
    ///     """
    /// ```
    /// Use instead: `int: An id.`
    YieldTypeMismatch, "DOC404", "yield-type-mismatch", "Make the documented yield type agree with the annotation"
);

rule!(
    /// ## What it does
    /// Checks for exceptions documented in the Raises section that the
    /// body never raises with a `raise` of its own. Functions that re-raise
    /// (a bare `raise`, `raise err`), abstract methods and stubs are not
    /// checked.
    ///
    /// Off by default, as in pydoclint it is noisy: a function often
    /// documents what its callees raise. Turn it on with
    /// `extend_select = ["DOC502"]`.
    ///
    /// ## Why is this bad?
    /// A caller writes handlers for exceptions that never come.
    ///
    /// ## Example
    /// ```python
    /// def parse(text):
    ///     """Parse text.
    ///
    ///     Raises:
    ///         KeyError: Never, any more.
    ///     """
    ///     return text.split()
    /// ```
    /// Use instead: drop the entry.
    ExtraneousException, "DOC502", "extraneous-exception", "Remove the exception from the \"Raises\" section, or raise it", false
);

rule!(
    /// ## What it does
    /// Checks for docstrings that still hold the placeholder (`[style]
    /// placeholder`, `TODO` by default) that the template model writes where
    /// only a person can say what the code is for. The message names each
    /// part that holds it: the summary, the description, a parameter,
    /// Returns, Yields, an exception.
    ///
    /// ## Why is this bad?
    /// A skeleton makes coverage look complete while it tells a reader
    /// nothing; this rule keeps the work visible until it is done.
    ///
    /// ## Example
    /// ```python
    /// def area(r):
    ///     """TODO: Return the area.
    ///
    ///     Args:
    ///         r: TODO.
    ///     """
    /// ```
    /// Use instead:
    /// ```python
    /// def area(r):
    ///     """Area of a circle.
    ///
    ///     Args:
    ///         r: The radius.
    ///     """
    /// ```
    Placeholder, "DP120", "placeholder", "Replace the placeholder with what the code does"
);

rule!(
    /// ## What it does
    /// Checks for `# docpipe: ignore[CODE]` comments that suppress nothing:
    /// the definition has no finding of that code (or, for a bare
    /// `# docpipe: ignore`, none at all). Opt-in: `--warn-unused-ignores`
    /// for one run, or `extend_select = ["DP130"]`. A `# noqa` is not
    /// checked, since other tools read it too.
    ///
    /// ## Why is this bad?
    /// A stale ignore hides the next real finding of that code on the
    /// definition, long after the reason for it went away.
    ///
    /// ## Example
    /// ```python
    /// def area(r):  # docpipe: ignore[DOC201]
    ///     """Area of a circle.
    ///
    ///     Returns:
    ///         The area.
    ///     """
    ///     return 3.14159 * r * r
    /// ```
    /// Use instead:
    /// ```python
    /// def area(r):
    ///     """Area of a circle.
    ///
    ///     Returns:
    ///         The area.
    ///     """
    ///     return 3.14159 * r * r
    /// ```
    UnusedIgnore, "DP130", "unused-ignore", "Remove the code from the comment, or the comment", false
);

/// Every rule of the analyzer: pydoclint's codes in code order, then docpipe's own.
pub fn all() -> &'static [RuleInfo] {
    static RULES: std::sync::OnceLock<Vec<RuleInfo>> = std::sync::OnceLock::new();
    RULES.get_or_init(list)
}

fn list() -> Vec<RuleInfo> {
    fn info<R: Rule>() -> RuleInfo {
        RuleInfo {
            code: R::CODE,
            name: R::NAME,
            fix: R::FIX,
            default: R::DEFAULT,
        }
    }
    vec![
        info::<UndocumentedParameter>(),
        info::<ExtraneousParameter>(),
        info::<ParameterTypeMismatch>(),
        info::<MissingReturns>(),
        info::<ExtraneousReturns>(),
        info::<ReturnTypeMismatch>(),
        info::<MissingYields>(),
        info::<ExtraneousYields>(),
        info::<YieldTypeMismatch>(),
        info::<UndocumentedException>(),
        info::<ExtraneousException>(),
        info::<UndocumentedModule>(),
        info::<UndocumentedClass>(),
        info::<UndocumentedFunction>(),
        info::<MissingSummary>(),
        info::<Placeholder>(),
        info::<UnusedIgnore>(),
    ]
}
