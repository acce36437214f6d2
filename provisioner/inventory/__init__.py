"""What provision keeps on this machine, and what of it is in use.

Environments (``$PROVISION_ENVS_DIR/<name>``) with their recorded state
(``$PROVISION_HOME/state/<name>.json``): its owning profile, phase and size
(``provision envs``); removing one with everything that belongs to it
(:mod:`provisioner.inventory.remove`); and what no environment uses: artifacts in
provision's store, unpacked bundles, locks and states of environments that are gone
(:mod:`provisioner.inventory.clean`). :func:`in_use` is the one answer to "what does an
environment still use", shared with the bundle's own cleanup.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.errors import ExitCode, ProvisionError
from provisioner.paths import envs_dir, state_dir

# environment.name's rule (profile/model.py): letters, digits, . _ - and not . or ..
_ENV_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class EnvEntry:
    """One environment on this machine, as ``provision envs`` lists it."""

    name: str
    prefix: Path
    profile: str  # the owning profile's name; "" when unknown
    status: str  # verified | built | building | no state | missing
    manager: str
    size: int  # bytes (hard links counted once); 0 when the prefix is missing
    updated_at: str
    lock_path: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": str(self.prefix),
            "profile": self.profile or None,
            "state": self.status,
            "manager": self.manager or None,
            "size_bytes": self.size,
            "updated_at": self.updated_at or None,
            "lock": self.lock_path or None,
        }


def check_env_name(name: str) -> str:
    """``name`` if it can name an environment (no path, no ``..``); else exit 2."""
    if not _ENV_NAME.fullmatch(name) or name in {".", ".."}:
        raise ProvisionError(
            f"{name!r} is not an environment name",
            hint="give a name as `provision envs` lists it (letters, digits, . _ -)",
            exit_code=ExitCode.INVALID,
        )
    return name


def read_raw_state(name: str) -> dict[str, Any] | None:
    """The state file of ``name`` as data (any version); None when missing or unreadable."""
    try:
        data = json.loads((state_dir() / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def state_names() -> list[str]:
    folder = state_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if _ENV_NAME.fullmatch(p.stem))


def prefix_names() -> list[str]:
    folder = envs_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.is_symlink())


def entry(name: str) -> EnvEntry:
    """What is known about environment ``name``: its state and its prefix."""
    state = read_raw_state(name)
    recorded = state.get("prefix") if state else None
    prefix = Path(recorded) if isinstance(recorded, str) and recorded else envs_dir() / name
    if state is None:
        status = "no state"
    elif not prefix.is_dir():
        status = "missing"
    else:
        status = str(state.get("phase") or "unknown")
    return EnvEntry(
        name=name,
        prefix=prefix,
        profile=str(state.get("profile") or "") if state else "",
        status=status,
        manager=str(state.get("manager") or "") if state else "",
        size=tree_size(prefix),
        updated_at=str(state.get("updated_at") or "") if state else "",
        lock_path=str(state.get("lock_path") or "") if state else "",
    )


def environments() -> list[EnvEntry]:
    """Every environment with a state or a prefix in the environments folder, by name."""
    return [entry(n) for n in sorted(set(state_names()) | set(prefix_names()))]


def tree_size(path: Path) -> int:
    """Bytes under ``path`` (files and links, each inode once; symlinks not followed)."""
    if not path.exists() and not path.is_symlink():
        return 0
    if not path.is_dir() or path.is_symlink():
        return path.lstat().st_size
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(path, onerror=lambda e: None):
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(root, d)))]:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


@dataclass(frozen=True)
class InUse:
    """What the recorded environments use: their prefixes, lockfiles and the hashes of
    their packages."""

    prefixes: frozenset[Path]
    lock_paths: frozenset[Path]
    hashes: frozenset[str]

    def uses_folder(self, folder: Path) -> bool:
        """Whether an environment's prefix or lockfile is ``folder`` or under it."""
        folder = folder.resolve()
        return any(p == folder or folder in p.parents for p in self.prefixes | self.lock_paths)


def in_use() -> InUse:
    """What no cleanup may remove: everything a recorded environment whose prefix still
    exists (or is being built) uses; an environment deleted by hand leaves its state
    behind, and that state uses nothing."""
    prefixes: set[Path] = set()
    locks: set[Path] = set()
    hashes: set[str] = set()
    for name in state_names():
        state = read_raw_state(name)
        if not state or not isinstance(state.get("prefix"), str):
            continue
        prefix = Path(state["prefix"])
        if not prefix.is_dir() and state.get("phase") != "building":  # building: not yet
            continue
        prefixes.add(prefix.resolve())
        if isinstance(state.get("lock_path"), str) and state["lock_path"]:
            locks.add(Path(state["lock_path"]).resolve())
        for pkg in state.get("packages") or []:
            if isinstance(pkg, dict):
                hashes.update(h for h in (pkg.get("sha256"), pkg.get("md5")) if isinstance(h, str))
    return InUse(frozenset(prefixes), frozenset(locks), frozenset(hashes))


def human_size(size: int) -> str:
    """``1.2 GB``, ``340 MB``, ``12 kB``, ``0 B`` (decimal units, as du -h --si)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
