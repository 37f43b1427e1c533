"""Compares docpipe's findings with pydoclint's and its coverage with interrogate's.

Usage: compare.py ROOT PYDOCLINT_OUTPUT DOCPIPE_JSON

ROOT is the tree all three tools ran over; PYDOCLINT_OUTPUT is pydoclint's
output with file names in every line; DOCPIPE_JSON is `docpipe run check
--format json`. interrogate runs here, through its Python API, with its
default settings.

Both tools' findings become facts keyed by file, the line of the `def`, a
category and an item (a parameter or exception name, or nothing):

- params: a parameter missing from the docstring (pydoclint DOC101/DOC103,
  docpipe DOC101), or documented but not in the signature (DOC102/DOC103,
  docpipe DOC102);
- returns: DOC201 missing, DOC202 extraneous (the same codes in both);
- yields: DOC402 missing, DOC403 extraneous;
- raises: exceptions raised but not documented (pydoclint DOC501/DOC503,
  docpipe DOC501), documented but not raised (DOC502/DOC503);
- coverage: definitions without a docstring (interrogate's misses, docpipe's
  DP100-DP102).

Files either tool could not read or parse are left out of every category.
Each difference (a fact only one tool has) is put in the first class of
CLASSES whose test accepts it; the classes say why the tools differ, and
the README lists the deliberate ones. Prints Markdown.
"""

import ast
import collections
import json
import os
import re
import sys

from interrogate import config as interrogate_config
from interrogate import coverage as interrogate_coverage


# --- reading the tools' output ------------------------------------------------

PYDOCLINT_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<code>DOC\d+): (?P<msg>.*)$")
SIG_NOT_DOC = "Arguments in the function signature but not in the docstring: ["
DOC_NOT_SIG = "Arguments in the docstring but not in the function signature: ["
RAISES = re.compile(
    r"Raised exceptions in the docstring: \[(?P<doc>[^\]]*)\]\. Raised exceptions in the body: \[(?P<body>[^\]]*)\]"
)
BACKTICK = re.compile(r"`([^`]*)`")


def arg_names(msg, lead):
    """Names of the pydoclint list `[a: int, *b: dict[str, int]]` after `lead`."""
    at = msg.find(lead)
    if at < 0:
        return []
    depth, parts, current = 0, [], ""
    for ch in msg[at + len(lead):]:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return [p.split(":", 1)[0].strip().lstrip("*") for p in parts if p.split(":", 1)[0].strip()]


def exception_names(items):
    return [x.strip().strip("'\"") for x in items.split(",") if x.strip()]


def short(exception):
    return exception.rsplit(".", 1)[-1]


def read_pydoclint(path, root):
    facts = set()
    broken = set()
    for raw in open(path, encoding="utf-8", errors="replace"):
        m = PYDOCLINT_LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        rel = os.path.relpath(os.path.abspath(m["path"]), os.path.abspath(root))
        line, code, msg = int(m["line"]), m["code"], m["msg"]
        if code in ("DOC001", "DOC002"):
            # DOC001: a docstring it could not parse (it checks nothing else
            # there); DOC002: a file it could not parse.
            broken.add(rel) if code == "DOC002" else facts.add((rel, line, "unparsed", ""))
        elif code == "DOC103":
            missing = arg_names(msg, SIG_NOT_DOC)
            extra = arg_names(msg, DOC_NOT_SIG)
            for n in missing:
                # `**kwargs` documented as `kwargs` is in both lists: pydoclint
                # wants the stars. A fact of its own, so it is classified.
                facts.add((rel, line, "params-missing" if n not in extra else "params-unstarred", n))
            for n in extra:
                if n not in missing:
                    facts.add((rel, line, "params-extra", n))
        elif code == "DOC201":
            facts.add((rel, line, "returns-missing", ""))
        elif code in ("DOC202", "DOC303"):
            # DOC303: a Returns section on `__init__`, docpipe's DOC202 there.
            facts.add((rel, line, "returns-extra", ""))
        elif code == "DOC402":
            facts.add((rel, line, "yields-missing", ""))
        elif code in ("DOC403", "DOC307"):
            facts.add((rel, line, "yields-extra", ""))
        elif code == "DOC501":
            facts.add((rel, line, "raises-missing", "*"))
        elif code == "DOC502":
            facts.add((rel, line, "raises-extra", "*"))
        elif code == "DOC503":
            m2 = RAISES.search(msg)
            if m2:
                doc = {short(e) for e in exception_names(m2["doc"])}
                body = {short(e) for e in exception_names(m2["body"])}
                for e in body - doc:
                    facts.add((rel, line, "raises-missing", e))
                for e in doc - body:
                    facts.add((rel, line, "raises-extra", e))
    return facts, broken


