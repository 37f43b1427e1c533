#!/usr/bin/env python3
"""Hostile inputs for bench/scale/run.sh.

    hostile.py functions N OUT   one module with N small undocumented functions
                                 (N = 216000 makes about 20 MB)
    hostile.py longline MB OUT   one function whose body is a string literal
                                 of MB megabytes of one repeated character
    hostile.py statements N OUT  one module of N plain statements and no
                                 definition (N = 800000 makes about 20 MB)
"""
import sys


def functions(n, out):
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(
                f"def function_{i}(alpha, beta=None, *args, **kwargs):\n"
                f"    if alpha:\n"
                f"        raise ValueError(alpha)\n"
                f"    return alpha + {i}\n\n\n"
            )


def statements(n, out):
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(f"value_{i} = (alpha + {i}) * beta\n")


def longline(mb, out):
    with open(out, "w", encoding="utf-8") as f:
        f.write("def long_line(value):\n    return value + '")
        f.write("a" * int(mb * 1024 * 1024))
        f.write("'\n")


if __name__ == "__main__":
    kind, size, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "functions":
        functions(int(size), out)
    elif kind == "longline":
        longline(float(size), out)
    elif kind == "statements":
        statements(int(size), out)
    else:
        sys.exit(f"unknown kind {kind!r}; give `functions`, `statements` or `longline`")
