#!/usr/bin/env bash
# Times `docpipe validate` on pipelines of 1,000, 4,000 and 10,000 chained
# stages (bench/stages/chain.py) and `docpipe run` of the 10,000-stage chain
# over examples/sample, against validating the repository's pipeline.toml
# (10 stages: the cost of starting docpipe and reading a configuration).
#
# hyperfine gives the absolute times. The machine drifts, so the ratios to
# the baseline are also measured interleaved: ROUNDS rounds (default 10)
# each run every command once, and the median of the per-round ratios is
# reported, as bench/check does.
#
# Needs python3, cargo, and hyperfine (installed with apt-get when missing).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="${RUNS:-10}"
rounds="${ROUNDS:-10}"

if ! command -v hyperfine >/dev/null; then
    apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi

(cd "$repo" && cargo build --release -q)
bin="${CARGO_TARGET_DIR:-$repo/target}/release/docpipe"

for n in 1000 4000 10000; do
    python3 "$here/chain.py" "$n" > "$work/chain$n.toml"
done
cp -r "$repo/examples/sample" "$work/sample"

names=(
    "validate: repository pipeline.toml (10 stages)"
    "validate: 1,000 chained stages"
    "validate: 4,000 chained stages"
    "validate: 10,000 chained stages"
    "run --diff sample: 10,000 chained stages"
)
commands=(
    "$bin --config $repo/pipeline.toml validate"
    "$bin --config $work/chain1000.toml validate"
    "$bin --config $work/chain4000.toml validate"
    "$bin --config $work/chain10000.toml validate"
    "$bin -q --config $work/chain10000.toml run --diff $work/sample"
)

args=()
for i in "${!names[@]}"; do
    args+=(-n "${names[$i]}" "${commands[$i]}")
done
# `run` exits 1: the chain's reply-parse stages fail units that no model answered.
hyperfine -N -i --warmup 1 --runs "$runs" --export-markdown "$work/hyperfine.md" "${args[@]}" >&2
cat "$work/hyperfine.md"
echo

python3 - "$rounds" "${commands[@]}" <<'PY'
import statistics, subprocess, sys, time
rounds = int(sys.argv[1])
commands = sys.argv[2:]
names = ["10 stages (baseline)", "1,000 stages", "4,000 stages", "10,000 stages", "run, 10,000 stages"]
times = [[] for _ in commands]
for _ in range(rounds):
    for i, c in enumerate(commands):
        t = time.perf_counter()
        subprocess.run(c.split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[i].append(time.perf_counter() - t)
print(f"| interleaved, {rounds} rounds | median wall (s) | / baseline (median of per-round ratios) |")
print("|---|---:|---:|")
for i, name in enumerate(names):
    ratios = [t / b for t, b in zip(times[i], times[0])]
    print(f"| {name} | {statistics.median(times[i]):.3f} | {statistics.median(ratios):.1f}x |")
PY
