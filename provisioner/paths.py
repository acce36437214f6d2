"""Where provision keeps its files: one home for every folder and its override.

- data home: ``$PROVISION_HOME``, else ``$XDG_DATA_HOME/provision``
  (``~/.local/share/provision``); under it ``state/``, ``reports/``, ``locks/`` and
  ``bundles/``;
- environments: ``$PROVISION_ENVS_DIR``, else ``<data home>/envs`` (pointing it at a
  conda ``envs`` folder makes ``conda activate NAME`` work);
- caches: ``$XDG_CACHE_HOME/provision`` (``~/.cache/provision``), downloaded
  artifacts by sha256 under ``artifacts/``; rattler's own package cache is
  ``$RATTLER_CACHE_DIR/pkgs`` (``~/.cache/rattler/cache/pkgs``);
- logs (crash logs): ``$XDG_STATE_HOME/provision/logs`` (``~/.local/state/...``).

The data home and its ``state/``, ``reports/``, ``locks/`` and ``bundles/`` hold what
apply trusts (the verified mark, the lock it built from), so, as ssh does with
``~/.ssh``, each that exists must be owned by this user (or root) and not writable by
group or others: :func:`private` refuses one that is not, with the fix (exit 2).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError


class UnsafeHome(ProvisionError):
    """A folder of the data home that another user owns or others can write."""

    exit_code = ExitCode.INVALID


def private(folder: Path) -> Path:
    """``folder`` (the data home or a folder below it), after checking it and each
    folder from the data home down to it that exists: owned by this user or root, not
    writable by group or others (links are followed: their target is checked)."""
    if not hasattr(os, "geteuid"):  # Windows: ACLs, not modes
        return folder
    home = data_home()
    chain = [folder]
    try:
        rel = folder.relative_to(home)
        chain = [home.joinpath(*rel.parts[:i]) for i in range(len(rel.parts) + 1)]
    except ValueError:
        pass
    me = os.geteuid()
    for path in chain:
        try:
            info = path.stat()
        except OSError:
            continue  # not there yet: made by this user when it is needed
        why = ""
        if info.st_uid not in (me, 0):
            why = f"it is owned by another user (uid {info.st_uid})"
            fix = f"use a PROVISION_HOME of your own, or `chown -R $(id -u) {path}`"
        elif stat.S_ISDIR(info.st_mode) and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            who = "group and others" if info.st_mode & stat.S_IWOTH else "its group"
            why = f"{who} can write to it (mode {stat.S_IMODE(info.st_mode):o})"
            fix = f"chmod go-w {path}"
        if why:
            raise UnsafeHome(
                f"refusing to use {path}: {why}, so another user could plant files or "
                "links that provision would trust",
                hint=fix,
            )
    return folder


def _xdg(variable: str, *default: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home().joinpath(*default)


def windows_service_account(platform: str | None = None) -> bool:
    """SYSTEM and the other Windows service accounts: their profile folder is under the
    Windows folder (``C:\\Windows\\system32\\config\\systemprofile``), which a
    32-bit process sees redirected to SysWOW64 and lab users cannot read."""
    if (platform or sys.platform) != "win32":
        return False
    windows = os.environ.get("SYSTEMROOT", "").rstrip("\\")
    profile = os.environ.get("USERPROFILE", "")
    return bool(windows) and profile.lower().startswith(windows.lower() + "\\")


def data_home() -> Path:
    """``$PROVISION_HOME`` or ``$XDG_DATA_HOME/provision``: envs, state and reports live
    here; for a Windows service account (Intune and SCCM run as SYSTEM)
    ``%ProgramData%\\provision``, as bootstrap.ps1 does."""
    if os.environ.get("PROVISION_HOME"):
        return Path(os.environ["PROVISION_HOME"])
    if not os.environ.get("XDG_DATA_HOME") and windows_service_account():
        return Path(os.environ.get("PROGRAMDATA") or "C:\\ProgramData") / "provision"
    return _xdg("XDG_DATA_HOME", ".local", "share") / "provision"


def envs_dir() -> Path:
    """Where environments are built: ``$PROVISION_ENVS_DIR`` or ``<data home>/envs``."""
    return Path(os.environ.get("PROVISION_ENVS_DIR") or data_home() / "envs")


def state_dir() -> Path:
    """Apply's state and locks, checked by :func:`private`."""
    return private(data_home() / "state")


def reports_dir() -> Path:
    """Reports, checked by :func:`private`."""
    return private(data_home() / "reports")


def locks_dir() -> Path:
    """Locks apply makes for a profile without a committed lockfile (:func:`private`)."""
    return private(data_home() / "locks")


def bundles_dir() -> Path:
    """The bundles' localized profiles and locks (:func:`private`)."""
    return private(data_home() / "bundles")


def cache_root() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / "provision"


def artifact_store() -> Path:
    """Downloaded artifacts by content: ``<cache>/artifacts/<sha256>/<file>``."""
    return cache_root() / "artifacts"


def rattler_pkgs_dir() -> Path:
    """rattler's package cache: ``$RATTLER_CACHE_DIR/pkgs`` or ``~/.cache/rattler/cache/pkgs``."""
    root = os.environ.get("RATTLER_CACHE_DIR")
    if root:
        return Path(root) / "pkgs"
    return Path.home() / ".cache" / "rattler" / "cache" / "pkgs"


def default_profile_path() -> Path:
    """The embedded default profile shipped inside the package (a copy of profiles/cpu.yaml;
    every shipped profile is embedded: provisioner.profile.shipped)."""
    return Path(__file__).resolve().parent / "data" / "profiles" / "cpu.yaml"


def log_dir() -> Path:
    """Crash logs: ``$XDG_STATE_HOME/provision/logs``."""
    return _xdg("XDG_STATE_HOME", ".local", "state") / "provision" / "logs"
