"""Copies a tree of Python files with every docstring taken out.

Usage: undocument.py SRC DST

Each docstring (the first statement of a module, class or function body,
when it is a string) of a class or function becomes `pass` on its first
line, so every body stays valid; a module's goes (a `from __future__`
import may follow it). Files this Python cannot compile, before or after,
are copied as they are. Prints how many docstrings went.
"""

import ast
import os
import shutil
import sys
import warnings


def undocument(text):
    tree = ast.parse(text)
    spans = []
    for node in ast.walk(tree):
        if not isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            continue
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            e = body[0]
            replacement = "" if isinstance(node, ast.Module) else "pass"
            spans.append(
                (e.lineno, e.end_lineno, e.col_offset, e.end_col_offset, replacement)
            )
    lines = text.splitlines(keepends=True)
    # From the bottom up, so earlier line numbers stay right.
    for start, end, col, end_col, replacement in sorted(spans, reverse=True):
        # ast's columns count UTF-8 bytes.
        first = lines[start - 1].encode("utf-8")
        last = lines[end - 1].encode("utf-8")
        prefix = first[:col].decode("utf-8")
        # Whatever follows the literal on its last line (`; x = 1`) stays.
        tail = last[end_col:].decode("utf-8")
        if not replacement and not (prefix + tail).strip():
            lines[start - 1 : end] = []
        else:
            lines[start - 1 : end] = [prefix + replacement + tail]
    return "".join(lines), len(spans)


def main():
    # Compiling the test suite's oddities warns (`is` with a literal); not our business.
    warnings.simplefilter("ignore")
    src, dst = sys.argv[1], sys.argv[2]
    removed = 0
    for d, dirs, files in os.walk(src):
        dirs[:] = [x for x in dirs if x not in ("__pycache__",)]
        for f in files:
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(d, f), src)
            out = os.path.join(dst, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            try:
                with open(os.path.join(d, f), encoding="utf-8") as fh:
                    text = fh.read()
                compile(text, f, "exec", dont_inherit=True)
                new, n = undocument(text)
                compile(new, f, "exec", dont_inherit=True)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                shutil.copy2(os.path.join(d, f), out)
                continue
            with open(out, "w", encoding="utf-8", newline="") as fh:
                fh.write(new)
            removed += n
    print(removed)


if __name__ == "__main__":
    main()
