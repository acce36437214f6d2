"""`provision facts`: print what the host probe observes; save or replay a snapshot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=Path("/"), help="read host files under DIR")
    p.add_argument("--facts", type=Path, metavar="FILE", help="replay a saved snapshot")
    p.add_argument("--save", type=Path, metavar="FILE", help="save the raw probe results")
    p.add_argument("--json", action="store_true", help="print the facts as JSON")
    p.set_defaults(
        run=lambda a: facts(root=a.root, facts_file=a.facts, save=a.save, json_out=a.json)
    )


def facts(
    *,
    root: Path = Path("/"),
    facts_file: Path | None = None,
    save: Path | None = None,
    json_out: bool = False,
    path: str | None = None,
) -> int:
    """Gather (or replay) the host facts and print them; exit 0."""
    from provisioner.checks.doctor import make_probe
    from provisioner.host.facts import gather
    from provisioner.outputs import output_target, write_output

    if save is not None:
        output_target(save, "--save")  # before the probe: a typo is exit 2 now
    probe = make_probe(root, facts_file, path)
    observed = gather(probe)
    if save is not None:
        write_output(save, probe.snapshot_text(), "--save")
    data = observed.as_json()
    if json_out:
        print(json.dumps(data, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("fact", "value", title="host facts", title_justify="left")
    for key, value in data.items():
        table.add_row(key, pythons(observed.pythons) if key == "pythons" else _show(value))
    Console().print(table)
    if save is not None:
        print(f"saved the raw probe results to {save}")
    return 0


def pythons(found: Any) -> str:
    """One line per interpreter (each file once, its other names after it), in the order
    doctor and apply try them."""
    from provisioner.host.interpreters import distinct

    lines = []
    for interpreter, aliases in distinct(list(found)):
        also = f" (also {', '.join(aliases)})" if aliases else ""
        lines.append(f"{interpreter.version:<8} {interpreter.path}{also}")
    return "\n".join(lines) or "none"


def _show(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"unknown"}:
        return f"unknown ({value['unknown']})"
    if isinstance(value, (dict, list)):
        return json.dumps(value) if value else "none"
    return "none" if value is None else str(value)
