"""`provision doctor PROFILE`: judge this host against the profile's checks, with fixes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from provisioner.cli_arguments import add_profile, profile_or_default

STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "unknown": "magenta", "skip": "dim"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_profile(p)
    p.add_argument("--root", type=Path, default=Path("/"), help="read host files under DIR")
    p.add_argument("--facts", type=Path, metavar="FILE", help="replay a saved snapshot")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument(
        "--all", action="store_true", help="also list the checks that do not apply to the profile"
    )
    p.set_defaults(
        run=lambda a: doctor(
            profile=a.profile, root=a.root, facts_file=a.facts, json_out=a.json, all_rows=a.all
        )
    )


def doctor(
    *,
    profile: Path | None = None,
    root: Path = Path("/"),
    facts_file: Path | None = None,
    json_out: bool = False,
    path: str | None = None,
    all_rows: bool = False,
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
        # A check that does not apply to the profile (another target, GPU API or manager)
        # says nothing about this host: listed only with --all. A check skipped because
        # one it needs did not pass stays: it says what was not looked at.
        hidden = [v for v in diagnosis.verdicts if not all_rows and not_applicable(v.summary)]
        for v in diagnosis.verdicts:
            if v not in hidden:
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
        note = python_note(diagnosis, resolved)
        if note:
            console.print(note, soft_wrap=True)
        if hidden:
            console.print(
                f"{len(hidden)} checks do not apply to this profile (--all lists them)",
                style="dim",
            )
        word = "ready" if diagnosis.ready else "NOT ready"
        console.print(f"{diagnosis.profile}: this host is {word}")
    return 0 if diagnosis.ready else 1


def not_applicable(summary: str) -> bool:
    """A skip because the check is not for this profile (checks/plan.py's reasons)."""
    return summary.startswith(
        ("skipped: not for ", "skipped: the profile sets no ", "skipped: the profile installs no ")
    )


def python_note(diagnosis: Any, resolved: Any) -> str:
    """Which interpreter a venv profile's environment is built with: the first of the
    matching ones, as apply tries them (env/venv.py), so doctor and apply name the same."""
    from provisioner.host.interpreters import matching

    verdict = next((v for v in diagnosis.verdicts if v.id == "python.available"), None)
    if verdict is None or verdict.status != "pass":
        return ""
    version = resolved.profile.environment.python
    found = matching(list(diagnosis.facts.pythons), version)
    if not found:
        return ""
    first = found[0]
    where = {
        "path": "on PATH",
        "py": "the py launcher lists",
        "folder": "in the python.org installer's folders",
    }.get(first.source, f"from {first.source}")
    order = (
        "the py launcher, then PATH, then the python.org folders"
        if diagnosis.facts.os_kind == "windows"
        else "PATH comes before pyenv"
    )
    return (
        f"note python.available: apply builds the venv with {first.path} (Python "
        f"{first.version}, the first {version} {where}; {order})"
    )
