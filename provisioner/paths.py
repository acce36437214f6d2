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
"""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(variable: str, *default: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home().joinpath(*default)


def data_home() -> Path:
    """``$PROVISION_HOME`` or ``$XDG_DATA_HOME/provision``: envs, state and reports live here."""
    if os.environ.get("PROVISION_HOME"):
        return Path(os.environ["PROVISION_HOME"])
    return _xdg("XDG_DATA_HOME", ".local", "share") / "provision"


def envs_dir() -> Path:
    """Where environments are built: ``$PROVISION_ENVS_DIR`` or ``<data home>/envs``."""
    return Path(os.environ.get("PROVISION_ENVS_DIR") or data_home() / "envs")


def state_dir() -> Path:
    return data_home() / "state"


def reports_dir() -> Path:
    return data_home() / "reports"


def locks_dir() -> Path:
    """Locks apply makes for a profile without a committed lockfile."""
    return data_home() / "locks"


def bundles_dir() -> Path:
    return data_home() / "bundles"


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


def log_dir() -> Path:
    """Crash logs: ``$XDG_STATE_HOME/provision/logs``."""
    return _xdg("XDG_STATE_HOME", ".local", "state") / "provision" / "logs"
