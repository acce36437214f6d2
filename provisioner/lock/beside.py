"""Keep the lockfile beside a profile fresh after the profile was edited (``provision
add`` / ``remove``): re-lock it keeping every locked version the edit allows, as
``uv add`` updates ``uv.lock``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from provisioner.profile import ResolvedProfile


@dataclass(frozen=True)
class LockRefresh:
    """The lockfile beside the profile after an edit: where, and what moved (None: there
    is no lockfile beside the profile, nothing was locked)."""

    path: Path
    changes: tuple[str, ...] | None


def refresh_beside(resolved: ResolvedProfile, upgrade: Iterable[str] = ()) -> LockRefresh:
    """Re-lock the lockfile beside ``resolved`` when there is one (``upgrade``: names
    re-solved freely, the packages just added)."""
    from provisioner.lock.location import lock_location
    from provisioner.lock.lockfile import write_lockfile
    from provisioner.lock.update import read_existing, relock

    path = lock_location(resolved).path
    if not path.is_file():
        return LockRefresh(path, None)
    relocked = relock(resolved, read_existing(path), upgrade=upgrade)
    write_lockfile(relocked.new, resolved, path)
    return LockRefresh(path, tuple(relocked.changes()))
