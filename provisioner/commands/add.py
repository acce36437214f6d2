"""``provision add -p PROFILE [--pip | --conda] SPEC...``: put packages into the profile,
editing it in place (comments, order and formatting kept), then update the lockfile
beside it if there is one, keeping every other locked version (provisioner.profile.edit,
provisioner.lock.beside)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from provisioner.errors import relpath


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Add or re-pin packages in the profile's environment.pip or "
        "environment.conda, keeping the file's comments and formatting; then re-lock the "
        "lockfile beside it, if any, keeping every other package's version."
    )
    add_edit_arguments(p, "SPEC", "a pip requirement or a conda match spec")
    p.set_defaults(run=lambda a: add(profile=a.profile, specs=a.specs, kind=kind_of(a)))


def add_edit_arguments(p: argparse.ArgumentParser, metavar: str, what: str) -> None:
    """``-p PROFILE``, ``--pip``/``--conda`` and the package arguments (add and remove)."""
    p.add_argument(
        "-p", "--profile", type=Path, required=True, help="the profile YAML file to edit"
    )
    kinds = p.add_mutually_exclusive_group()
    kinds.add_argument("--pip", action="store_true", help="environment.pip (default for venv)")
    kinds.add_argument("--conda", action="store_true", help="environment.conda (default for conda)")
    p.add_argument("specs", nargs="+", metavar=metavar, help=what)


def kind_of(args: argparse.Namespace) -> Any:
    return "pip" if args.pip else "conda" if args.conda else None


def add(*, profile: Path, specs: list[str], kind: Any = None) -> int:
    from provisioner.lock.beside import refresh_beside
    from provisioner.lock.update import normalized
    from provisioner.profile.edit import add_packages
    from provisioner.profile.extends import package_name

    edited = add_packages(profile, specs, kind)
    names = [n for s in specs if (n := package_name(s, kind or "pip"))]
    report(profile, edited.changes, refresh_beside(edited.resolved, normalized(names)))
    return 0


def report(profile: Path, changes: tuple[str, ...], refresh: Any) -> None:
    """What the edit changed, what the lock update changed, and what to run next."""
    shown = relpath(profile)
    for line in changes:
        print(f"{shown}: {line}")
    if refresh.changes is None:
        print(f"no lockfile beside {shown}: `provision apply {shown}` locks and installs it")
        return
    print(f"updated {relpath(refresh.path)}:")
    print("\n".join(f"  {c}" for c in refresh.changes) or "  no package changed")
    print(f"next: `provision apply {shown}` installs it")
