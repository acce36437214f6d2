"""`provision doctor PROFILE`: judge this host against the profile's checks, with fixes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from provisioner.cli_arguments import add_profile, profile_or_default

STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "unknown": "magenta", "skip": "dim"}


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "doctor", help="check this host against a profile; exit 0 ready, 1 not ready"
    )
    add_profile(p)
    p.add_argument("--root", type=Path, default=Path("/"), help="read host files under DIR")
    p.add_argument("--facts", type=Path, metavar="FILE", help="replay a saved snapshot")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.set_defaults(
        run=lambda a: doctor(profile=a.profile, root=a.root, facts_file=a.facts, json_out=a.json)
    )


def doctor(
    *,
    profile: Path | None = None,
    root: Path = Path("/"),
    facts_file: Path | None = None,
    json_out: bool = False,
    path: str | None = None,
) -> int:
    """Print every verdict (and each failure's fix); 0 when ready, 1 when not."""
    from provisioner.checks.doctor import diagnose
    from provisioner.profile import load_profile

    resolved = load_profile(profile_or_default(profile))
    diagnosis = diagnose(resolved, root=root, facts_file=facts_file, path=path)
    if json_out:
        print(json.dumps(diagnosis.as_json(), indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table("check", "status", "observed", title=f"doctor: {diagnosis.profile}")
        for v in diagnosis.verdicts:
            table.add_row(v.id, f"[{STYLE[v.status]}]{v.status}[/]", v.summary)
        console = Console(highlight=False)
        console.print(table)
        for v in diagnosis.verdicts:
            if v.fix:
                console.print(f"[{STYLE[v.status]}]{v.status}[/] {v.id}: {v.fix}", soft_wrap=True)
        judged = {v.id for v in diagnosis.verdicts if v.status != "skip"}
        if "gpu.driver" in judged:  # the profile's per-vendor notes belong next to it
            for vendor, text in resolved.profile.requires.gpu.notes.items():
                console.print(f"note gpu.driver ({vendor}): {text}", soft_wrap=True)
        word = "ready" if diagnosis.ready else "NOT ready"
        console.print(f"{diagnosis.profile}: this host is {word}")
    return 0 if diagnosis.ready else 1
