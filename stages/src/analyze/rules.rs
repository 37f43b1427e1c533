//! The analyzer's rules: one type per finding code, documented the way ruff
//! documents its rules. Codes are stable: a code is never reused for another
//! meaning. `DOC001`..`DOC003` (unreadable, undecodable, syntax error) are
//! file-level codes of [`crate::python::codes`].

use docpipe_core::model::{Finding, Severity};

/// A rule: its stable code, a kebab-case name and what to do about a finding.
pub trait Rule {
    /// Stable code (`DOC201`).
    const CODE: &'static str;
    /// Kebab-case name (`undocumented-parameter`).
    const NAME: &'static str;
    /// What to do, as a fix title.
    const FIX: &'static str;

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
}

macro_rules! rule {
    ($(#[$doc:meta])* $ty:ident, $code:literal, $name:literal, $fix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;

        impl Rule for $ty {
            const CODE: &'static str = $code;
            const NAME: &'static str = $name;
            const FIX: &'static str = $fix;
        }
    };
}

rule!(
    /// ## What it does
    /// Checks for modules without a docstring.
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
    UndocumentedModule, "DOC100", "undocumented-module", "Add a docstring at the top of the module"
);

rule!(
    /// ## What it does
    /// Checks for classes without a docstring.
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
    UndocumentedClass, "DOC101", "undocumented-class", "Add a docstring to the class"
);

rule!(
    /// ## What it does
    /// Checks for functions and methods without a docstring.
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
    UndocumentedFunction, "DOC102", "undocumented-function", "Add a docstring to the function"
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
    MissingSummary, "DOC110", "missing-summary", "Start the docstring with a one-line summary"
);

rule!(
    /// ## What it does
    /// Checks for parameters of the signature that the docstring does not document.
    ///
    /// `self` and `cls` never need documenting; the parameters of `__init__`
    /// may be documented in the class docstring instead, so they are not
    /// reported on `__init__`.
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
    UndocumentedParameter, "DOC201", "undocumented-parameter", "Document the parameter in the docstring's parameters section"
);

rule!(
    /// ## What it does
    /// Checks for documented parameters that the signature does not have.
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
    ExtraneousParameter, "DOC202", "extraneous-parameter", "Remove the parameter from the docstring or correct its name"
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
    MissingReturns, "DOC301", "missing-returns", "Add a \"Returns\" section to the docstring"
);

rule!(
    /// ## What it does
    /// Checks for docstrings with a Returns section on functions that return
    /// nothing (no `return <value>`, not a generator, no return annotation
    /// other than `None`, not abstract).
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
    ExtraneousReturns, "DOC302", "extraneous-returns", "Remove the \"Returns\" section from the docstring"
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
    MissingYields, "DOC401", "missing-yields", "Add a \"Yields\" section to the docstring"
);

rule!(
    /// ## What it does
    /// Checks for docstrings with a Yields section on functions that do not yield.
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
    ExtraneousYields, "DOC402", "extraneous-yields", "Remove the \"Yields\" section from the docstring"
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

/// Every rule of the analyzer, in code order.
pub fn all() -> Vec<RuleInfo> {
    fn info<R: Rule>() -> RuleInfo {
        RuleInfo {
            code: R::CODE,
            name: R::NAME,
            fix: R::FIX,
        }
    }
    vec![
        info::<UndocumentedModule>(),
        info::<UndocumentedClass>(),
        info::<UndocumentedFunction>(),
        info::<MissingSummary>(),
        info::<UndocumentedParameter>(),
        info::<ExtraneousParameter>(),
        info::<MissingReturns>(),
        info::<ExtraneousReturns>(),
        info::<MissingYields>(),
        info::<ExtraneousYields>(),
        info::<UndocumentedException>(),
    ]
}
