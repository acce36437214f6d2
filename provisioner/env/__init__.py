"""Environment backends: one small Protocol, one module per backend, a plain dict registry.

- ``provisioner.env.conda``: embedded py-rattler installs the locked conda packages
  (conda-meta written, so conda/mamba/micromamba can read the prefix), then pip
  installs the locked pip part with hashes using the prefix's own Python.
- ``provisioner.env.venv``: a host interpreter matching ``environment.python``,
  then the locked pip part with hashes.

The registry (``environment.manager`` -> backend) is ``provisioner.env.registry``, so
neither backend imports the other through this package.

Where environments live: ``$PROVISION_ENVS_DIR/<environment.name>``, default
``$XDG_DATA_HOME/provision/envs`` (``~/.local/share/provision/envs``). Pointing
``PROVISION_ENVS_DIR`` at a conda ``envs`` folder makes ``conda activate NAME`` work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from provisioner.lock import Lock, LockedPackage
from provisioner.paths import envs_dir


def env_prefix(env_name: str, envs: Path | None = None) -> Path:
    return (envs or envs_dir()) / env_name


def env_python(prefix: Path, *, windows: bool = False, manager: str = "conda") -> Path:
    """The environment's own interpreter."""
    if windows:
        return prefix / ("python.exe" if manager == "conda" else "Scripts/python.exe")
    return prefix / "bin" / "python"


@dataclass(frozen=True)
class EnvDiff:
    """How an existing prefix differs from the lock. Empty lists mean it matches exactly."""

    add: tuple[LockedPackage, ...] = ()
    remove: tuple[str, ...] = ()  # "manager:name" installed but not locked
    change: tuple[tuple[str, LockedPackage], ...] = ()  # (installed spec, locked package)
    exists: bool = True
    notes: tuple[str, ...] = field(default=())
    # "manager:name" of installed packages whose files no longer match their records
    # (found only by a file check, ``diff(..., files=True)``); they are in ``change`` too.
    altered: tuple[str, ...] = ()
    # files no verified package installs (a .pth planted in uv's cache entry, found only
    # by a file check): removed by the install
    strays: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        return self.exists and not (self.add or self.remove or self.change or self.strays)


class EnvBackend(Protocol):
    """What apply needs from an environment manager."""

    name: str

    def diff(self, prefix: Path, lock: Lock, platform: str, *, files: bool = False) -> EnvDiff:
        """Compare an existing prefix with the lock without changing anything; with
        ``files`` also hash every installed file against its package's record."""
        ...

    def install(
        self,
        prefix: Path,
        lock: Lock,
        platform: str,
        *,
        diff: EnvDiff | None = None,
        quiet: bool = False,
        offline: bool = False,
    ) -> None:
        """Make ``prefix`` match the lock exactly (create or update).

        ``diff`` is :meth:`diff` of this prefix as apply's environment check found it:
        the install acts on it instead of comparing again. ``None`` (a caller without a
        check) compares here. ``offline``: the installers reach no network (every
        package is already local, as in a bundle)."""
        ...
