"""Compares a tree of Python files with the copy docpipe rewrote, with
Python's own parser (independent of the tree-sitter check docpipe makes):

- every file that compiled before compiles after;
- its code is the same once docstrings are set aside (`ast.dump` of both,
  without the first string statement of each module, class and function);
- its comments are the same, in order (`tokenize`);
- a file that did not compile before is byte for byte as it was.

    python3 same_code.py BEFORE_DIR AFTER_DIR

Prints one line per problem and a summary; exits 1 when there is a problem.
"""

import ast
import io
import os
import sys
import tokenize
import warnings

warnings.simplefilter("ignore")
DEFS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def code_of(source, name):
    tree = compile(source, name, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    for node in ast.walk(tree):
        if isinstance(node, DEFS) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:]
    return ast.dump(tree, include_attributes=False)


def comments_of(source):
    tokens = tokenize.tokenize(io.BytesIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def main(before, after):
    problems = files = changed = 0
    for d, _, names in os.walk(before):
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            old_path = os.path.join(d, name)
            rel = os.path.relpath(old_path, before)
            new_path = os.path.join(after, rel)
            files += 1
            old = open(old_path, "rb").read()
            try:
                new = open(new_path, "rb").read()
            except OSError as e:
                print(f"{rel}: missing after the run: {e}")
                problems += 1
                continue
            changed += old != new
            try:
                old_code = code_of(old, rel)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                if old != new:
                    print(f"{rel}: did not compile, and was changed")
                    problems += 1
                continue
            try:
                new_code = code_of(new, rel)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
                print(f"{rel}: compiled before, not after: {e}")
                problems += 1
                continue
            if old_code != new_code:
                print(f"{rel}: the code changed")
                problems += 1
            try:
                if comments_of(old) != comments_of(new):
                    print(f"{rel}: the comments changed")
                    problems += 1
            except (tokenize.TokenError, SyntaxError) as e:
                print(f"{rel}: cannot tokenize: {e}")
                problems += 1
    print(f"{files} files, {changed} changed, {problems} problems")
    return 1 if problems or not files else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
