//! Which parameters of a definition its docstring documents.
//!
//! One place decides this for the analyzer, the reply checks, the prompt, the
//! template model and the writer, so that what `generate` writes is what
//! `check` asks for.

use docpipe_core::model::{CodeUnit, Param, ParamKind, ParamsHolder, UnitKind};

/// Whether Python binds the first parameter of `unit` when it is called: the
/// first positional parameter of a method (a `def` in a class body, at any
/// depth of `if`/`try` there), whatever its name (`self`, `cls`, `mcs`,
/// `metacls`), unless the method is a `@staticmethod`. `__new__` is an
/// implicit static method, but its class argument is passed by
/// `type.__call__` and is never documented, so it counts as bound;
/// `__init_subclass__` and `__class_getitem__` are implicit class methods.
///
/// Nothing else is exempt: a parameter called `self` or `cls` of a function,
/// of a nested function or of a static method, or in a second position, is
/// an ordinary parameter.
pub fn binds_first_param(unit: &CodeUnit) -> bool {
    unit.kind == UnitKind::Method
        && (unit.name == "__new__" || !unit.has_decorator("staticmethod"))
        && unit
            .params
            .first()
            .is_some_and(|p| matches!(p.kind, ParamKind::PositionalOnly | ParamKind::Normal))
}

/// What the return annotation of `unit` promises: `Some(false)` for `None`,
/// `NoReturn` and `Never` (nothing comes back, whatever `return f()` says),
/// `Some(true)` for any other annotation, `None` without one.
pub fn annotated_return(unit: &CodeUnit) -> Option<bool> {
    let annotation = unit.returns.as_deref()?.trim();
    let bare = annotation.trim_matches(|c| c == '"' || c == '\'');
    let last = bare.rsplit('.').next().unwrap_or(bare);
    Some(!matches!(last, "None" | "NoReturn" | "Never"))
}

/// Whether the docstring of `unit` (a function or method) needs a Returns
/// section: it has a `return <value>` and its annotation does not say it
/// returns nothing. A generator needs one only for a value it returns.
pub fn needs_returns(unit: &CodeUnit) -> bool {
    unit.returns_value && annotated_return(unit) != Some(false)
}

/// The parameters of `unit`'s own signature that a docstring documents:
/// all of them but the one Python binds ([`binds_first_param`]).
pub fn signature_params(unit: &CodeUnit) -> &[Param] {
    let skip = usize::from(binds_first_param(unit));
    unit.params.get(skip..).unwrap_or(&[])
}

/// The parameters a docstring of `unit` may have entries for: its own
/// [`signature_params`], then those of the class's `__init__` when the unit
/// carries them.
pub fn signature_and_constructor_params(unit: &CodeUnit) -> impl Iterator<Item = &Param> {
    signature_params(unit)
        .iter()
        .chain(unit.constructor.iter().flat_map(|c| c.params.iter()))
}

/// Where the parameters of a class's `__init__` are documented for `unit` (a
/// class with its own `__init__`, or that `__init__`), as an analyzer
/// settled it; `None` for any other unit.
///
/// A unit that no analyzer has seen counts as documented on `__init__`.
pub fn constructor_holder(unit: &CodeUnit) -> Option<ParamsHolder> {
    let constructor = unit.constructor.as_ref()?;
    Some(constructor.documented_on.unwrap_or(ParamsHolder::Init))
}

/// The parameters the docstring of `unit` must document: a function's or a
/// method's signature parameters ([`signature_params`]); for a class, the
/// parameters of its `__init__` when they are documented on the class; for
/// an `__init__` whose parameters are documented on the class, none.
pub fn params_to_document(unit: &CodeUnit) -> &[Param] {
    match unit.kind {
        UnitKind::Module => &[],
        UnitKind::Class => match (&unit.constructor, constructor_holder(unit)) {
            (Some(c), Some(ParamsHolder::Class)) => &c.params,
            _ => &[],
        },
        UnitKind::Function | UnitKind::Method => {
            if unit.is_init() && constructor_holder(unit) == Some(ParamsHolder::Class) {
                &[]
            } else {
                signature_params(unit)
            }
        }
    }
}

/// The parameters a docstring of `unit` may mention without being wrong:
/// the signature's (bound parameter excluded) for a function or method, the
/// constructor's for a class with its own `__init__`. `None` when any name
/// goes (a module, a class without its own `__init__`, whose docstring may
/// list the fields a dataclass or a base class's constructor takes).
pub fn params_allowed(unit: &CodeUnit) -> Option<&[Param]> {
    match unit.kind {
        UnitKind::Module => None,
        UnitKind::Class => unit.constructor.as_ref().map(|c| c.params.as_slice()),
        UnitKind::Function | UnitKind::Method => Some(signature_params(unit)),
    }
}

#[cfg(test)]
mod tests {
    use docpipe_core::model::SourceFile;

    use super::*;
    use crate::python::extract;

