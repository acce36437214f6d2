"""Arguments several commands share: the profile (default: the embedded one, as
``apply`` does), ``--locked``/``--frozen`` (apply, plan), ``--host-name`` (apply, verify)
and output paths, which are checked before any work starts so that a
typo in ``--junit`` or ``-o`` is exit 2 at once, not after a whole apply."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import ExitCode, ProvisionError

if TYPE_CHECKING:
    from provisioner.apply.run import LockMode

PROFILE_HELP = "profile YAML file (default: the embedded cpu profile)"
HOST_NAME_HELP = (
    "name this host in the report as the fleet knows it (an inventory name); "
    "default: $PROVISION_HOST_NAME, else the hostname"
)


def add_profile(parser: Any) -> None:
    """The optional PROFILE positional every profile command takes."""
    parser.add_argument("profile", type=Path, nargs="?", default=None, help=PROFILE_HELP)


def add_lock_mode(p: Any) -> None:
    """``--locked`` / ``--frozen`` (plan takes them too, to show what apply will do)."""
    modes = p.add_mutually_exclusive_group()
    modes.add_argument(
        "--locked",
        action="store_true",
        help="stop (exit 1) when the lockfile beside the profile is missing or stale, "
        "instead of updating it (for CI and lab scripts)",
    )
    modes.add_argument(
        "--frozen",
        action="store_true",
        help="install the lock as it is, even when stale; never solve (exit 2 without a lock)",
    )


def lock_mode(*, locked: bool, frozen: bool) -> LockMode:
    """``--locked`` / ``--frozen`` as the lock step's mode (they exclude each other)."""
    if locked and frozen:
        raise ProvisionError(
            "--locked and --frozen exclude each other",
            hint="--locked refuses a stale lock, --frozen installs it as it is: pick one",
        )
    return "locked" if locked else "frozen" if frozen else "update"


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
    why = unusable_folder(folder)
    if why is not None:
        fix = "a writable" if why.endswith("not writable") else "another"
        raise ProvisionError(
            f"{option} {target}: {why}",
            hint=f"choose {fix} {option} path",
            exit_code=ExitCode.INVALID,
        )
