"""``provision remove -p PROFILE [--pip | --conda] NAME...``: take packages out of the
profile, editing it in place (an inherited package becomes ``"!name"``), then update
the lockfile beside it if there is one (provisioner.profile.edit)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from provisioner.commands.add import add_edit_arguments, kind_of, report


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Remove packages from the profile's environment.pip or "
        'environment.conda; a package the profile inherits (extends) becomes "!name". '
        "Then re-lock the lockfile beside it, if any, keeping every other version."
    )
    add_edit_arguments(p, "NAME", "a package name")
    p.set_defaults(run=lambda a: remove(profile=a.profile, names=a.specs, kind=kind_of(a)))


def remove(*, profile: Path, names: list[str], kind: Any = None) -> int:
    from provisioner.lock.beside import refresh_beside
    from provisioner.profile.edit import remove_packages

    edited = remove_packages(profile, names, kind)
    report(profile, edited.changes, refresh_beside(edited.resolved))
    return 0
