"""``provision validate PROFILE...``: load every profile and report every error in each.

Exit 0 when all are valid, 2 otherwise. Errors print like a compiler's, in the
CLI's one error style (``file:line:col: error: path: message`` at the start of
the line, as gcc prints it);
``--json`` prints a list of ``{file, line, col, path, message, severity}`` on stdout
instead. Warnings (``severity: warning``, e.g. a variable that redirects TLS trust)
are printed too and do not change the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from provisioner.errors import Diagnostic, ExitCode, ValidationFailed


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "profile", nargs="*", type=Path, help="profile YAML files (default: the embedded cpu)"
    )
    p.add_argument("--json", action="store_true", help="print errors as a JSON list")
    p.set_defaults(run=lambda a: validate(profiles=a.profile, json_out=a.json))


def validate(*, profiles: Sequence[str | Path], json_out: bool = False) -> int:
    """Validate each profile; print the diagnostics; return 0 or 2."""
    from provisioner.cli_arguments import profile_or_default
    from provisioner.profile import load_profile

    profiles = list(profiles) or [profile_or_default(None)]
    found: list[Diagnostic] = []
    valid: list[str] = []
    for path in profiles:
        try:
            found.extend(load_profile(path).warnings)
            valid.append(str(path))
        except ValidationFailed as e:
            found.extend(e.diagnostics)
    errors = sum(1 for d in found if d.severity == "error")
    if json_out:
        print(json.dumps([_as_json(d) for d in found], indent=2, ensure_ascii=False))
    else:
        for name in valid:
            print(f"ok: {name}")
        for d in found:  # the CLI's one style: "FILE:L:C: error: ..." (or "warning: ...")
            print(d.printed(), file=sys.stderr)
        if errors:
            print(f"{errors} error(s)", file=sys.stderr)
    return int(ExitCode.INVALID if errors else ExitCode.OK)


def _as_json(d: Diagnostic) -> dict[str, object]:
    pos = d.position
    return {
        "file": pos.file if pos else None,
        "line": pos.line if pos else None,
        "col": pos.col if pos else None,
        "path": d.path,
        "message": d.message,
        "severity": d.severity,
    }
