"""Arguments several commands share: the profile (default: the embedded one, as
``apply`` does) and output paths, which are checked before any work starts so that a
typo in ``--junit`` or ``-o`` is exit 2 at once, not after a whole apply."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from provisioner.errors import ExitCode, ProvisionError

PROFILE_HELP = "profile YAML file (default: the embedded cpu profile)"


def add_profile(parser: Any) -> None:
    """The optional PROFILE positional every profile command takes."""
    parser.add_argument("profile", type=Path, nargs="?", default=None, help=PROFILE_HELP)


def profile_or_default(profile: Path | None) -> Path:
    """``profile``, or the embedded default profile when none was given."""
    from provisioner.profile import default_profile_path

    return profile if profile is not None else Path(default_profile_path())


def check_output_file(path: Path | None, option: str) -> None:
    """Exit 2 now unless ``path`` can be written as a file: not a folder, and its folder
    exists (or can be made: its nearest existing ancestor is a writable folder)."""
    if path is None:
        return
    if path.is_dir():
        raise ProvisionError(
            f"{option} {path}: is a folder",
            hint=f"give {option} a file path",
            exit_code=ExitCode.INVALID,
        )
    _check_folder(path.parent if str(path.parent) else Path("."), path, option)


def check_output_folder(path: Path | None, option: str) -> None:
    """Exit 2 now unless ``path`` is (or can be made) a writable folder."""
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise ProvisionError(
            f"{option} {path}: exists and is not a folder",
            hint=f"give {option} a folder",
            exit_code=ExitCode.INVALID,
        )
    _check_folder(path, path, option)


def unusable_folder(folder: Path) -> str | None:
    """Why ``folder`` cannot be used (or made) as a writable folder; None when it can."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _check_folder(folder: Path, target: Path, option: str) -> None:
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ProvisionError(
            f"{option} {target}: {existing} is not a folder",
            hint=f"choose another {option} path",
            exit_code=ExitCode.INVALID,
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ProvisionError(
            f"{option} {target}: {existing} is not writable",
            hint=f"choose a writable {option} path",
            exit_code=ExitCode.INVALID,
        )
