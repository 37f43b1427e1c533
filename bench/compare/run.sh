#!/usr/bin/env bash
# Compares `docpipe run check` with pydoclint (findings) and interrogate
# (coverage) on a copy of the CPython standard library, category by category,
# and prints the Markdown of BENCHMARKS.md's "## check compared with pydoclint
# and interrogate" (compare.py does the comparing; see its docstring).
#
# Settings, chosen so that the tools check the same things:
# - pydoclint: Google style (docpipe's default convention), every docstring
#   checked (not only those with more than a summary), __init__ docstrings
#   allowed (docpipe's `init_params = "either"`), no type-hint, argument
#   order, class attribute or style-mismatch checks (docpipe has none of
#   them; its type checks compare only types written on both sides);
# - docpipe: the built-in `check` pipeline with the opt-in DOC502 on;
# - interrogate: its defaults (nothing ignored), as docpipe's.
#
# Needs python3 (with venv and pip) and cargo, and network access to PyPI.
# PYDOCLINT and INTERROGATE pin the versions (defaults: those measured).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== tools" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "pydoclint==${PYDOCLINT:-0.12.0}" "interrogate==${INTERROGATE:-1.7.0}"
bin="$work/venv/bin"

echo "== copying the standard library (.py files, no site-packages)" >&2
copy="$work/stdlib"
python3 "$repo/bench/copy_stdlib.py" "$copy"

echo "== building docpipe (release)" >&2
(cd "$repo" && cargo build --release -q)
docpipe="$repo/target/release/docpipe"

echo "== pydoclint" >&2
"$bin/pydoclint" --style=google \
    --skip-checking-short-docstrings=False \
    --allow-init-docstring=True \
    --arg-type-hints-in-docstring=False --arg-type-hints-in-signature=False \
    --check-arg-order=False --check-class-attributes=False --check-style-mismatch=False \
    --show-filenames-in-every-violation-message=True --quiet \
    "$copy" > "$work/pydoclint.txt" 2>&1 || true

echo "== docpipe" >&2
(cd "$work" && "$docpipe" run check "$copy" --format json -q \
    --set 'stages.analyze.extend_select=["DOC502"]' > "$work/docpipe.json") || true

echo "== comparing (interrogate runs here)" >&2
echo "pydoclint $("$bin/pydoclint" --version 2>&1 | tail -1), interrogate $("$bin/interrogate" --version 2>&1 | awk '{print $NF}'), docpipe $(git -C "$repo" rev-parse --short HEAD), $(python3 --version) standard library"
echo
"$bin/python" "$here/compare.py" "$copy" "$work/pydoclint.txt" "$work/docpipe.json"