# --- the definitions of the tree, as docpipe names them ---------------------------


class Definitions(ast.NodeVisitor):
    """Each definition's qualified name (docpipe's: `Outer.Inner.method`,
    `function.nested`) with its node and its class, for one file."""

    def __init__(self):
        self.by_name = {}
        self.by_line = {}
        self.stack = []

    def visit_def(self, node):
        qualname = ".".join([n.name for n in self.stack] + [node.name])
        parent = self.stack[-1] if self.stack else None
        # A name may be defined more than once (under `if`/`else`, a property's setter).
        self.by_name.setdefault(qualname, []).append((node, parent))
        self.by_line[node.lineno] = (node, parent, qualname)
        self.stack.append(node)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_def


def definitions(root, rel, cache={}):
    if rel not in cache:
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                tree = ast.parse(fh.read())
        except (SyntaxError, ValueError):
            cache[rel] = None
            return None
        d = Definitions()
        d.visit(tree)
        d.tree = tree
        cache[rel] = d
    return cache[rel]


def read_docpipe(path, root):
    report = json.load(open(path, encoding="utf-8"))
    facts = set()
    broken = set()
    for f in report["findings"]:
        rel = os.path.relpath(os.path.abspath(f["path"]), os.path.abspath(root))
        code, msg, name = f["code"], f["message"], f.get("name", "")
        if code in ("DP001", "DP002", "DP003"):
            broken.add(rel)
            continue
        defs = definitions(root, rel)
        if defs is None:
            continue
        if code == "DP100":
            facts.add((rel, 0, "undocumented", ""))
            continue
        # The definition of that name that starts last at or before the finding.
        candidates = [e for e in defs.by_name.get(name, []) if e[0].lineno <= f["line"]]
        if not candidates:
            continue
        node = max(candidates, key=lambda e: e[0].lineno)[0]
        if code in ("DP101", "DP102"):
            facts.add((rel, node.lineno, "undocumented", ""))
            continue
        names = BACKTICK.findall(msg)
        if code == "DOC101" and isinstance(node, ast.ClassDef):
            # A constructor parameter checked on the class: pydoclint reports it on `__init__`.
            inits = defs.by_name.get(name + ".__init__")
            line = inits[-1][0].lineno if inits else node.lineno
            facts.add((rel, line, "params-missing", names[0].lstrip("*")))
            continue
        category = {
            "DOC101": "params-missing",
            "DOC102": "params-extra",
            "DOC201": "returns-missing",
            "DOC202": "returns-extra",
            "DOC402": "yields-missing",
            "DOC403": "yields-extra",
            "DOC501": "raises-missing",
            "DOC502": "raises-extra",
        }.get(code)
        if category is None:
            continue
        item = ""
        if category.startswith("params"):
            item = names[0].lstrip("*")
        elif category.startswith("raises"):
            item = short(names[0])
        facts.add((rel, node.lineno, category, item))
    return facts, broken, report


