"""Locks: the exact, hash-verified packages an environment is built from.

The modules mirror ``provisioner.env``, which installs what they lock:

- ``provisioner.lock.conda``: the conda part, solved with py-rattler
  (installed by ``provisioner.env.conda``).
- ``provisioner.lock.pip_part``: the pip part, resolved with uv
  (installed by ``provisioner.env.pip_part``); ``pipconfig`` turns pip's config into uv flags.
- ``provisioner.lock.lockfile``: the conda-lock file, made, written and read;
  ``provisioner.lock.inputs``: what makes a lock fresh or stale.

The value types here are shared by those modules, the environment backends and
apply. The on-disk format is a conda-lock v1 unified lockfile written with
conda-lock's own models; these frozen values are what the rest of the code reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PackageManager = Literal["conda", "pip"]


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One package pinned for one platform."""

    manager: PackageManager
    name: str  # conda name, or the PEP 503-normalized pip name
    version: str
    platform: str  # conda subdir: linux-64, linux-aarch64, win-64 (pip entries too)
    url: str
    sha256: str | None
    build: str = ""  # conda build string; empty for pip
    md5: str | None = None
    subdir: str = ""  # conda: linux-64 / win-64 / noarch
    dependencies: tuple[str, ...] = ()
    category: str = "main"

    @property
    def key(self) -> tuple[str, str]:
        return (self.manager, self.name)

    def spec(self) -> str:
        """``name==version`` (pip) or ``name=version=build`` (conda), for messages and diffs."""
        if self.manager == "pip":
            return f"{self.name}=={self.version}"
        return f"{self.name}={self.version}={self.build}"


@dataclass(frozen=True)
class Lock:
    """All locked packages of one profile, and the hash of the lock inputs they were made
    from (:mod:`provisioner.lock.inputs`), overall and per input."""

    content_hash: str  # inputs_hash(resolved) when the lock was made; older locks: the profile's
    platforms: tuple[str, ...]
    channels: tuple[str, ...]
    packages: tuple[LockedPackage, ...]
    inputs: tuple[tuple[str, str], ...] = ()  # (input name, digest); empty in older lockfiles

    def for_platform(
        self, platform: str, manager: PackageManager | None = None
    ) -> tuple[LockedPackage, ...]:
        return tuple(
            p
            for p in self.packages
            if p.platform == platform and (manager is None or p.manager == manager)
        )


@dataclass(frozen=True)
class Preferences:
    """Versions a new solve keeps where it can: the packages of an earlier lock, less those
    to upgrade (``provision lock --upgrade-package``; ``add`` and ``remove``). Soft, as
    uv's existing-output preferences and rattler's locked packages are: a changed spec
    still wins over a kept version."""

    keep: tuple[LockedPackage, ...] = ()
    upgrade: frozenset[str] = frozenset()  # normalized names re-solved freely

    def kept(self, platform: str, manager: PackageManager) -> tuple[LockedPackage, ...]:
        """The packages of ``platform`` and ``manager`` to keep at their versions."""
        return tuple(
            p
            for p in self.keep
            if p.platform == platform and p.manager == manager and p.name not in self.upgrade
        )


def lock_diff(
    old: Lock | None, new: Lock, platform: str
) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """What changes from ``old`` to ``new`` on ``platform``: (added specs, (old, new) spec
    pairs of changed versions, removed specs), each sorted by name."""
    before = {p.key: p for p in (old.for_platform(platform) if old else ())}
    after = {p.key: p for p in new.for_platform(platform)}
    added = [after[k].spec() for k in sorted(after.keys() - before.keys())]
    removed = [before[k].spec() for k in sorted(before.keys() - after.keys())]
    changed = [
        (before[k].spec(), after[k].spec())
        for k in sorted(before.keys() & after.keys())
        if (before[k].version, before[k].build) != (after[k].version, after[k].build)
    ]
    return added, changed, removed
