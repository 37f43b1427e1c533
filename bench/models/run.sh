#!/bin/sh
# The `## models` benchmark of BENCHMARKS.md: 1,000 units against the
# in-process fake OpenAI server (100 ms latency) at concurrency 16.
# Usage: bench/models/run.sh [UNITS] [CONCURRENCY] [LATENCY_MS] [BATCH_SIZE]
set -eu
cd "$(dirname "$0")/../.."
exec cargo run --release -q -p docpipe-stages --example llm_bench -- "${1:-1000}" "${2:-16}" "${3:-100}" "${4:-1}"
