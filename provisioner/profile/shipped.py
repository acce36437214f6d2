"""The shipped profiles, inside the package: ``extends: cuda-wsl2`` names one.

Each ``profiles/<name>.yaml`` of the repository is embedded as
``provisioner/data/profiles/<name>.yaml`` (byte for byte; a test keeps them equal), so
an installed provision has them all: ``cpu`` is the default profile, and any of them can
be extended by name from a team profile anywhere (as pixi and conda name an
environment, not a path). A name is looked up only when no file of that name exists
beside the extending profile.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "profiles"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def shipped_names() -> list[str]:
    """The names of the shipped profiles, sorted."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def is_profile_name(ref: str) -> bool:
    """Whether an ``extends`` entry is a bare name (``cuda-wsl2``), not a path."""
    return bool(_NAME.fullmatch(ref)) and not ref.endswith((".yaml", ".yml"))


def shipped_profile(name: str) -> Path | None:
    """The embedded file of shipped profile ``name``; None when there is none."""
    path = SHIPPED_DIR / f"{name}.yaml"
    return path if is_profile_name(name) and path.is_file() else None


def name_hint(ref: str) -> str:
    """The fix for an ``extends`` entry that names nothing: for a bare name, the shipped
    names and the closest one."""
    if not is_profile_name(ref):
        return "give an existing file, relative to this one"
    names = shipped_names()
    stem = ref.removesuffix(".yaml").removesuffix(".yml").rsplit("/", 1)[-1]
    guess = difflib.get_close_matches(stem, names, n=1, cutoff=0.6)
    did = f'did you mean "{guess[0]}"? ' if guess else ""
    return (
        f"{did}give an existing file, relative to this one, or a shipped profile's name "
        f"({', '.join(names)})"
    )
