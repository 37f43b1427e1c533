//! Every rejection with a file CPython rejects and its valid neighbour that
//! CPython accepts; with a `python3` on PATH, CPython's own verdict on each
//! file is asserted too, so the table cannot drift from the interpreter.

use super::check_text;

/// (name, source CPython 3.11 rejects, the line it rejects, a word of its message).
const REJECTED: &[(&str, &str, usize, &str)] = &[
    (
        "return_at_module_level",
        "x = 1\nreturn x\n",
        2,
        "'return' outside function",
    ),
    (
        "return_in_class",
        "class C:\n    return 1\n",
        2,
        "'return' outside function",
    ),
    (
        "yield_at_module_level",
        "yield 1\n",
        1,
        "'yield' outside function",
    ),
    (
        "yield_in_class",
        "class C:\n    yield 1\n",
        2,
        "'yield' outside function",
    ),
    (
        "yield_in_comprehension",
        "def f():\n    return [(yield) for a in b]\n",
        2,
        "'yield' inside list comprehension",
    ),
    ("break_outside_loop", "break\n", 1, "'break' outside loop"),
    (
        "break_in_def_in_loop",
        "for x in y:\n    def f():\n        break\n",
        3,
        "'break' outside loop",
    ),
    (
        "break_in_loop_else",
        "for x in y:\n    pass\nelse:\n    break\n",
        4,
        "'break' outside loop",
    ),
    (
        "continue_outside_loop",
        "continue\n",
        1,
        "'continue' not properly in loop",
    ),
    (
        "await_at_module_level",
        "await x\n",
        1,
        "'await' outside function",
    ),
    (
        "await_in_def",
        "def f():\n    await x\n",
        2,
        "'await' outside async function",
    ),
    (
        "await_in_lambda",
        "async def f():\n    g = lambda: await x\n",
        2,
        "'await' outside async function",
    ),
    (
        "await_in_list_comprehension",
        "def f():\n    return [await a for a in b]\n",
        2,
        "asynchronous comprehension",
    ),
    (
        "async_for_in_def",
        "def f():\n    async for x in y:\n        pass\n",
        2,
        "'async for' outside async function",
    ),
    (
        "async_with_in_def",
        "def f():\n    async with y:\n        pass\n",
        2,
        "'async with' outside async function",
    ),
    (
        "async_comprehension_in_def",
        "def f():\n    return [x async for x in y]\n",
        2,
        "asynchronous comprehension",
    ),
    (
        "nonlocal_at_module_level",
        "nonlocal x\n",
        1,
        "nonlocal declaration not allowed at module level",
    ),
    (
        "unindent_to_no_level",
        "if x:\n        a = 1\n    b = 2\n",
        3,
        "unindent does not match any outer indentation level",
    ),
    (
        "tabs_after_spaces",
        "if x:\n        a = 1\n\tb = 2\n",
        3,
        "inconsistent use of tabs and spaces",
    ),
    (
        "tabs_and_spaces_nested",
        "if x:\n\tif y:\n\t        a = 1\n        b = 2\n",
        4,
        "inconsistent use of tabs and spaces",
    ),
    (
        "continuation_at_end_of_file",
        "x = 1 \\\n",
        1,
        "unexpected EOF while parsing",
    ),
    (
        "continuation_alone_at_end",
        "x = 1\n    \\\n",
        2,
        "unexpected EOF while parsing",
    ),
    (
        "leading_zeros",
        "x = 0777\n",
        1,
        "leading zeros in decimal integer literals",
    ),
    ("python2_long", "x = 0xFFL\n", 1, "invalid decimal literal"),
    (
        "bare_star",
        "def g(*): pass\n",
        1,
        "named arguments must follow bare *",
    ),
    (
        "bare_star_then_kwargs",
        "def g(*, **k): pass\n",
        1,
        "named arguments must follow bare *",
    ),
    (
        "lambda_bare_star",
        "f = lambda *: 0\n",
        1,
        "named arguments must follow bare *",
    ),
    (
        "default_then_plain",
        "def g(x=1, y): pass\n",
        1,
        "non-default argument follows default argument",
    ),
    (
        "default_then_plain_across_slash",
        "def g(x=1, /, y): pass\n",
        1,
        "non-default argument follows default argument",
    ),
    (
        "duplicate_parameter",
        "def g(x, x): pass\n",
        1,
        "duplicate argument 'x'",
    ),
    (
        "duplicate_star_parameter",
        "def g(x, *x): pass\n",
        1,
        "duplicate argument 'x'",
    ),
    (
        "duplicate_lambda_parameter",
        "f = lambda x, x: 0\n",
        1,
        "duplicate argument 'x'",
    ),
    (
        "tuple_parameter",
        "def f((a, b)): pass\n",
        1,
        "cannot be parenthesized",
    ),
    ("walrus_statement", "x := 5\n", 1, "invalid syntax"),
    ("walrus_assignment", "y = x := 5\n", 1, "invalid syntax"),
    (
        "walrus_return",
        "def f():\n    return x := 5\n",
        2,
        "invalid syntax",
    ),
    (
        "walrus_keyword_argument",
        "f(a=x := 1)\n",
        1,
        "invalid syntax",
    ),
    (
        "fstring_conversion",
        "f\"{x!z}\"\n",
        1,
        "f-string: invalid conversion character",
    ),
    (
        "unknown_character_name",
        "s = \"\\N{NO SUCH NAME}\"\n",
        1,
        "unknown Unicode character name",
    ),
    (
        "truncated_x_escape",
        "s = \"\\x4\"\n",
        1,
        "truncated \\xXX escape",
    ),
    (
        "truncated_u_escape",
        "s = \"\\u12\"\n",
        1,
        "truncated \\uXXXX escape",
    ),
    (
        "non_ascii_bytes",
        "s = b\"caf\u{e9}\"\n",
        1,
        "bytes can only contain ASCII",
    ),
    ("python2_string_prefix", "s = ur\"x\"\n", 1, "string prefix"),
    (
        "python2_except",
        "try:\n    pass\nexcept X, e:\n    pass\n",
        3,
        "multiple exception types must be parenthesized",
    ),
    ("python2_raise", "raise X, 'message'\n", 1, "invalid syntax"),
    ("python2_print", "print 'x'\n", 1, "print"),
    (
        "future_import_late",
        "x = 1\nfrom __future__ import annotations\n",
        2,
        "__future__",
    ),
    (
        "statically_nested_loops",
        NESTED_LOOPS,
        21,
        "too many statically nested blocks",
    ),
];

