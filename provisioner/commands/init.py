"""``provision init [NAME] [--extends PROFILE] [--from FILE] [-o PATH]``: write a new,
commented profile that validates: one that extends a shipped profile (default ``cpu``)
with an environment of its own, or one made from an ``environment.yml``,
``requirements.txt`` or ``pixi.toml``, saying what could not be carried over
(provisioner.profile.init)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError, relpath


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Write NAME.yaml: a commented profile that validates. It extends "
        "--extends (default: cpu) with an environment of its own, or is made from --from "
        "FILE (conda environment.yml with its pip: part, pip requirements.txt, pixi.toml)."
    )
    p.add_argument(
        "name",
        nargs="?",
        default=None,
        help="profile and environment name (default: from --from, else this folder's name)",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--extends",
        metavar="PROFILE",
        default=None,
        help="a shipped profile's name or a profile path to extend (default: cpu)",
    )
    source.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="import environment.yml, requirements.txt or pixi.toml",
    )
    p.add_argument("-o", "--output", type=Path, help="where to write it (default: NAME.yaml)")
    p.set_defaults(
        run=lambda a: init(name=a.name, extends=a.extends, source=a.source, output=a.output)
    )


def profile_name(name: str | None, source: Path | None) -> str:
    """``name``, else one made from the imported file's name or this folder's."""
    if name is not None:
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", name):
            raise ProvisionError(
                f"{name!r} cannot name a profile and its environment",
                hint="use letters, digits, . _ - (e.g. vision-team)",
                exit_code=ExitCode.INVALID,
            )
        return name
    stem = source.stem if source is not None else Path.cwd().name
    stem = "" if stem in ("environment", "requirements", "pixi") else stem
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-") or "team"


def init(
    *,
    name: str | None = None,
    extends: str | None = None,
    source: Path | None = None,
    output: Path | None = None,
) -> int:
    from provisioner.profile.init import init_profile

    chosen = profile_name(name, source)
    if source is not None and name is None:
        from provisioner.profile.importers import read_source

        imported = read_source(source).name
        if imported and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", imported):
            chosen = imported
    path = output or Path(f"{chosen}.yaml")
    done = init_profile(path, name=chosen, extends=extends, source=source)
    print(f"wrote {relpath(done.path)} ({done.source}); it validates")
    if done.skipped:
        print("not carried over:")
        for line in done.skipped:
            print(f"  {line}")
    shown = relpath(done.path)
    print(f"next: provision add -p {shown} SPEC, then provision apply {shown}")
    return 0
