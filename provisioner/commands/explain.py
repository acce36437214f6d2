"""`provision explain FILE|-`: name the known failure signatures in a log.

Exit 1 when a fail-severity signature matched, 0 otherwise (benign noise and
warnings alone exit 0), so a CI step can gate on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "explain", help="recognise known failure signatures in a log (FILE or - for stdin)"
    )
    p.add_argument("log", help="log file, or - to read stdin")
    p.add_argument("--json", action="store_true", help="print the matches as JSON")
    p.set_defaults(run=lambda a: explain(log=a.log, json_out=a.json))


def explain(*, log: str, json_out: bool = False) -> int:
    """Print each recognised signature with its meaning and fix; 1 if one is a failure."""
    from provisioner.errors import ProvisionError
    from provisioner.signatures import failures, match_log

    if log == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(log).read_text("utf-8", errors="replace")
        except OSError as e:
            raise ProvisionError(
                f"{log}: cannot read the log: {e.strerror}", hint="pass a readable file or -"
            ) from e
    matches = match_log(text)
    if json_out:
        print(json.dumps({"matches": [m.as_json() for m in matches]}, indent=2))
    elif not matches:
        print("no known signature found")
    else:
        for m in matches:
            s = m.signature
            print(f"line {m.line}: {s.severity}: {s.id}: {m.excerpt}")
            print(f"  meaning: {s.meaning}")
            print(f"  fix: {s.fix}")
    return 1 if failures(matches) else 0
