"""Reads every docstring docpipe wrote in the given files with numpydoc.

Usage: python numpydoc_check.py MARKER FILE...

A docstring holding MARKER (the placeholder docpipe's template writes) is one
docpipe wrote or completed. numpydoc's own parser must read it without a
warning, find a Parameters entry for every parameter the signature has (the
first one of a method excepted), and find the Returns, Yields and Raises
sections the text has. Prints one line per problem and exits 1 when there is
any; prints the number of docstrings read.
"""

import ast
import sys
import warnings

from numpydoc.docscrape import NumpyDocString


def signature_names(node, in_class):
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args]
    decorators = {getattr(d, "id", getattr(d, "attr", "")) for d in node.decorator_list}
    # Python passes `__new__` its class even when it is written as a
    # staticmethod (docpipe's rule too).
    if in_class and names and ("staticmethod" not in decorators or node.name == "__new__"):
        names = names[1:]
    names += [a.arg for a in args.kwonlyargs]
    if args.vararg:
        names.append(args.vararg.arg)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


def main():
    marker, paths = sys.argv[1], sys.argv[2:]
    problems = []
    read = 0
    for path in paths:
        with open(path, "rb") as f:
            try:
                tree = ast.parse(f.read())
            except (SyntaxError, ValueError):
                continue  # a file Python cannot read; docpipe did not write it
        parents = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
                continue
            doc = ast.get_docstring(node, clean=True)
            if not doc or marker not in doc:
                continue
            read += 1
            where = f"{path}:{getattr(node, 'lineno', 1)}"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    parsed = NumpyDocString(doc)
                except Exception as e:  # numpydoc raises on malformed sections
                    problems.append(f"{where}: numpydoc cannot read it: {e}")
                    continue
            for w in caught:
                # docpipe writes only the sections numpydoc knows; an unknown
                # one is a person's (turtle.py underlines prose as a title).
                if str(w.message).startswith("Unknown section"):
                    continue
                problems.append(f"{where}: numpydoc warns: {w.message}")
            lines = doc.splitlines()
            for title in ("Returns", "Yields", "Raises"):
                has = any(
                    l == title and i + 1 < len(lines) and set(lines[i + 1]) == {"-"}
                    for i, l in enumerate(lines)
                )
                if has and not parsed[title]:
                    problems.append(f"{where}: numpydoc finds no entry under {title}")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                l == "Parameters" for l in lines
            ):
                # A def under `if` or `try` in a class body is a method too.
                holder = parents.get(node)
                while holder is not None and not isinstance(
                    holder, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)
                ):
                    holder = parents.get(holder)
                in_class = isinstance(holder, ast.ClassDef)
                wanted = signature_names(node, in_class)
                documented = set()
                for p in parsed["Parameters"] + parsed["Other Parameters"]:
                    for name in p.name.split(","):
                        documented.add(name.strip().lstrip("*").replace("\\", ""))
                missing = [n for n in wanted if n not in documented]
                if missing:
                    problems.append(f"{where}: numpydoc reads no entry for {', '.join(missing)}")
    for p in problems:
        print(p)
    print(f"numpydoc read {read} docstrings, {len(problems)} problems", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
