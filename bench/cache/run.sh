#!/usr/bin/env bash
# The cache's benchmarks (BENCHMARKS.md, "## cache"), each a ratio measured
# in one run, interleaved round by round (the machine drifts by tens of
# percent within minutes, so each round times the two sides back to back and
# the median of the per-round ratios is reported):
#
# 1. warm `generate` over a fresh copy of the standard library with every
#    docstring taken out (bench/cache/undocument.py), every unit already in
#    the disk tier (the memory tier is cold: a new process), against a cold
#    `check --no-cache` of the same copy. Target: at most 2.5x, no model
#    request.
# 2. warm `check` of an unchanged copy (its file results cached) against
#    ruff's own cached run (`ruff check --preview --select D,DOC`, run
#    before so its cache is warm). Target: at most 0.5x.
# 3. Redis round trips per file, cold (empty Redis) and warm, from the run
#    report's `cache.tiers.redis.requests`, with Redis as the only tier.
#
# Every timing is one hyperfine run (`--runs 1`, its JSON export read back);
# copies are made outside the timings.
#
# Environment: STDLIB (a copy of the standard library's .py files; default:
# one made here with bench/copy_stdlib.py), RUFF (default: ruff on PATH, else
# one pip installs into a virtual environment in the work directory),
# ROUNDS (default 5), DOCPIPE (default: target/release/docpipe, built here).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
redis_pid=""
cleanup() {
    if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
rounds="${ROUNDS:-5}"
stdlib="${STDLIB:-}"
if [ -z "$stdlib" ]; then
    stdlib="$work/stdlib"
    python3 "$repo/bench/copy_stdlib.py" "$stdlib"
fi
ruff="${RUFF:-$(command -v ruff || true)}"
if [ -z "$ruff" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q ruff
    ruff="$work/venv/bin/ruff"
fi

for tool in hyperfine python3 "$ruff"; do
    command -v "$tool" >/dev/null || { echo "bench/cache: $tool is missing" >&2; exit 2; }
done
[ -d "$stdlib" ] || { echo "bench/cache: no standard library copy at $stdlib (set STDLIB)" >&2; exit 2; }

if [ -z "${DOCPIPE:-}" ]; then
    echo "== building docpipe (release)" >&2
    (cd "$repo" && cargo build --release -q)
    DOCPIPE="${CARGO_TARGET_DIR:-$repo/target}/release/docpipe"
fi
docpipe="$DOCPIPE"
# A relative path would break once the timings change directory.
case "$docpipe" in */*) docpipe="$(cd "$(dirname "$docpipe")" && pwd)/$(basename "$docpipe")" ;; esac

# One timing: hyperfine, one run, the mean in seconds on stdout.
timed() {
    local out="$work/timing.json"
    hyperfine --runs 1 --ignore-failure --style none --export-json "$out" -- "$1" >/dev/null 2>&1
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$out"
}

median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }
quartiles() { python3 -c 'import statistics,sys; q=statistics.quantiles([float(x) for x in sys.argv[1:]], n=4) if len(sys.argv)>3 else [float(sys.argv[1])]*3; print(f"{q[0]:.2f}-{q[-1]:.2f}")' "$@"; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v.get(k, 0) if isinstance(v, dict) else 0
print(v)' "$1" "$2"; }

echo "== an undocumented copy of $stdlib" >&2
removed=$(python3 "$here/undocument.py" "$stdlib" "$work/undoc")
files=$(find "$work/undoc" -name '*.py' | wc -l)
echo "   $files files, $removed docstrings taken out" >&2

# --- 1. warm generate vs cold check ----------------------------------------
proj="$work/gen"
mkdir -p "$proj"
cd "$proj"
echo "== filling the disk tier (template model)" >&2
cp -r "$work/undoc" tree
"$docpipe" -q --report "$work/fill.json" run generate tree || true
filled=$(field "$work/fill.json" by_state.generated)
echo "   $filled docstrings generated and stored" >&2

gen_ratios=()
gen_times=()
check_times=()
for r in $(seq "$rounds"); do
    rm -rf tree && cp -r "$work/undoc" tree
    c=$(timed "$docpipe -q run check tree --no-cache --format json > /dev/null")
    w=$(timed "$docpipe -q --report $work/warm.json run generate tree")
    req=$(field "$work/warm.json" model.requests)
    gen=$(field "$work/warm.json" by_state.generated)
    cached=$(field "$work/warm.json" by_state.cached)
    if [ "$req" != "0" ] || [ "$gen" != "0" ]; then
        echo "bench/cache: the warm run asked the model ($req requests, $gen generated)" >&2
        exit 1
    fi
    check_times+=("$c"); gen_times+=("$w")
    gen_ratios+=("$(python3 -c "print($w / $c)")")
    echo "   round $r: cold check ${c}s, warm generate ${w}s ($cached cached, 0 requests)" >&2
done

# --- 2. warm check vs ruff's cached run --------------------------------------
proj2="$work/check"
mkdir -p "$proj2"
cd "$proj2"
cp -r "$stdlib" tree
echo "== warming docpipe's check cache and ruff's cache" >&2
"$docpipe" -q run check tree > /dev/null || true
"$ruff" check --preview --select D,DOC --no-fix -q tree > /dev/null || true
chk_ratios=()
warm_times=()
ruff_times=()
for r in $(seq "$rounds"); do
    d=$(timed "$docpipe -q run check tree > /dev/null")
    f=$(timed "$ruff check --preview --select D,DOC --no-fix -q tree > /dev/null")
    warm_times+=("$d"); ruff_times+=("$f")
    chk_ratios+=("$(python3 -c "print($d / $f)")")
    echo "   round $r: warm docpipe check ${d}s, ruff (cached) ${f}s" >&2
done
"$docpipe" -q --report "$work/warmcheck.json" run check tree > /dev/null || true
parsed=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(next(s["received"] for s in r["stages"] if s["name"]=="extract"))' "$work/warmcheck.json")

# --- 3. Redis round trips per file -------------------------------------------
trips="(redis-server not installed: not measured)"
if command -v redis-server >/dev/null; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$work/redis.pid" --dir "$work" >/dev/null
    for _ in $(seq 100); do [ -s "$work/redis.pid" ] && break; sleep 0.05; done
    redis_pid=$(cat "$work/redis.pid")
    proj3="$work/redis"
    mkdir -p "$proj3"
    cd "$proj3"
    sets=(--set 'cache.tiers=["redis"]' --set "cache.redis.redis_url=redis://127.0.0.1:$port")
    cp -r "$work/undoc" tree
    "$docpipe" -q "${sets[@]}" --report "$work/cold.json" run generate tree || true
    rm -rf tree && cp -r "$work/undoc" tree
    "$docpipe" -q "${sets[@]}" --report "$work/warmr.json" run generate tree || true
    cold_req=$(field "$work/cold.json" cache.tiers.redis.requests)
    warm_req=$(field "$work/warmr.json" cache.tiers.redis.requests)
    warm_hits=$(field "$work/warmr.json" cache.tiers.redis.hits)
    trips=$(python3 -c "print(f'cold: $cold_req round trips, {$cold_req/$files:.2f} per file; warm: $warm_req round trips, {$warm_req/$files:.2f} per file ($warm_hits hits)')")
fi

cat <<EOF

$files files ($removed docstrings taken out for generate); $rounds interleaved rounds; $(nproc) cores.

| measure | median (s) | ratio, median of rounds (quartiles) | target |
|---|---:|---:|---:|
| cold \`check --no-cache\` of the undocumented copy | $(median "${check_times[@]}") | 1.00x | |
| warm \`generate\`, every unit cached (0 model requests) | $(median "${gen_times[@]}") | $(median "${gen_ratios[@]}")x ($(quartiles "${gen_ratios[@]}")) | <= 2.5x |
| ruff check --preview --select D,DOC (cached, second run) | $(median "${ruff_times[@]}") | 1.00x | |
| warm docpipe \`check\` (files parsed: $parsed) | $(median "${warm_times[@]}") | $(median "${chk_ratios[@]}")x ($(quartiles "${chk_ratios[@]}")) | <= 0.5x |

Redis, the only tier, generate over the undocumented copy: $trips.
EOF