    /// The names of `qualname`'s parameters that a docstring must document.
    fn documented(source: &str, qualname: &str) -> Vec<String> {
        let file = SourceFile::from_text("m.py", source);
        let units = extract(&file).expect("the source parses");
        let unit = units
            .iter()
            .find(|u| u.qualname == qualname)
            .unwrap_or_else(|| panic!("no unit `{qualname}`"));
        params_to_document(unit)
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }

    #[test]
    fn cls_is_an_ordinary_parameter_of_a_function() {
        let src = "def command(name, cls=None, **attrs):\n    pass\n";
        assert_eq!(documented(src, "command"), ["name", "cls", "attrs"]);
    }

    #[test]
    fn only_the_first_parameter_of_a_method_is_bound() {
        let src = "class A:\n    def m(self, cls):\n        pass\n";
        assert_eq!(documented(src, "A.m"), ["cls"]);
    }

    #[test]
    fn self_of_a_nested_function_is_an_ordinary_parameter() {
        let src = "class A:\n    def m(self):\n        def inner(self, x):\n            pass\n";
        assert_eq!(documented(src, "A.m.inner"), ["self", "x"]);
        let src = "def outer():\n    def helper(self):\n        pass\n";
        assert_eq!(documented(src, "outer.helper"), ["self"]);
    }

    #[test]
    fn the_bound_parameter_is_exempt_whatever_its_name() {
        let src = "class M(type):\n    def make(mcs, x):\n        pass\n    @classmethod\n    def build(metacls, y):\n        pass\n    def odd(this, z):\n        pass\n";
        assert_eq!(documented(src, "M.make"), ["x"]);
        assert_eq!(documented(src, "M.build"), ["y"]);
        assert_eq!(documented(src, "M.odd"), ["z"]);
    }

    #[test]
    fn implicit_class_and_static_methods_bind_their_first_parameter() {
        let src = "class A:\n    def __new__(cls, *args):\n        pass\n    def __init_subclass__(cls, **kw):\n        pass\n    def __class_getitem__(cls, item):\n        pass\n";
        assert_eq!(documented(src, "A.__new__"), ["args"]);
        assert_eq!(documented(src, "A.__init_subclass__"), ["kw"]);
        assert_eq!(documented(src, "A.__class_getitem__"), ["item"]);
    }

    #[test]
    fn a_def_under_if_in_a_class_body_is_a_method() {
        let src = "import sys\nclass A:\n    if sys.version_info > (3,):\n        def m(self, x):\n            pass\n    else:\n        try:\n            def n(self, y):\n                pass\n        except Exception:\n            pass\n";
        assert_eq!(documented(src, "A.m"), ["x"]);
        assert_eq!(documented(src, "A.n"), ["y"]);
    }

    #[test]
    fn a_static_method_binds_nothing() {
        let src = "class A:\n    @staticmethod\n    def s(self, x):\n        pass\n    @staticmethod\n    def __new__(cls):\n        pass\n";
        assert_eq!(documented(src, "A.s"), ["self", "x"]);
        assert!(documented(src, "A.__new__").is_empty());
    }

    #[test]
    fn a_method_whose_first_parameter_is_variadic_or_keyword_only_binds_nothing() {
        let src = "class A:\n    def m(*args):\n        pass\n    def k(*, x):\n        pass\n";
        assert_eq!(documented(src, "A.m"), ["args"]);
        assert_eq!(documented(src, "A.k"), ["x"]);
    }

    #[test]
    fn constructor_parameters_go_where_they_are_documented() {
        let src = "class A:\n    def __init__(self, a, b=1):\n        pass\n";
        let file = SourceFile::from_text("m.py", src);
        let mut units = extract(&file).expect("the source parses");
        let names = |u: &CodeUnit| -> Vec<String> {
            params_to_document(u)
                .iter()
                .map(|p| p.name.clone())
                .collect()
        };
        // Unsettled: on `__init__`, as an analyzer decides by default.
        assert!(names(&units[1]).is_empty());
        assert_eq!(names(&units[2]), ["a", "b"]);
        for unit in &mut units[1..] {
            if let Some(c) = unit.constructor.as_mut() {
                c.documented_on = Some(ParamsHolder::Class);
            }
        }
        assert_eq!(names(&units[1]), ["a", "b"]);
        assert!(names(&units[2]).is_empty());
        // A class without its own `__init__` has nothing to document, and any name goes.
        let plain = extract(&SourceFile::from_text("m.py", "class B:\n    x: int\n"))
            .expect("the source parses");
        assert!(names(&plain[1]).is_empty());
        assert!(params_allowed(&plain[1]).is_none());
    }

    #[test]
    fn the_last_init_of_a_class_is_its_constructor_and_overloads_are_not() {
        let src = "from typing import overload\nclass A:\n    @overload\n    def __init__(self, a: int): ...\n    def __init__(self, a, b):\n        pass\n    if True:\n        def __init__(self, c):\n            pass\n";
        let units = extract(&SourceFile::from_text("m.py", src)).expect("the source parses");
        let class = units.iter().find(|u| u.qualname == "A").expect("class A");
        let params: Vec<&str> = class
            .constructor
            .as_ref()
            .map(|c| c.params.iter().map(|p| p.name.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(params, ["c"]);
    }
}
