#!/usr/bin/env bash
# What asking Python costs: `docpipe run generate` over a fresh copy of the
# CPython standard library with `python3` on PATH (every file about to be
# rewritten is compiled by the long-lived helper, and its new text too)
# against the same binary with no interpreter on PATH (docpipe's own checks
# only). Prints Markdown for BENCHMARKS.md ("## generate: asking Python").
#
# Every run rewrites the copy, so each one gets a fresh copy first (not
# timed). hyperfine times the two commands one after the other; the machine
# drifts by tens of percent, so the ratio is also measured interleaved:
# ROUNDS rounds (default 9) each run both back to back, and the median of
# the per-round ratios is reported.
#
# EVERY=N (default 1): only every Nth file of the copy (sorted by path), to
# keep the rounds short on a busy machine.
#
# BASELINE=/path/to/docpipe (optional): a build of an earlier commit; then
# `docpipe run check` is also timed interleaved against it, which measures
# what docpipe's own CPython-rejection checks add to every run.
#
# CHECK_ONLY=1: with BASELINE, time only `check` against the baseline.
#
# Needs python3, cargo, hyperfine (installed from Debian when missing).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="${RUNS:-5}"
rounds="${ROUNDS:-9}"

if ! command -v hyperfine >/dev/null; then
    apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi

echo "== copying the standard library (.py files, no site-packages)" >&2
python3 - "$work/stdlib" "${EVERY:-1}" <<'PY'
import os, shutil, sys, sysconfig
src = sysconfig.get_paths()["stdlib"]
dst, every = sys.argv[1], int(sys.argv[2])
files = []
for d, dirs, names in os.walk(src):
    dirs[:] = [x for x in dirs if x not in ("site-packages", "__pycache__")]
    files += [os.path.relpath(os.path.join(d, f), src) for f in names if f.endswith(".py")]
for rel in sorted(files)[::every]:
    os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
    shutil.copy2(os.path.join(src, rel), os.path.join(dst, rel))
PY
echo "$(find "$work/stdlib" -name '*.py' | wc -l) files" >&2

echo "== building docpipe (release)" >&2
target="${CARGO_TARGET_DIR:-$repo/target}"
(cd "$repo" && cargo build --release -q)
docpipe="$target/release/docpipe"
empty="$work/no-python"
mkdir -p "$empty"
python_version=$(python3 --version)

cd "$work"
fresh="rm -rf $work/copy && cp -a $work/stdlib $work/copy"
with_python="$docpipe -q run generate $work/copy --report $work/with.json"
without_python="env PATH=$empty $docpipe -q run generate $work/copy --report $work/without.json"

if [ "${CHECK_ONLY:-0}" != 1 ]; then
echo "== hyperfine ($runs runs each, a fresh copy before each)" >&2
hyperfine --runs "$runs" --ignore-failure --prepare "$fresh" --export-json "$work/times.json" \
    --command-name "generate, $python_version asked" "$with_python >/dev/null 2>&1 || true" \
    --command-name "generate, no interpreter (own checks)" "$without_python >/dev/null 2>&1 || true" >&2

fi

echo "== interleaved ($rounds rounds)" >&2
python3 - "$rounds" "$fresh" "$with_python" "$without_python" "${BASELINE:-}" "$docpipe" "$work" "${CHECK_ONLY:-0}" > "$work/ratio.txt" <<'PY'
import json, resource, statistics, subprocess, sys, time
rounds, fresh, with_py, without_py, baseline, docpipe, work, check_only = sys.argv[1:]
rounds = int(rounds)
def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    w = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return w, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
def print_generate():
    print(f"| interleaved, {rounds} rounds | median wall (s) | median CPU (s) |")
    print("|---|---:|---:|")
    for name in ("with", "without"):
        print(f"| generate, {'python3 asked' if name == 'with' else 'no interpreter'} | {statistics.median(w[name]):.3f} | {statistics.median(c[name]):.2f} |")
    print()
    print(f"asking Python / own checks only: wall {ratio(w['with'], w['without'])}, CPU {ratio(c['with'], c['without'])}")
    rep = json.load(open(f"{work}/with.json"))
    written = rep['files_written']
    extra = statistics.median(w['with']) - statistics.median(w['without'])
    print(f"\nfiles written: {written} (two compilations each); units: {rep['units']}; file_errors: {len(rep['file_errors'])}; "
          f"median wall added by asking Python: {extra:.2f} s, {1000 * extra / max(written, 1):.1f} ms per written file")
def ratio(xs, ys):
    rs = sorted(a / b for a, b in zip(xs, ys))
    q = lambda p: rs[min(len(rs) - 1, int(p * len(rs)))]
    return f"{statistics.median(rs):.3f}x (quartiles {q(0.25):.3f}-{q(0.75):.3f})"
w = {"with": [], "without": []}
c = {"with": [], "without": []}
for r in range(0 if check_only == "1" else rounds + 1):  # round 0 warms the page cache and is dropped
    for name, cmd in (("with", with_py), ("without", without_py)):
        subprocess.run(fresh, shell=True, check=True)
        wall, cpu = timed(cmd)
        if r:
            w[name].append(wall)
            c[name].append(cpu)
if check_only != "1":
    print_generate()
if baseline:
    check = f"{docpipe} run check {work}/stdlib --format json"
    base = f"{baseline} run check {work}/stdlib --format json"
    wc, wb, cc, cb = [], [], [], []
    for r in range(rounds + 1):
        a = timed(check); b = timed(base)
        if r:
            wc.append(a[0]); cc.append(a[1]); wb.append(b[0]); cb.append(b[1])
    print()
    print(f"| check, interleaved {rounds} rounds | median wall (s) | median CPU (s) |")
    print("|---|---:|---:|")
    print(f"| this build | {statistics.median(wc):.3f} | {statistics.median(cc):.2f} |")
    print(f"| baseline | {statistics.median(wb):.3f} | {statistics.median(cb):.2f} |")
    print(f"\ncheck, this build / baseline: wall {ratio(wc, wb)}, CPU {ratio(cc, cb)}")
PY

[ "${CHECK_ONLY:-0}" = 1 ] || python3 - "$work/times.json" <<'PY'
import json, sys
times = json.load(open(sys.argv[1]))["results"]
print("| hyperfine (fresh copy before each run) | mean wall (s) | ± σ |")
print("|---|---:|---:|")
for t in times:
    print(f"| {t['command']} | {t['mean']:.3f} | {t['stddev'] or 0:.3f} |")
print()
PY
cat "$work/ratio.txt"
