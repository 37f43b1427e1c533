#!/usr/bin/env bash
# Times `docpipe run check` against ruff, interrogate and pydoclint on the same
# copy of the CPython standard library, with a bare tree-sitter parse of the
# same files on all cores as the floor. Prints a Markdown table of wall times,
# ratios to the floor and peak memory, for BENCHMARKS.md ("## check").
#
# A shared virtual machine drifts in speed by tens of percent within minutes,
# and hyperfine times one command after the other, so its ratios mix fast and
# slow minutes. The ratios of docpipe to the floor and to ruff are therefore
# also measured interleaved: ROUNDS rounds (default 15) each run the floor (C
# malloc), the floor with mimalloc (the allocator docpipe uses), docpipe and
# ruff's D,DOC run back to back, and the median of the per-round ratios is
# reported. Instruction counts
# (cachegrind, on every sixth file) give a ratio that does not drift at all.
#
# Needs python3 (with venv and pip), cargo, and network access to PyPI (and to
# Debian's archive when hyperfine or GNU time are missing).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="${RUNS:-5}"
rounds="${ROUNDS:-15}"

if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ]; then
    apt-get update -qq && apt-get install -y -qq hyperfine time >/dev/null
fi

echo "== tools" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q ruff interrogate pydoclint
bin="$work/venv/bin"

echo "== copying the standard library (.py files, no site-packages)" >&2
copy="$work/stdlib"
python3 "$repo/bench/copy_stdlib.py" "$copy"
files=$(find "$copy" -name '*.py' | wc -l)
bytes=$(find "$copy" -name '*.py' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)

echo "== building docpipe and the parse floor (release)" >&2
(cd "$repo" && cargo build --release -q && cargo build --release -q -p docpipe-stages --example parse_floor)
docpipe="$repo/target/release/docpipe"
floor="$repo/target/release/examples/parse_floor"

cd "$work"
declare -a names=(
    "parse floor (tree-sitter, all cores)"
    "parse floor, tree-sitter on mimalloc"
    "docpipe run check --format json"
    "ruff check --select D"
    "ruff check --preview --select D,DOC"
    "interrogate"
    "pydoclint"
)
declare -a cmds=(
    "$floor $copy"
    "$floor --mimalloc $copy"
    "$docpipe run check $copy --format json"
    "$bin/ruff check --no-cache --exit-zero --quiet --select D $copy"
    "$bin/ruff check --no-cache --exit-zero --quiet --preview --select D,DOC $copy"
    "$bin/interrogate --fail-under 0 --quiet $copy"
    "$bin/pydoclint --quiet --style google $copy"
)

echo "== timing (hyperfine, $runs runs each)" >&2
args=()
for i in "${!cmds[@]}"; do
    args+=(--command-name "${names[$i]}" "${cmds[$i]} >/dev/null 2>&1 || true")
done
hyperfine --warmup 1 --runs "$runs" --ignore-failure --export-json "$work/times.json" "${args[@]}" >&2

echo "== peak memory (/usr/bin/time -v)" >&2
: > "$work/rss.txt"
for i in "${!cmds[@]}"; do
    # The checkers exit non-zero when they find problems: that is not a failure here.
    rss=$( { /usr/bin/time -v sh -c "${cmds[$i]} >/dev/null 2>&1 || true" ; } 2>&1 | awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}')
    echo "${names[$i]}	$rss" >> "$work/rss.txt"
done

echo "== interleaved ratios to the floors and to ruff ($rounds rounds)" >&2
python3 - "$rounds" "$floor $copy" "$floor --mimalloc $copy" "$docpipe run check $copy --format json" \
    "$bin/ruff check --no-cache --exit-zero --quiet --preview --select D,DOC $copy" > "$work/ratio.txt" <<'PY'
