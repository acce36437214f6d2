"""Arguments several commands share: the profile (default: the embedded one, as
``apply`` does), ``--locked``/``--frozen`` (apply, plan), ``--host-name`` (apply, verify)
and output paths, which are checked before any work starts so that a
typo in ``--junit`` or ``-o`` is exit 2 at once, not after a whole apply."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import ExitCode, ProvisionError
from provisioner.outputs import output_target, unusable_folder

__all__ = [
    "add_lock_mode",
    "add_profile",
    "check_output_file",
    "check_output_folder",
    "lock_mode",
    "profile_or_default",
    "unusable_folder",
]

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


def check_output_file(path: Path | None, option: str, *, stream: bool = True) -> None:
    """Exit 2 now unless ``path`` can be written: a device or a pipe written through
    (unless ``stream`` is False: the output must be a file), else a file whose folder
    exists (or can be made: its nearest existing ancestor is a writable folder); a
    folder, a disk device or a socket is refused (:mod:`provisioner.outputs`)."""
    if path is None:
        return
    if output_target(path, option, stream=stream) == "stream":
        return
    real = Path(os.path.realpath(path))
    _check_folder(real.parent if str(real.parent) else Path("."), path, option)


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


def _check_folder(folder: Path, target: Path, option: str) -> None:
    why = unusable_folder(folder)
    if why is not None:
        fix = "a writable" if why.endswith("not writable") else "another"
        raise ProvisionError(
            f"{option} {target}: {why}",
            hint=f"choose {fix} {option} path",
            exit_code=ExitCode.INVALID,
        )
