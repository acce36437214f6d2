"""``provision envs remove NAME``: delete an environment and everything provision keeps
for it: the prefix, its state (and the state's lock file), apply's own cached lockfile
(``$PROVISION_HOME/locks/NAME.conda-lock.yml``; a lockfile beside a profile is the
user's and stays) and its reports (latest and history). Done under the environment's
apply lock, so it never races an apply."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError
from provisioner.inventory import check_env_name, entry, tree_size
from provisioner.lock.location import own_lock_path
from provisioner.paths import envs_dir, reports_dir, state_dir


@dataclass(frozen=True)
class Removed:
    """What one removal deleted (paths) and the bytes it freed."""

    name: str
    paths: tuple[Path, ...]
    freed: int


def _looks_like_environment(prefix: Path) -> bool:
    """A venv (pyvenv.cfg) or a conda prefix (conda-meta): never rmtree anything else."""
    return (prefix / "pyvenv.cfg").is_file() or (prefix / "conda-meta").is_dir()


def remove_environment(name: str) -> Removed:
    """Delete environment ``name`` and what belongs to it; exit 2 when nothing is known
    about it, 1 when an apply holds it."""
    from provisioner.apply.guard import exclusive
    from provisioner.report.store import history_of

    check_env_name(name)
    found = entry(name)
    if found.status == "no state" and not found.prefix.is_dir():
        raise ProvisionError(
            f"no environment named {name!r} (in {envs_dir()} or provision's state)",
            hint="`provision envs` lists the environments",
            exit_code=ExitCode.INVALID,
        )
    prefix = found.prefix
    if prefix.is_dir() and not _looks_like_environment(prefix) and any(prefix.iterdir()):
        raise ProvisionError(
            f"{prefix} does not look like an environment (no pyvenv.cfg, no conda-meta); "
            "not deleting it",
            hint=f"delete it yourself if it is one, then run `provision envs remove {name}` "
            "again for its state",
            exit_code=ExitCode.NOT_READY,
        )
    removed: list[Path] = []
    freed = 0
    with exclusive(state_dir() / f"{name}.lock", name):
        reports = reports_dir()
        candidates = [
            prefix,
            state_dir() / f"{name}.json",
            state_dir() / f"{name}.files",  # the drift ledger (provisioner.apply.drift)
            state_dir() / f"{name}.hashes",
            own_lock_path(name),
            reports / f"{name}.json",
            *history_of(reports / "history", name),
        ]
        for path in candidates:
            if not path.exists() and not path.is_symlink():
                continue
            size = tree_size(path)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
            freed += size
    (state_dir() / f"{name}.lock").unlink(missing_ok=True)
    return Removed(name, tuple(removed), freed)
