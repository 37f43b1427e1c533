#!/usr/bin/env bash
# How docpipe's cost grows with the work (BENCHMARKS.md, "## scale"), each
# figure a ratio measured in one run, the two sides timed back to back round
# by round (the machine drifts by tens of percent within minutes; the median
# of the per-round ratios is reported):
#
# 1. `check --no-cache` and `generate --no-cache` (template model) over a
#    fresh copy of the standard library: wall time and peak memory, and
#    generate / check (target: at most 2.5x).
# 2. The same over 2 and 4 copies side by side: time against 1 copy.
# 3. `--changed-since HEAD` after a one-file change in a git copy, against a
#    whole `check --no-cache` of it.
# 4. Hostile inputs (bench/scale/hostile.py): `check` and `generate` of one
#    module of N functions (default 155,000, about 20 MB), `generate` of it
#    ROUNDS times without and with the cache, and `check` of one of 800,000
#    plain statements: peak memory against the file's size (target: under
#    20 times it plus a constant, taken as an empty run's peak); `generate
#    --estimate` with a tokenizer (gpt-4o-mini, no request is sent) on one
#    line of 1, 2 and 4 MB of one character: seconds per MB (target: flat).
#
# Every command is timed by /usr/bin/time (wall seconds and peak resident
# kilobytes of one process); copies are made outside the timings.
#
# Environment: STDLIB (a copy of the standard library's .py files; default:
# one made here with bench/copy_stdlib.py), ROUNDS (default 3), DOCPIPE
# (default: target/release/docpipe, built here), FUNCTIONS (default 155000),
# SKIP (space-separated parts to leave out: "scaling hostile changed").
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rounds="${ROUNDS:-3}"
skip=" ${SKIP:-} "
stdlib="${STDLIB:-}"
if [ -z "$stdlib" ]; then
    stdlib="$work/stdlib"
    python3 "$repo/bench/copy_stdlib.py" "$stdlib"
fi
if [ -z "${DOCPIPE:-}" ]; then
    echo "== building docpipe (release)" >&2
    (cd "$repo" && cargo build --release -q)
    DOCPIPE="${CARGO_TARGET_DIR:-$repo/target}/release/docpipe"
