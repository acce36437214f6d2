"""Where a profile's lockfile lives: the one answer every command uses.

A profile's lockfile is ``<profile stem>.conda-lock.yml`` beside the profile, committed
with it: ``provision lock`` writes it, ``lock --check`` checks it, ``render`` and the
bundle carry it, and ``apply`` builds from it. A shipped profile's folder is the
installed package, so its lockfile is provision's own,
``$PROVISION_HOME/locks/<environment>.conda-lock.yml``; apply also keeps its own lock
there for a profile that has none beside it (``docs/lock.md``, lock modes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provisioner.paths import locks_dir
from provisioner.profile import ResolvedProfile
from provisioner.profile.shipped import SHIPPED_DIR

SUFFIX = ".conda-lock.yml"


@dataclass(frozen=True)
class LockLocation:
    """``path``: the profile's lockfile; ``own``: provision's own lock for the profile's
    environment, which apply uses while ``path`` (when it is beside the profile) does not
    exist. For a shipped profile the two are the same file."""

    path: Path
    own: Path

    @property
    def beside(self) -> bool:
        """Whether the profile's lockfile is beside the profile (a file a team commits)."""
        return self.path != self.own


def own_lock_path(environment: str) -> Path:
    """Provision's own lock for an environment: ``$PROVISION_HOME/locks/<name>.conda-lock.yml``."""
    return locks_dir() / f"{environment}{SUFFIX}"


def lock_location(resolved: ResolvedProfile) -> LockLocation:
    """Where ``resolved``'s lockfile lives (see the module docstring)."""
    own = own_lock_path(resolved.profile.environment.name)
    if resolved.path.resolve().parent == SHIPPED_DIR:
        return LockLocation(own, own)
    return LockLocation(resolved.path.parent / f"{resolved.path.stem}{SUFFIX}", own)