def ast_counts(path):
    """Definitions and undocumented ones (no docstring, or an empty one) as Python's ast sees them."""
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read())
    except (SyntaxError, ValueError):
        return 0, 0
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    nodes = [n for n in ast.walk(tree) if isinstance(n, kinds)]
    return len(nodes), sum(1 for n in nodes if not (ast.get_docstring(n) or "").strip())


def read_interrogate(root, files):
    """Definitions interrogate counts as undocumented, with its default settings."""
    conf = interrogate_config.InterrogateConfig()
    cov = interrogate_coverage.InterrogateCoverage(paths=[root], conf=conf)
    facts = set()
    counted = collections.Counter()
    unreadable = set()
    for rel in sorted(files):
        try:
            # One file at a time: interrogate stops at the first file it cannot decode.
            file_result = cov._get_file_coverage(os.path.join(root, rel))
        except (UnicodeDecodeError, SyntaxError, ValueError):
            unreadable.add(rel)
            continue
        if file_result is None:
            continue
        for node in file_result.nodes:
            counted["definitions"] += 1
            if not node.covered:
                counted["undocumented"] += 1
                line = 0 if node.node_type == "Module" else node.lineno
                facts.add((rel, line, "undocumented", ""))
    return facts, counted, unreadable


# --- why the tools differ ---------------------------------------------------------


def raises_in(node):
    """Exception names raised at the node's own level (a bare `raise` in
    `except X:` raises `X`, as both tools read it); whether it raises
    something no name tells."""
    names, reraises = set(), False

    def caught(handler):
        if handler is None or handler.type is None:
            return None
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return [short(ast.unparse(t)) for t in types]

    def walk(n, handler):
        nonlocal reraises
        for child in ast.iter_child_nodes(n):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Raise):
                exc = child.exc
                variable = isinstance(exc, ast.Name) and not exc.id[:1].isupper()
                if exc is None or (variable and handler is not None and handler.name == exc.id):
                    types = caught(handler)
                    if types is None:
                        reraises = True
                    else:
                        names.update(types)
                else:
                    target = exc.func if isinstance(exc, ast.Call) else exc
                    text = short(ast.unparse(target))
                    if not text[:1].isupper():
                        reraises = True
                    names.add(text)
            walk(child, child if isinstance(child, ast.ExceptHandler) else handler)

    walk(node, None)
    return names, reraises


def bare_reraise_of_caught(node):
    """Whether the function has a bare `raise` inside a typed `except`."""
    for handler in ast.walk(node):
        if isinstance(handler, ast.ExceptHandler) and handler.type is not None:
            if any(isinstance(r, ast.Raise) and r.exc is None for r in ast.walk(handler)):
                return True
    return False


