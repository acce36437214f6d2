"""``provision clean [--dry-run]``: remove what no environment uses.

- artifacts in provision's store (``$XDG_CACHE_HOME/provision/artifacts/<hash>/``)
  whose hash no recorded environment lists;
- unpacked bundles (``$PROVISION_HOME/bundles/*``) whose lockfile no environment was
  built from (:func:`unused_bundles`, also what a bundle update removes);
- the state of an environment whose prefix was deleted by hand, and apply's cached
  lockfile of an environment that has neither a state nor a prefix.

uv's and rattler's caches are shared with other tools (uv itself, pixi), so provision
does not prune them; it says how large they are and which command trims them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from provisioner.inventory import (
    InUse,
    in_use,
    prefix_names,
    read_raw_state,
    state_names,
    tree_size,
)
from provisioner.paths import artifact_store, bundles_dir, locks_dir, rattler_pkgs_dir, state_dir


@dataclass(frozen=True)
class Unused:
    """One thing no environment uses: what it is, where, how large, and why."""

    kind: str  # artifact | bundle | state | lock
    path: Path
    size: int
    why: str


def unused_artifacts(use: InUse) -> list[Unused]:
    store = artifact_store()
    if not store.is_dir():
        return []
    return [
        Unused("artifact", d, tree_size(d), "no environment's lock lists this package")
        for d in sorted(store.iterdir())
        if d.is_dir() and not d.is_symlink() and d.name not in use.hashes
    ]


def unused_bundles(use: InUse | None = None) -> list[Path]:
    """The unpacked bundles under ``$PROVISION_HOME/bundles`` from which no recorded
    environment was built: none has its lockfile or prefix in them, and no lockfile
    an environment was built from points into them (a bundle's localized lock names
    its packages by ``file://`` URL, in the unpacked bundle or its wheel pool)."""
    from provisioner.env.artifacts import file_url

    use = in_use() if use is None else use
    folder = bundles_dir()
    if not folder.is_dir():
        return []
    locks = []
    for lock in use.lock_paths:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            locks.append(lock.read_text(encoding="utf-8"))
    text = "\n".join(locks)
    return [
        d
        for d in sorted(folder.iterdir())
        if d.is_dir()
        and not d.is_symlink()
        and not use.uses_folder(d)
        and file_url(d.resolve()) + "/" not in text
    ]


def leftovers() -> list[Unused]:
    """States of environments deleted by hand, and cached lockfiles of environments that
    have neither a state nor a prefix. A state still ``building`` is kept: an apply may be
    about to create its prefix."""
    out: list[Unused] = []
    gone: set[str] = set()
    for name in state_names():
        state = read_raw_state(name)
        prefix = state.get("prefix") if state else None
        if state is None or state.get("phase") == "building" or not isinstance(prefix, str):
            continue
        if not Path(prefix).is_dir():
            path = state_dir() / f"{name}.json"
            out.append(Unused("state", path, tree_size(path), f"its environment {prefix} is gone"))
            gone.add(name)
    known = (set(state_names()) - gone) | set(prefix_names())
    locks = locks_dir()
    for lock in sorted(locks.glob("*.conda-lock.yml")) if locks.is_dir() else []:
        name = lock.name.removesuffix(".conda-lock.yml")
        if name not in known:
            out.append(Unused("lock", lock, tree_size(lock), f"no environment {name!r}"))
    return out


def unused() -> list[Unused]:
    """Everything :func:`clean` would remove."""
    use = in_use()
    bundles = [
        Unused("bundle", d, tree_size(d), "no environment was built from it")
        for d in unused_bundles(use)
    ]
    return [*unused_artifacts(use), *bundles, *leftovers()]


def remove(item: Unused) -> None:
    """Delete one unused thing (a folder or a file; gone already is fine)."""
    if item.path.is_dir() and not item.path.is_symlink():
        shutil.rmtree(item.path, ignore_errors=True)
    else:
        item.path.unlink(missing_ok=True)
    if item.kind == "state":
        item.path.with_suffix(".lock").unlink(missing_ok=True)


def clean(*, dry_run: bool) -> list[Unused]:
    """Remove (or with ``dry_run`` only list) what no environment uses."""
    found = unused()
    if not dry_run:
        for item in found:
            remove(item)
    return found


@dataclass(frozen=True)
class ForeignCache:
    """A cache provision uses but does not own, with the command that trims it."""

    what: str
    path: Path
    size: int
    trim: str


def foreign_caches() -> list[ForeignCache]:
    """uv's and rattler's caches as provision uses them (their sizes; not touched)."""
    out = []
    uv_dir = os.environ.get("UV_CACHE_DIR")
    uv = Path(uv_dir) if uv_dir else _xdg_cache() / "uv"
    if uv.is_dir():
        out.append(ForeignCache("uv's cache", uv, tree_size(uv), "uv cache prune"))
    rattler = rattler_pkgs_dir()
    if rattler.is_dir():
        out.append(
            ForeignCache("rattler's package cache", rattler, tree_size(rattler), "pixi clean cache")
        )
    return out


def _xdg_cache() -> Path:
    value = os.environ.get("XDG_CACHE_HOME")
    return Path(value) if value else Path.home() / ".cache"
