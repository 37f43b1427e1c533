#!/usr/bin/env bash
# The writer's invariant over a copy of the CPython standard library, in each
# style setting: after `generate` (template model), `check` reports nothing but
# placeholders (DP120), a second `generate` writes nothing, every file still
# compiles, ruff's blank-line rules (E30x) find nothing new, and (numpy) every
# docstring numpydoc reads has the sections docpipe wrote.
#
#   bench/invariant/run.sh [STYLE...]      (default: auto google numpy sphinx)
#
# Needs python3; ruff and numpydoc are installed into a virtual environment
# under the work directory when missing. WORK=/path keeps the work directory.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${WORK:-$(mktemp -d)}"
styles=("$@")
[ ${#styles[@]} -eq 0 ] && styles=(auto google numpy sphinx)

if [ ! -x "$work/venv/bin/ruff" ] || ! "$work/venv/bin/python" -c 'import numpydoc' 2>/dev/null; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q ruff numpydoc
fi
py="$work/venv/bin/python"

if [ ! -d "$work/stdlib" ]; then
    python3 "$repo/bench/copy_stdlib.py" "$work/stdlib"
fi
(cd "$repo" && cargo build --release -q)
docpipe="$repo/target/release/docpipe"
status=0
# The built-in defaults (no pipeline.toml up the tree); caches stay in $work.
cd "$work"

for style in "${styles[@]}"; do
    copy="$work/$style"
    rm -rf "$copy" && cp -r "$work/stdlib" "$copy"
    set_style=(--set "style.name=\"$style\"")
    start=$(date +%s.%N)
    "$docpipe" run generate "$copy" "${set_style[@]}" -q --report "$work/$style.generate.json" || true
    end=$(date +%s.%N)
    "$docpipe" run check "$copy" "${set_style[@]}" --format json >"$work/$style.check.json" || true
    "$docpipe" run generate "$copy" "${set_style[@]}" -q --report "$work/$style.second.json" >/dev/null 2>&1 || true
    second=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["files_written"], r["by_state"]["generated"])' "$work/$style.second.json")
    REPO="$repo" "$py" - "$style" "$work" "$copy" "$second" "$(echo "$end - $start" | bc)" <<'PY' || status=1
import json, os, subprocess, sys
style, work, copy, second, secs = sys.argv[1:6]
orig = os.path.join(work, "stdlib")
findings = json.load(open(os.path.join(work, f"{style}.check.json")))
items = findings if isinstance(findings, list) else findings.get("findings", [])
report = json.load(open(os.path.join(work, f"{style}.generate.json")))
# Units generate reported as failed (with the reason) were left as they were.
failed = {(f["path"], f["qualname"]) for f in report.get("failures", [])}
codes = {}
for f in items:
    if (f["path"], f.get("name")) in failed:
        continue
    codes[f["code"]] = codes.get(f["code"], 0) + 1
# Files docpipe cannot read or parse (DP002, DP003) were never written.
unreadable = {c: n for c, n in codes.items() if c in ("DP002", "DP003")}
others = {c: n for c, n in codes.items() if c not in ("DP120", "DP002", "DP003")}
changed = [os.path.join(d, f) for d, _, fs in os.walk(copy) for f in fs
           if f.endswith(".py") and open(os.path.join(d, f), "rb").read()
           != open(os.path.join(orig, os.path.relpath(os.path.join(d, f), copy)), "rb").read()]
bad = []
for path in changed:
    try:
        compile(open(path, "rb").read(), path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        # Files the original already fails to compile are not the writer's.
        try:
            compile(open(os.path.join(orig, os.path.relpath(path, copy)), "rb").read(), path, "exec", dont_inherit=True)
            bad.append(f"{path}: {e}")
        except (SyntaxError, ValueError):
            pass
def e30(root, files):
    out = subprocess.run([os.path.join(work, "venv/bin/ruff"), "check", "--no-cache", "--isolated",
                          "--select", "E30", "--output-format", "json", "--preview", *files],
                         capture_output=True, text=True, cwd=root).stdout
    res = {}
    for d in json.loads(out or "[]"):
        key = os.path.relpath(d["filename"], root)
        res.setdefault(key, []).append(d["code"])
    return {k: sorted(v) for k, v in res.items()}
rel = [os.path.relpath(p, copy) for p in changed]
after = e30(copy, rel) if rel else {}
before = e30(orig, rel) if rel else {}
new_e30 = {}
for k, v in after.items():
    b = list(before.get(k, []))
    for code in v:
        if code in b:
            b.remove(code)
        else:
            new_e30[code] = new_e30.get(code, 0) + 1
numpy_bad = 0
numpy_total = 0
if style == "numpy":
    # The test suite's checker: numpydoc reads every docstring docpipe wrote.
    checker = os.path.join(os.environ["REPO"], "tests/support/numpydoc_check.py")
    out = subprocess.run([os.path.join(work, "venv/bin/python"), checker, "TODO", *changed],
                         capture_output=True, text=True)
    problems = out.stdout.splitlines()
    numpy_bad = len(problems)
    for p in problems[:5]:
        print("  numpydoc: " + p, file=sys.stderr)
    import re
    m = re.search(r"read (\d+) docstrings", out.stderr)
    numpy_total = int(m.group(1)) if m else 0
stats = report.get("stats", report)
print(f"{style}: generate {float(secs):.1f} s, {len(changed)} files changed, "
      f"check after: {codes.get('DP120', 0)} DP120 and {sum(others.values())} others {others or ''}, "
      f"({sum(unreadable.values())} files docpipe cannot read or parse, {len(failed)} units failed with a reason), "
      f"second generate: files written and units generated {second}, {len(bad)} files no longer compile, "
      f"new E30x {new_e30 or 0}"
      + (f", numpydoc read {numpy_total} docstrings, {numpy_bad} with errors or warnings" if style == "numpy" else ""))
for b in bad[:5]:
    print("  " + b, file=sys.stderr)
sys.exit(1 if others or second != "0 0" or bad or new_e30 or numpy_bad else 0)
PY
done
exit $status
