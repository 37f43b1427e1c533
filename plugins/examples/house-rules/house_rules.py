#!/usr/bin/env python3
"""A docpipe subprocess stage (``type = "exec"``) in Python, standard library only.

House rule HR001: the summary line of a public function's docstring ends
with a period. Wire it between the analyzer and the report::

    [stages.house]
    type = "exec"
    command = ["python3", "plugins/examples/house-rules/house_rules.py"]
    inputs = ["analyze.complete", "analyze.incomplete"]

    [stages.report]
    type = "check-report"
    inputs = ["house"]

It speaks docpipe's JSON-lines protocol, version 1 (docs/plugins.md): a
``hello`` line each way, then one ``unit`` line in and one out per unit.
"""

import inspect
import json
import sys

PROTOCOL = 1
CODE = "HR001"


def send(message):
    """Write one protocol message as one line and flush it."""
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def summary_of(docstring):
    """Return the first line of the cleaned docstring, or an empty string."""
    cleaned = inspect.cleandoc(docstring or "")
    return cleaned.split("\n", 1)[0].strip()


def check(envelope, options):
    """Add the HR001 finding to the envelope's unit when the rule is broken."""
    unit = envelope["unit"]
    if unit["kind"] not in ("function", "method") or unit["name"].startswith("_"):
        return
    docstring = unit.get("docstring")
    if not docstring:
        return
    summary = summary_of(docstring["value"])
    if summary and not summary.endswith("."):
        envelope.setdefault("findings", []).append({
            "code": options.get("code", CODE),
            "message": f"the docstring summary of `{unit['qualname']}` does not end with a period",
            "line": docstring["line"],
            "column": 1,
            "fix": "End the summary line with a period",
            "severity": options.get("severity", "error"),
        })


def main():
    """Shake hands, then answer each unit until standard input closes."""
    hello = json.loads(sys.stdin.readline() or "{}")
    if hello.get("protocol") != PROTOCOL:
        print(f"house_rules.py speaks protocol {PROTOCOL}, docpipe sent {hello.get('protocol')}",
              file=sys.stderr)
        return 2
    options = hello.get("options") or {}
    send({"type": "hello", "protocol": PROTOCOL, "name": "house-rules", "version": "1.0"})
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        try:
            envelope = message["envelope"]
            check(envelope, options)
            send({"type": "unit", "id": message["id"], "envelope": envelope})
        except Exception as error:  # noqa: BLE001 - any failure is this unit's
            send({"type": "error", "id": message.get("id"), "message": f"{type(error).__name__}: {error}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