def own(node, types):
    """Whether the node's own body (not nested definitions) holds one of `types`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(child, types) or own(child, types):
            return True
    return False


def returns_value(node):
    for child in ast.walk(node):
        pass
    def walk(n):
        for child in ast.iter_child_nodes(n):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Return) and child.value is not None and not (
                isinstance(child.value, ast.Constant) and child.value.value is None
            ):
                return True
            if walk(child):
                return True
        return False
    return walk(node)


def is_method(parent):
    return isinstance(parent, ast.ClassDef)


def decorators(node):
    return {short(ast.unparse(d).split("(")[0]) for d in getattr(node, "decorator_list", [])}


def first_param(node):
    a = node.args
    params = a.posonlyargs + a.args
    return params[0].arg if params else None


def is_stub(node):
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))]
    if len(body) != 1:
        return False
    s = body[0]
    if isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and s.value.value is Ellipsis):
        return True
    if isinstance(s, ast.Raise) and s.exc is not None:
        target = s.exc.func if isinstance(s.exc, ast.Call) else s.exc
        return short(ast.unparse(target)) == "NotImplementedError"
    return False


def docstring_of(node):
    return ast.get_docstring(node, clean=True) or ""


def has_section(doc, titles):
    return any(re.search(rf"^\s*{t}\s*:?\s*$", doc, re.M) for t in titles)


ALL_CATEGORIES = {
    "params-missing", "params-extra", "params-unstarred", "returns-missing", "returns-extra",
    "yields-missing", "yields-extra", "raises-missing", "raises-extra", "undocumented",
}

# Each class: (name, tool that has the fact, categories, test(ctx) -> bool, verdict).
# `ctx` has node, parent, item, doc, fact. The verdict is "deliberate" (the
# README says why) or "fixed" (a difference docpipe removed; none should
# remain) or "pydoclint" (a pydoclint behaviour docpipe does not copy).
CLASSES = [
    (
        "`*args` / `**kwargs` documented without their stars: pydoclint reports the entry missing and extraneous, docpipe reads it as documenting the parameter",
        "pydoclint", {"params-unstarred"},
        lambda c: True,
        "deliberate",
    ),
    (
        "a Returns section on a generator, describing the iterator it returns: docpipe accepts it",
        "pydoclint", {"returns-extra"},
        lambda c: own(c["node"], (ast.Yield, ast.YieldFrom)),
        "deliberate",
    ),
    (
        "a definition with `# noqa` on its header: docpipe honours it (pydoclint's native mode and interrogate do not)",
        "pydoclint", ALL_CATEGORIES,
        lambda c: "noqa" in c["header"].lower(),
        "deliberate",
    ),
    (
        "the parameters of an `__init__` without a docstring, when the class docstring does not hold them: docpipe reports the missing docstring (DP102) instead",
        "pydoclint", {"params-missing"},
        lambda c: getattr(c["node"], "name", "") == "__init__" and not ast.get_docstring(c["node"]),
        "deliberate",
    ),
    (
        "`self`/`cls` that Python does not bind (a function's, a static method's, a nested function's, a second parameter)",
        "docpipe", {"params-missing"},
        lambda c: c["item"] in ("self", "cls"),
        "deliberate",
    ),
    (
        "the bound first parameter of a method not named `self` or `cls` (`mcs`, `metacls`, `klass`)",
        "pydoclint", {"params-missing"},
        lambda c: is_method(c["parent"]) and c["item"] == first_param(c["node"]),
        "deliberate",
    ),
    (
        "a docstring pydoclint cannot parse (its DOC001): it checks nothing else there",
        "docpipe", {"params-missing", "params-extra", "returns-missing", "returns-extra", "yields-missing", "yields-extra", "raises-missing", "raises-extra"},
        lambda c: c["unparsed"],
        "deliberate",
    ),
    (
        "parameters named only with underscores (`_`, `__`): pydoclint's --ignore-underscore-only-args",
        "docpipe", {"params-missing"},
        lambda c: set(c["item"]) == {"_"},
        "deliberate",
    ),
    (
        "a Returns section only because of a return annotation, with no `return <value>` (the function raises, or is a stub)",
        "pydoclint", {"returns-missing"},
        lambda c: not returns_value(c["node"]),
        "deliberate",
    ),
    (
        "`return None` written out: pydoclint counts it as a value",
        "pydoclint", {"returns-missing"},
        lambda c: own(c["node"], ast.Return),
        "deliberate",
    ),
    (
        "a property's return value: docpipe's `ignore_property_returns` (default true)",
        "pydoclint", {"returns-missing"},
        lambda c: {"property", "cached_property"} & decorators(c["node"]),
        "deliberate",
    ),
    (
        "`__init__` or a class: docpipe does not ask for a Returns section",
        "pydoclint", {"returns-missing"},
        lambda c: getattr(c["node"], "name", "") == "__init__",
        "deliberate",
    ),
    (
        "an exception raised by `__init__` without a docstring: docpipe reports the missing docstring (DP102) instead",
        "pydoclint", {"raises-missing", "raises-extra"},
        lambda c: getattr(c["node"], "name", "") == "__init__" and not ast.get_docstring(c["node"]),
        "deliberate",
    ),
    (
        "only `raise NotImplementedError`: docpipe does not ask for it (a placeholder, not an error callers handle)",
        "pydoclint", {"raises-missing"},
        lambda c: "NotImplementedError" in raises_in(c["node"])[0]
        and {e for e in raises_in(c["node"])[0] if e[:1].isupper()} <= {"NotImplementedError"},
        "deliberate",
    ),
    (
        "only exceptions no class name tells (`raise err` of a variable, `raise self.error()`, a bare `raise` under `except:`): docpipe cannot name them, pydoclint asks for a Raises section",
        "pydoclint", {"raises-missing"},
        lambda c: not {e for e in raises_in(c["node"])[0] if e[:1].isupper() and e != "NotImplementedError"},
        "deliberate",
    ),
    (
        "a re-raising function, a stub or an abstract method documenting what it may raise: docpipe does not call that extraneous",
        "pydoclint", {"raises-extra"},
        lambda c: raises_in(c["node"])[1] or is_stub(c["node"]) or "abstractmethod" in decorators(c["node"]),
        "deliberate",
    ),
    (
        "a function taking `**kwargs` documents the keywords it accepts: docpipe does not call them extraneous (as ruff's DOC102)",
        "pydoclint", {"params-extra"},
        lambda c: c["node"].args.kwarg is not None,
        "deliberate",
    ),
    (
        "a function annotated `-> None` whose `return f()` returns nothing: docpipe asks for no Returns section (as pydoclint, whose count differs here only by the parse)",
        "pydoclint", {"returns-missing"},
        lambda c: c["node"].returns is not None and ast.unparse(c["node"].returns).split(".")[-1] in ("None", "NoReturn", "Never"),
        "deliberate",
    ),
    (
        "a function that also defines nested functions: pydoclint misses its own `raise`",
        "docpipe", {"raises-missing"},
        lambda c: any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(c["node"]) if n is not c["node"]),
        "pydoclint",
    ),
    (
        "a Returns section on a function annotated `-> None` that returns nothing: pydoclint reports a type mismatch (DOC203) instead of DOC202",
        "docpipe", {"returns-extra"},
        lambda c: c["node"].returns is not None and ast.unparse(c["node"].returns) == "None",
        "pydoclint",
    ),
    (
        "an exception documented under another module path (`exceptions.X` raised, `package.exceptions.X` documented): docpipe compares class names",
        "pydoclint", {"raises-missing", "raises-extra"},
        lambda c: has_section(c["doc"], ["Raises", "Raise"]) and {short(e) for e in raises_in(c["node"])[0]} & set(re.findall(r"(\w+Error|\w+Exception|\w+Warning)", c["doc"])),
        "deliberate",
    ),
    (
        "a parameters section whose entries are not `name: text` (`name Type: text`, bullets): docpipe reads no entry from it, pydoclint reports each line as an extraneous parameter",
        "pydoclint", {"params-extra"},
        lambda c: " " in c["item"].strip() or not c["item"].replace("_", "").isalnum(),
        "deliberate",
    ),
    (
        "`name : type, optional` read by pydoclint as a second entry `optional`",
        "pydoclint", {"params-extra"},
        lambda c: c["item"] == "optional",
        "pydoclint",
    ),
    (
        "a parameters section with some malformed entries (`stdin, stdout and stderr: ...`): docpipe reads the well-formed ones and reports the others, pydoclint reads none",
        "pydoclint", {"params-missing"},
        lambda c: re.search(rf"^\s*\**{re.escape(c['item'])}\s*(\(|:)", c["doc"] + "\n" + docstring_of(c["parent"]), re.M),
        "pydoclint",
    ),
    (
        "a Returns section on a stub (`raise NotImplementedError`, `pass`, `...`) or an abstract method: it documents what overriding methods return",
        "pydoclint", {"returns-extra"},
        lambda c: is_stub(c["node"]) or "abstractmethod" in decorators(c["node"]),
        "deliberate",
    ),
    (
        "a function that also defines nested functions: pydoclint misses its own `return <value>`",
        "docpipe", {"returns-missing"},
        lambda c: returns_value(c["node"]) and any(
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(c["node"]) if n is not c["node"]
        ),
        "pydoclint",
    ),
    (
        "a generator without a return annotation: pydoclint calls its Yields section extraneous",
        "pydoclint", {"yields-extra"},
        lambda c: own(c["node"], (ast.Yield, ast.YieldFrom)) and c["node"].returns is None,
        "deliberate",
    ),
    (
        "a `yield` inside an expression (`return (yield from x)`): pydoclint misses it",
        "docpipe", {"yields-missing"},
        lambda c: own(c["node"], (ast.Yield, ast.YieldFrom)),
        "pydoclint",
    ),
    (
        "`Raise:`, Napoleon's alias of `Raises:`: pydoclint does not read it",
        "pydoclint", {"raises-missing"},
        lambda c: has_section(c["doc"], ["Raise"]),
        "pydoclint",
    ),
    (
        "a bare `raise` in `except X:` raises `X`: pydoclint reads it so only in some functions",
        "docpipe", {"raises-missing"},
        lambda c: bare_reraise_of_caught(c["node"]),
        "pydoclint",
    ),
    (
        "a Yields section on a function annotated as an iterator: docpipe accepts it (it may return a generator)",
        "docpipe", {"yields-extra"},
        lambda c: False,
        "deliberate",
    ),
    (
        "`yield` inside a nested function or lambda: not the outer function's",
        "pydoclint", {"yields-missing"},
        lambda c: not own(c["node"], (ast.Yield, ast.YieldFrom)),
        "deliberate",
    ),
    (
        "an empty docstring (`\"\"\"\"\"\"`): interrogate and docpipe both count it missing",
        "both", {"undocumented"},
        lambda c: False,
        "fixed",
    ),
]


def header_of(root, rel, node):
    """The source lines of a definition's header, up to the body."""
    if node is None or not getattr(node, "body", None):
        return ""
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    return "\n".join(lines[node.lineno - 1 : node.body[0].lineno - 1] or lines[node.lineno - 1 : node.lineno])