import os, resource, statistics, subprocess, sys, time
rounds, cmds = int(sys.argv[1]), sys.argv[2:]
wall = [[] for _ in cmds]
cpu = [[] for _ in cmds]
for r in range(rounds + 1):  # round 0 warms the page cache and is dropped
    for i, c in enumerate(cmds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r:
            wall[i].append(w)
            cpu[i].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
def ratio(xs, ys):
    rs = sorted(a / b for a, b in zip(xs, ys))
    q = lambda p: rs[min(len(rs) - 1, int(p * len(rs)))]
    return f"{statistics.median(rs):.2f}x (quartiles {q(0.25):.2f}-{q(0.75):.2f})"
print(f"| interleaved, {rounds} rounds | median wall (s) | median CPU (s) | docpipe / this, wall | docpipe / this, CPU |")
print("|---|---:|---:|---:|---:|")
names = ["parse floor (C malloc)", "parse floor (mimalloc)", "docpipe run check --format json",
         "ruff check --preview --select D,DOC"]
for i, name in enumerate(names):
    dw = ratio(wall[2], wall[i]) if i != 2 else ""
    dc = ratio(cpu[2], cpu[i]) if i != 2 else ""
    print(f"| {name} | {statistics.median(wall[i]):.3f} | {statistics.median(cpu[i]):.2f} | {dw} | {dc} |")
PY

# Instructions do not drift with the machine's speed: count them with
# cachegrind on every sixth file of the copy (sorted by path), when valgrind
# is installed (INSTRUCTIONS=0 skips this).
: > "$work/instr.txt"
if [ "${INSTRUCTIONS:-1}" != 0 ] && command -v valgrind >/dev/null; then
    echo "== instructions (cachegrind, every sixth file)" >&2
    subset="$work/subset"
    python3 - "$copy" "$subset" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1:]
files = sorted(os.path.relpath(os.path.join(d, f), src)
               for d, _, fs in os.walk(src) for f in fs if f.endswith(".py"))
for rel in files[::6]:
    os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
    shutil.copy2(os.path.join(src, rel), os.path.join(dst, rel))
PY
    subset_files=$(find "$subset" -name '*.py' | wc -l)
    for cmd in "$floor $subset" "$floor --mimalloc $subset" "$docpipe run check $subset --format json"; do
        # docpipe exits 1 when it finds problems: that is not a failure here.
        n=$( (valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null $cmd 2>&1 >/dev/null || true) \
            | awk '/I *refs:/ {gsub(",", "", $NF); print $NF}')
        echo "$n" >> "$work/instr.txt"
    done
    echo "$subset_files" >> "$work/instr.txt"
fi

echo "== definitions reported by docpipe vs python's ast" >&2
"$docpipe" run check "$copy" --format json 2>/dev/null > "$work/check.json" || true

python3 - "$work/times.json" "$work/rss.txt" "$work/check.json" "$files" "$bytes" "$(nproc)" "$work/ratio.txt" "$work/instr.txt" <<'PY'
import json, sys
times = json.load(open(sys.argv[1]))["results"]
rss = dict(line.rstrip("\n").split("\t") for line in open(sys.argv[2]) if "\t" in line)
check = json.load(open(sys.argv[3]))
files, size, cores = sys.argv[4], int(sys.argv[5]), sys.argv[6]
floor = times[0]["mean"]
dp = times[2]["mean"]
print(f"Corpus: CPython standard library copy, {files} .py files, {size / 1e6:.1f} MB; {cores} cores.\n")
print("| tool | mean wall (s) | ± σ | vs parse floor | docpipe is faster by | peak RSS (MB) |")
print("|---|---:|---:|---:|---:|---:|")
for t in times:
    name = t["command"]
    mb = int(rss.get(name, "0") or 0) / 1024
    print(f"| {name} | {t['mean']:.3f} | {t['stddev'] or 0:.3f} | {t['mean'] / floor:.2f}x | {t['mean'] / dp:.2f}x | {mb:.0f} |")
print()
print(open(sys.argv[7]).read())
instr = open(sys.argv[8]).read().split()
if len(instr) == 4:
    c, mi, dp, n = (int(x) for x in instr)
    print(f"| instructions (cachegrind), {n} files | instructions | docpipe / this |")
    print("|---|---:|---:|")
    print(f"| parse floor (C malloc) | {c / 1e9:.3f} G | {dp / c:.3f}x |")
    print(f"| parse floor (mimalloc) | {mi / 1e9:.3f} G | {dp / mi:.3f}x |")
    print(f"| docpipe run check --format json | {dp / 1e9:.3f} G | |")
    print()
print(f"docpipe check --format json: definitions={check.get('definitions')} undocumented={check.get('undocumented')} coverage={check.get('coverage', 0):.1f}% findings={len(check.get('findings', []))} file_errors={check.get('file_errors')}")
PY
