#!/usr/bin/env python3
"""Prints a pipeline.toml whose units pass through N chained stages.

python-source -> python-extract -> s0 -> s1 -> ... -> s{N-1} -> python-writer,
every s{i} a `reply-parse` stage (the cheapest unit-to-unit transform). Used by
bench/stages/run.sh to time `docpipe validate` and `docpipe run` on long
chains, and by hand to try the executor on them.

Usage: chain.py N [TYPE]
"""
import sys

n = int(sys.argv[1])
kind = sys.argv[2] if len(sys.argv) > 2 else "reply-parse"
out = [
    '[stages.source]\ntype = "python-source"\n',
    '[stages.extract]\ntype = "python-extract"\ninputs = ["source"]\n',
]
previous = "extract"
for i in range(n):
    out.append(f'[stages.s{i}]\ntype = "{kind}"\ninputs = ["{previous}"]\n')
    previous = f"s{i}"
out.append(f'[stages.write]\ntype = "python-writer"\ninputs = ["{previous}"]\n')
sys.stdout.write("\n".join(out))