def classify(fact, tool, other, context):
    file, line, category, item = fact
    defs = definitions(context["root"], file)
    node, parent = None, None
    if defs is not None and line in defs.by_line:
        node, parent, _ = defs.by_line[line]
    c = {
        "file": file,
        "line": line,
        "item": item,
        "node": node,
        "parent": parent,
        "doc": docstring_of(node) if node is not None else "",
        "header": header_of(context["root"], file, node),
        "unparsed": (file, line, "unparsed", "") in context["pydoclint_all"],
        "other": other,
    }
    if node is None and category != "undocumented":
        return "a definition the comparison could not locate", "unexplained"
    for name, who, categories, test, verdict in CLASSES:
        if who not in (tool, "both") or category not in categories:
            continue
        try:
            if test(c):
                return name, verdict
        except Exception:  # a test that does not apply to this node
            continue
    return "unexplained", "unexplained"


def main():
    root, pydoclint_out, docpipe_json = sys.argv[1:4]
    pd_facts, pd_broken = read_pydoclint(pydoclint_out, root)
    dp_facts, dp_broken, report = read_docpipe(docpipe_json, root)
    files = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith(".py"):
                files.add(os.path.relpath(os.path.join(d, f), root))
    broken = pd_broken | dp_broken
    compared = files - broken
    context = {"root": root, "pydoclint_all": pd_facts}
    def in_files(facts):
        # Raises are compared per function: pydoclint's DOC501 says only that
        # a Raises section is missing, docpipe names each exception.
        return {
            (f[0], f[1], f[2], "" if f[2].startswith("raises") else f[3])
            for f in facts
            if f[0] in compared
        }

    pd_facts, dp_facts = in_files(pd_facts), in_files(dp_facts)
    it_facts, it_counts, it_unreadable = read_interrogate(root, compared)

    print(
        f"{len(files)} files; {len(compared)} compared ({len(broken)} that a tool could not read or parse left out; "
        f"{len(it_unreadable)} more that interrogate cannot decode left out of coverage).\n"
    )
    categories = [
        ("parameters", ("params-missing", "params-extra", "params-unstarred")),
        ("returns", ("returns-missing", "returns-extra")),
        ("yields", ("yields-missing", "yields-extra")),
        ("raises", ("raises-missing", "raises-extra")),
    ]
    print("| category | pydoclint | docpipe | in common | only pydoclint | only docpipe |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = []
    for title, cats in categories:
        a = {f for f in pd_facts if f[2] in cats}
        b = {f for f in dp_facts if f[2] in cats}
        rows.append((title, a, b))
        print(f"| {title} | {len(a)} | {len(b)} | {len(a & b)} | {len(a - b)} | {len(b - a)} |")
    a = it_facts
    b = {f for f in dp_facts if f[2] == "undocumented" and f[0] not in it_unreadable}
    rows.append(("coverage (undocumented definitions; interrogate)", a, b))
    print(f"| coverage: undocumented definitions (interrogate) | {len(a)} | {len(b)} | {len(a & b)} | {len(a - b)} | {len(b - a)} |")
    it_def, it_undoc = it_counts["definitions"], it_counts["undocumented"]
    # docpipe's counts over the same files: its report's, less the files it
    # read that are not compared (its counts equal Python's ast, a test says so).
    dp_def, dp_undoc = report["definitions"], report["undocumented"]
    for rel in sorted(files - dp_broken - (compared - it_unreadable)):
        d, u = ast_counts(os.path.join(root, rel))
        dp_def, dp_undoc = dp_def - d, dp_undoc - u
    print(
        f"Coverage over the {len(compared - it_unreadable)} files all three read: "
        f"interrogate {100 * (it_def - it_undoc) / max(it_def, 1):.3f}% ({it_def - it_undoc} of {it_def} definitions), "
        f"docpipe {100 * (dp_def - dp_undoc) / max(dp_def, 1):.3f}% ({dp_def - dp_undoc} of {dp_def}).\n"
    )

    print("Differences by class (\"deliberate\" ones are explained in the README):\n")
    print("| category | only in | class | verdict | count | example |")
    print("|---|---|---|---|---:|---|")
    unexplained = 0
    for title, a, b in rows:
        for tool, mine, other in (("pydoclint", a - b, b), ("docpipe", b - a, a)):
            groups = collections.defaultdict(list)
            for fact in sorted(mine):
                name, verdict = classify(fact, tool, other, context)
                groups[(name, verdict)].append(fact)
            for (name, verdict), facts in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                if verdict == "unexplained":
                    unexplained += len(facts)
                f = facts[0]
                example = f"`{f[0]}:{f[1]}` {f[3]}".rstrip()
                tool_name = "interrogate" if title.startswith("coverage") and tool == "pydoclint" else tool
                print(f"| {title.split(' ')[0]} | {tool_name} | {name} | {verdict} | {len(facts)} | {example} |")
    print(f"\nUnexplained differences: {unexplained}.")
    show = int(os.environ.get("SHOW_UNEXPLAINED", "0"))
    if show:
        for title, a, b in rows:
            for tool, mine, other in (("pydoclint", a - b, b), ("docpipe", b - a, a)):
                shown = 0
                for fact in sorted(mine):
                    if classify(fact, tool, other, context)[1] == "unexplained" and shown < show:
                        print(f"  {title} only {tool}: {fact}", file=sys.stderr)
                        shown += 1


if __name__ == "__main__":
    main()
