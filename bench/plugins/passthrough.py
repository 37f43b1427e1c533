#!/usr/bin/env python3
"""A pass-through exec stage: every unit goes back as it came (the benchmark's boundary cost)."""

import json
import sys


def main():
    """Shake hands, then echo every unit."""
    sys.stdin.readline()
    out = sys.stdout
    out.write('{"type":"hello","protocol":1,"name":"passthrough"}\n')
    out.flush()
    for line in sys.stdin:
        message = json.loads(line)
        out.write(json.dumps({"type": "unit", "id": message["id"], "envelope": message["envelope"]}))
        out.write("\n")
        out.flush()


if __name__ == "__main__":
    main()
