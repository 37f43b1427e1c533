#!/usr/bin/env bash
# The cost of the plugin boundary: `docpipe run check` over a copy of the
# CPython standard library, as is (source -> extract -> analyze -> report),
# with a pass-through native stage (plugins/fixtures/testkit, `passthrough`)
# inserted after the extractor, and with a pass-through Python exec stage
# (bench/plugins/passthrough.py, `concurrency = 2`) inserted there instead.
# Every unit crosses the boundary once each way: as JSON through the C ABI,
# or as a JSON line through a pipe to Python and back.
#
# Prints Markdown for BENCHMARKS.md ("## plugins: the cost of the boundary"):
# a hyperfine table, then ROUNDS interleaved rounds (default 7; each runs
# the three back to back; round 0 warms the page cache and is dropped), the
# median of the per-round ratios to plain `check`, and the added wall time
# per 10,000 units.
#
# STDLIB=DIR (default: python3's own standard library, its .py files): the
# corpus, copied once (not timed). Needs python3, cargo, hyperfine.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="${RUNS:-5}"
rounds="${ROUNDS:-7}"

if ! command -v hyperfine >/dev/null; then
    apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi

if [ -n "${STDLIB:-}" ]; then
    echo "== copying $STDLIB" >&2
    cp -r "$STDLIB" "$work/stdlib"
else
    echo "== copying the standard library (.py files)" >&2
    python3 "$repo/bench/copy_stdlib.py" "$work/stdlib"
fi
echo "$(find "$work/stdlib" -name '*.py' | wc -l) files" >&2

echo "== building docpipe and the testkit plugin (release)" >&2
target="${CARGO_TARGET_DIR:-$repo/target}"
(cd "$repo" && cargo build --release -q -p docpipe -p docpipe-plugin-testkit)
docpipe="$target/release/docpipe"
lib="$target/release/libdocpipe_plugin_testkit.so"

pipeline() { # $1: the [stages.plugin] table, or nothing
    local analyze_input="extract"
    cat <<TOML
[plugins]
native = ["$lib"]

[stages.source]
type = "python-source"

[stages.extract]
type = "python-extract"
inputs = ["source"]
TOML
    if [ -n "$1" ]; then
        printf '\n[stages.plugin]\ninputs = ["extract"]\n%s\n' "$1"
        analyze_input="plugin"
    fi
    cat <<TOML

[stages.analyze]
type = "docstring-analyze"
inputs = ["$analyze_input"]

[stages.report]
type = "check-report"
inputs = ["analyze.complete", "analyze.incomplete"]
TOML
}
pipeline "" > "$work/plain.toml"
pipeline 'type = "passthrough"' > "$work/native.toml"
pipeline "type = \"exec\"
command = [\"python3\", \"$here/passthrough.py\"]
concurrency = 2" > "$work/exec.toml"

cd "$work"
cmd() { echo "$docpipe -q --config $work/$1.toml --report $work/$1.json run $work/stdlib --format json"; }
plain="$(cmd plain)"; native="$(cmd native)"; exec_="$(cmd exec)"

echo "== hyperfine ($runs runs each)" >&2
hyperfine --runs "$runs" --warmup 1 --ignore-failure --export-json "$work/times.json" \
    --command-name "check" "$plain >/dev/null 2>&1" \
    --command-name "check + native pass-through" "$native >/dev/null 2>&1" \
    --command-name "check + Python exec pass-through" "$exec_ >/dev/null 2>&1" >&2

echo "== interleaved ($rounds rounds)" >&2
python3 - "$rounds" "$work" "$plain" "$native" "$exec_" "$work/times.json" <<'PY'
import json, resource, statistics, subprocess, sys, time
rounds, work, plain, native, exec_, times = sys.argv[1:]
rounds = int(rounds)
def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    w = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return w, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
names = ("plain", "native", "exec")
cmds = dict(zip(names, (plain, native, exec_)))
w = {n: [] for n in names}
c = {n: [] for n in names}
for r in range(rounds + 1):
    for n in names:
        wall, cpu = timed(cmds[n])
        if r:
            w[n].append(wall); c[n].append(cpu)
units = {n: json.load(open(f"{work}/{n}.json"))["units"] for n in names}
failed = {n: json.load(open(f"{work}/{n}.json"))["by_state"]["failed"] for n in names}
print("| hyperfine | mean wall (s) | ± σ |")
print("|---|---:|---:|")
for t in json.load(open(times))["results"]:
    print(f"| {t['command']} | {t['mean']:.3f} | {t['stddev'] or 0:.3f} |")
print()
def ratio(xs, ys):
    rs = sorted(a / b for a, b in zip(xs, ys))
    q = lambda p: rs[min(len(rs) - 1, int(p * len(rs)))]
    return f"{statistics.median(rs):.3f}x ({q(0.25):.3f}-{q(0.75):.3f})"
label = {"plain": "check", "native": "check + native pass-through", "exec": "check + Python exec pass-through"}
print(f"| interleaved, {rounds} rounds | median wall (s) | median CPU (s) | / check, wall (quartiles) | / check, CPU | added wall per 10,000 units |")
print("|---|---:|---:|---:|---:|---:|")
for n in names:
    added = (statistics.median([a - b for a, b in zip(w[n], w["plain"])])) * 10000 / units[n]
    print(f"| {label[n]} | {statistics.median(w[n]):.3f} | {statistics.median(c[n]):.2f} | "
          f"{ratio(w[n], w['plain'])} | {ratio(c[n], c['plain'])} | "
          f"{'-' if n == 'plain' else f'{added:.2f} s'} |")
print()
print(f"units: {units}; failed: {failed}")
PY