/// A valid neighbour of each rejected construct: CPython accepts all of them.
const ACCEPTED: &[(&str, &str)] = &[
    ("return_in_def", "def f():\n    return 1\n"),
    ("yield_in_lambda", "f = lambda: (yield)\n"),
    (
        "yield_in_first_iterable",
        "def g():\n    [x for x in [(yield 1)]]\n",
    ),
    ("break_in_loop", "for x in y:\n    if x:\n        break\n"),
    ("continue_in_while", "while x:\n    continue\n"),
    ("await_in_async_def", "async def f():\n    await x\n"),
    (
        "await_in_generator_expression",
        "x = (await y for y in z)\n",
    ),
    (
        "await_in_async_comprehension",
        "async def f():\n    return [await a for a in b]\n",
    ),
    (
        "async_generator_expression_in_def",
        "def f():\n    return (x async for x in y)\n",
    ),
    (
        "nonlocal_in_nested_def",
        "def f():\n    x = 1\n    def g():\n        nonlocal x\n",
    ),
    (
        "matching_unindent",
        "if x:\n    if y:\n        a = 1\n    b = 2\n",
    ),
    ("tabs_only", "if x:\n\tif y:\n\t\ta = 1\n\tb = 2\n"),
    ("continuation_in_comment_at_end", "x = 1\n# c \\\n"),
    ("continuation_then_blank_line", "x = 1 \\\n\n"),
    ("continuation_inside_a_block", "if x: \\\n    pass\n"),
    (
        "comment_ending_in_backslash",
        "if x:\n    # c \\\n    if y:\n        a = 1\n    b = 2\n",
    ),
    ("zeros", "x = 00 + 0_0 + 0o777 + 0777j + 0777.5\n"),
    ("star_then_keyword", "def g(*, a, **k): pass\n"),
    ("defaults_then_keyword_only", "def g(x=1, *, y): pass\n"),
    (
        "walrus_in_condition",
        "if (n := 10) > 5:\n    pass\nwhile x := f():\n    pass\n",
    ),
    (
        "walrus_in_call_and_subscript",
        "f(x := 1)\na[x := 1]\n[y := 1]\n",
    ),
    ("fstring_format_spec", "f\"{x:=10}\" f\"{x!r:>10}\"\n"),
    (
        "character_names",
        "s = \"\\N{BULLET} \\N{bullet} \\N{LINE FEED}\"\nt = f\"\\N{BULLET} {s}\"\n",
    ),
    (
        "raw_and_bytes_escapes",
        "s = r\"\\x4 \\N{NOPE}\" + rb\"\\x4\"\nb = b\"\\N{NOPE}\"\n",
    ),
    (
        "parenthesized_exceptions",
        "try:\n    pass\nexcept (X, Y) as e:\n    raise X('m') from e\n",
    ),
    ("print_call", "print('x')\nprint >>f, 'x'\n"),
    ("twenty_nested_loops", TWENTY_LOOPS),
    ("deep_nesting_in_function", LOOPS_RESET_BY_DEF),
];

