"""Re-lock keeping what is locked: ``provision lock --upgrade-package NAME`` and the
lock update after ``provision add`` / ``remove``.

The earlier lock's versions are preferences for the new solve (uv reads them as its
existing output; rattler as locked packages), except the packages named to upgrade, so
one package moves and everything else stays where it was, as ``uv lock
--upgrade-package`` and ``pixi update NAME`` do. Preferences are soft: a spec the profile
changed still wins. :func:`changes` says what moved, one line per package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from provisioner.errors import ExitCode, ProvisionError
from provisioner.lock import Lock, Preferences, lock_diff
from provisioner.profile import ResolvedProfile


@dataclass(frozen=True)
class Relocked:
    """A new lock and the one it replaced (None when there was none)."""

    old: Lock | None
    new: Lock

    def changes(self) -> list[str]:
        """``+ name==1.0``, ``~ name 1.0 -> 2.0``, ``- name==1.0`` per platform."""
        out: list[str] = []
        for platform in self.new.platforms:
            added, changed, removed = lock_diff(self.old, self.new, platform)
            where = f" ({platform})" if len(self.new.platforms) > 1 else ""
            out += [f"+ {s}{where}" for s in added]
            out += [f"~ {a} -> {b}{where}" for a, b in changed]
            out += [f"- {s}{where}" for s in removed]
        return out


def normalized(names: Iterable[str]) -> frozenset[str]:
    """Package names as locks store them: pip's normalized form and conda's lower case."""
    out: set[str] = set()
    for name in names:
        out |= {canonicalize_name(name), name.lower()}
    return frozenset(out)


def check_upgrade_names(names: Iterable[str], old: Lock | None, resolved: ResolvedProfile) -> None:
    """Exit 2 for a name neither the lock nor the profile has (a typo would upgrade nothing)."""
    from provisioner.profile.extends import package_name

    env = resolved.profile.environment
    known = {p.name for p in old.packages} if old else set()
    known |= {n for s in env.pip if (n := package_name(s, "pip"))}
    known |= {n for s in env.conda if (n := package_name(s, "conda"))}
    for name in names:
        if not (normalized([name]) & known):
            raise ProvisionError(
                f"--upgrade-package {name}: no such package in the lock or the profile",
                hint="name a package `provision list` or the lockfile shows",
                exit_code=ExitCode.INVALID,
            )


def relock(resolved: ResolvedProfile, old: Lock | None, *, upgrade: Iterable[str] = ()) -> Relocked:
    """Solve again, keeping ``old``'s versions except ``upgrade``'s (all of them when
    ``old`` is None)."""
    from provisioner.lock.lockfile import lock_profile

    prefer = Preferences(old.packages, normalized(upgrade)) if old is not None else None
    return Relocked(old, lock_profile(resolved, prefer))


def read_existing(path: Path) -> Lock | None:
    """The lock at ``path`` if it exists and reads; None otherwise (then nothing is kept)."""
    from provisioner.lock.lockfile import read_lockfile

    if not path.is_file():
        return None
    try:
        return read_lockfile(path)
    except ProvisionError:
        return None