fi
docpipe="$DOCPIPE"
# A relative path would break once the timings change directory.
case "$docpipe" in */*) docpipe="$(cd "$(dirname "$docpipe")" && pwd)/$(basename "$docpipe")" ;; esac

# One measurement in directory $1 of the command after it: "seconds kilobytes".
measure() {
    local dir="$1"; shift
    (cd "$dir" && /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1) || true
    cat "$work/time" | tail -1
}
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.2f}")' "$1" "$2"; }
fresh() { rm -rf "$2"; mkdir -p "$2"; for i in $(seq 1 "$1"); do cp -r "$stdlib" "$2/copy$i"; done; }
size_mb() { du -sm "$1" | cut -f1; }

echo "docpipe: $docpipe ($("$docpipe" --version)), $rounds rounds, $(nproc) cores"
echo "standard library copy: $(find "$stdlib" -name '*.py' | wc -l) files, $(size_mb "$stdlib") MB"

# --- 1 and 2: check and generate, 1x 2x 4x -------------------------------
copies_list="1"
case "$skip" in *" scaling "*) ;; *) copies_list="1 2 4" ;; esac
declare -A check_t gen_t check_m gen_m
for copies in $copies_list; do
    checks=(); gens=(); ratios=(); cm=(); gm=()
    for r in $(seq 1 "$rounds"); do
        fresh "$copies" "$work/corpus"
        read -r t m < <(measure "$work/corpus" "$docpipe" run check --no-cache -q .)
        checks+=("$t"); cm+=("$m")
        fresh "$copies" "$work/corpus"
        read -r g gmem < <(measure "$work/corpus" "$docpipe" run generate --no-cache -q .)
        gens+=("$g"); gm+=("$gmem")
        ratios+=("$(ratio "$g" "$t")")
        echo "  ${copies}x round $r: check ${t}s ${m}KB, generate ${g}s ${gmem}KB, ratio $(ratio "$g" "$t")" >&2
    done
    check_t[$copies]=$(median "${checks[@]}"); gen_t[$copies]=$(median "${gens[@]}")
    check_m[$copies]=$(median "${cm[@]}"); gen_m[$copies]=$(median "${gm[@]}")
    echo "${copies}x: check ${check_t[$copies]} s (peak $(( ${check_m[$copies]%.*} / 1024 )) MB), generate ${gen_t[$copies]} s (peak $(( ${gen_m[$copies]%.*} / 1024 )) MB), generate / check $(median "${ratios[@]}")x (rounds: ${ratios[*]})"
done
for copies in $copies_list; do
    [ "$copies" = 1 ] && continue
    echo "${copies}x against 1x: check $(ratio "${check_t[$copies]}" "${check_t[1]}")x, generate $(ratio "${gen_t[$copies]}" "${gen_t[1]}")x"
done

# --- 3: --changed-since on a one-file change ------------------------------
case "$skip" in *" changed "*) ;; *)
    fresh 1 "$work/git"
    (cd "$work/git" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@example.com commit -qm base)
    one=$(cd "$work/git" && git ls-files '*.py' | sort | sed -n 500p)
    printf '\n\ndef added_by_the_benchmark(x):\n    return x\n' >> "$work/git/$one"
    fulls=(); changed=(); ratios=()
    for r in $(seq 1 "$rounds"); do
        read -r f _ < <(measure "$work/git" "$docpipe" run check --no-cache -q .)
        read -r c _ < <(measure "$work/git" "$docpipe" run check --no-cache -q --changed-since HEAD .)
        fulls+=("$f"); changed+=("$c"); ratios+=("$(ratio "$c" "$f")")
    done
    echo "--changed-since HEAD, one file changed ($one): $(median "${changed[@]}") s against a whole check's $(median "${fulls[@]}") s: $(median "${ratios[@]}")x"
;; esac

# --- 4: hostile inputs -----------------------------------------------------
case "$skip" in *" hostile "*) ;; *)
    n="${FUNCTIONS:-155000}"
    mkdir -p "$work/hostile"
    python3 "$here/hostile.py" functions "$n" "$work/hostile/many.py"
    bytes=$(stat -c %s "$work/hostile/many.py")
    read -r t m < <(measure "$work/hostile" "$docpipe" run check --no-cache -q many.py)
    echo "one file of $n functions ($(( bytes / 1024 / 1024 )) MB): check ${t} s, peak $(( m / 1024 )) MB = $(ratio $(( m * 1024 )) "$bytes")x the file"
    # The constant of "20 times the file plus a constant": what a run of
    # one two-line file peaks at.
    mkdir -p "$work/empty"
    printf 'def f(x):\n    return x\n' > "$work/empty/one.py"
    read -r _ empty < <(measure "$work/empty" "$docpipe" run generate --no-cache -q one.py)
    bound=$(( bytes * 20 / 1024 + empty ))
    echo "an empty run peaks at $(( empty / 1024 )) MB: bound 20 x file + that = $(( bound / 1024 )) MB"
    # generate, without and with the cache (the default tiers, memory and
    # disk, starting empty): the peak moves by some 20 MB from run to run,
    # so each is run $rounds times.
    for how in "--no-cache" "cache"; do
        peaks=(); times=()
        for r in $(seq 1 "$rounds"); do
            rm -rf "$work/hostile/.docpipe"
            python3 "$here/hostile.py" functions "$n" "$work/hostile/many.py"
            if [ "$how" = cache ]; then
                read -r t m < <(measure "$work/hostile" "$docpipe" run generate -q many.py)
            else
                read -r t m < <(measure "$work/hostile" "$docpipe" run generate --no-cache -q many.py)
            fi
            peaks+=("$(( m / 1024 ))"); times+=("$t")
        done
        worst=$(printf '%s\n' "${peaks[@]}" | sort -n | tail -1)
        echo "one file of $n functions: generate ($how) $(median "${times[@]}") s, peaks ${peaks[*]} MB; worst = $(ratio $(( worst * 1024 * 1024 )) "$bytes")x the file, $(( worst - bound / 1024 )) MB against the bound"
    done
    python3 "$here/hostile.py" statements 800000 "$work/hostile/flat.py"
    bytes=$(stat -c %s "$work/hostile/flat.py")
    read -r t m < <(measure "$work/hostile" "$docpipe" run check --no-cache -q flat.py)
    echo "one file of 800000 statements ($(( bytes / 1024 / 1024 )) MB): check ${t} s, peak $(( m / 1024 )) MB = $(ratio $(( m * 1024 )) "$bytes")x the file"
    for mb in 1 2 4; do
        python3 "$here/hostile.py" longline "$mb" "$work/hostile/line.py"
        read -r t m < <(measure "$work/hostile" "$docpipe" run generate --estimate --no-cache -q \
            --set model.provider=openai --set model.name=gpt-4o-mini line.py)
        echo "one line of $mb MB, counted for gpt-4o-mini (--estimate): ${t} s, $(ratio "$t" "$mb") s per MB, peak $(( m / 1024 )) MB"
    done
;; esac