const NESTED_LOOPS: &str = "for a in b:\n for a in b:\n  for a in b:\n   for a in b:\n    for a in b:\n     for a in b:\n      for a in b:\n       for a in b:\n        for a in b:\n         for a in b:\n          for a in b:\n           for a in b:\n            for a in b:\n             for a in b:\n              for a in b:\n               for a in b:\n                for a in b:\n                 for a in b:\n                  for a in b:\n                   for a in b:\n                    for a in b:\n                     pass\n";
const TWENTY_LOOPS: &str = "for a in b:\n for a in b:\n  for a in b:\n   for a in b:\n    for a in b:\n     for a in b:\n      for a in b:\n       for a in b:\n        for a in b:\n         for a in b:\n          for a in b:\n           for a in b:\n            for a in b:\n             for a in b:\n              for a in b:\n               for a in b:\n                for a in b:\n                 for a in b:\n                  for a in b:\n                   for a in b:\n                    pass\n";
const LOOPS_RESET_BY_DEF: &str = "for a in b:\n for a in b:\n  for a in b:\n   for a in b:\n    for a in b:\n     for a in b:\n      for a in b:\n       for a in b:\n        for a in b:\n         for a in b:\n          for a in b:\n           for a in b:\n            def f():\n             for a in b:\n              for a in b:\n               for a in b:\n                for a in b:\n                 for a in b:\n                  for a in b:\n                   for a in b:\n                    for a in b:\n                     for a in b:\n                      pass\n";

/// CPython's verdict: `Some(line)` when it rejects `source`, `None` when it
/// compiles. `None` overall when there is no python3.
fn cpython(source: &str) -> Option<Option<usize>> {
    let check = crate::python::verdict::PythonCheck::from_path();
    match check.compile(std::path::Path::new("t.py"), source.as_bytes()) {
        crate::python::verdict::Verdict::Accepted => Some(None),
        crate::python::verdict::Verdict::Rejected(e) => Some(Some(e.line.unwrap_or(0))),
        crate::python::verdict::Verdict::Unavailable => None,
    }
}

fn python_is_there() -> bool {
    crate::python::verdict::find_executable("python3").is_some()
}

#[test]
fn each_construct_cpython_rejects_is_rejected_at_its_line() {
    for &(name, source, line, words) in REJECTED {
        let Some((at, _, message)) = check_text(source) else {
            panic!("{name}: accepted\n{source}");
        };
        assert_eq!(at, line, "{name}: {message}");
        assert!(message.contains(words), "{name}: {message}");
    }
}

#[test]
fn valid_neighbours_are_accepted() {
    for &(name, source) in ACCEPTED {
        assert_eq!(check_text(source), None, "{name}\n{source}");
    }
}

#[test]
fn the_tables_agree_with_the_python_on_path() {
    assert!(
        python_is_there(),
        "this test needs python3 on PATH to confirm the tables (apt-get install python3)"
    );
    for &(name, source, line, _) in REJECTED {
        let verdict = cpython(source).unwrap_or_else(|| panic!("{name}: python3 did not answer"));
        // Python reports a few of these one line off (the continuation: the line after).
        assert!(
            verdict.is_some_and(|l| l == line || l == line + 1),
            "{name}: CPython says {verdict:?}"
        );
    }
    for &(name, source) in ACCEPTED {
        assert_eq!(cpython(source), Some(None), "{name}: CPython rejects it");
    }
}

#[test]
fn nesting_past_the_tokenizer_and_compiler_limits() {
    let parens = |n: usize| format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n));
    assert_eq!(check_text(&parens(200)), None);
    let (_, _, m) = check_text(&parens(201)).unwrap_or_default();
    assert_eq!(m, "too many nested parentheses");
    // `f()()()` nests no parentheses.
    assert_eq!(check_text(&format!("x = f{}\n", "()".repeat(300))), None);

    let indents = |n: usize| -> String {
        (0..n)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(n)
            + "pass\n"
    };
    assert_eq!(check_text(&indents(99)), None);
    let (line, _, m) = check_text(&indents(100)).unwrap_or_default();
    assert_eq!((line, m.as_str()), (101, "too many levels of indentation"));

    let sum = |n: usize| format!("x = {}\n", vec!["1"; n].join("+"));
    assert_eq!(check_text(&sum(2000)), None);
    let (_, _, m) = check_text(&sum(3000)).unwrap_or_default();
    assert!(m.contains("maximum recursion depth"), "{m}");
    let minus = |n: usize| format!("x = {}1\n", "-".repeat(n));
    assert_eq!(check_text(&minus(2000)), None);
    assert!(check_text(&minus(100_000)).is_some());
    // `a and b and ...` is one node for Python, however long.
    assert_eq!(
        check_text(&format!("x = {}\n", vec!["a"; 5000].join(" and "))),
        None
    );
}

#[test]
fn the_nesting_limits_agree_with_the_python_on_path() {
    assert!(
        python_is_there(),
        "this test needs python3 on PATH to confirm the limits (apt-get install python3)"
    );
    for (source, rejected) in [
        (
            format!("x = {}1{}\n", "(".repeat(200), ")".repeat(200)),
            false,
        ),
        (
            format!("x = {}1{}\n", "(".repeat(201), ")".repeat(201)),
            true,
        ),
        (format!("x = {}\n", vec!["1"; 2000].join("+")), false),
        (format!("x = {}\n", vec!["1"; 3000].join("+")), true),
    ] {
        assert_eq!(
            cpython(&source).map(|v| v.is_some()),
            Some(rejected),
            "{}...",
            &source[..40]
        );
        assert_eq!(
            check_text(&source).is_some(),
            rejected,
            "{}...",
            &source[..40]
        );
    }
}
