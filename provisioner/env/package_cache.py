"""rattler's extracted package cache, checked before anything is linked from it.

rattler keeps each extracted package in ``<pkgs>/<name>-<version>-<build>/`` (with a
``.lock`` file beside it holding the archive's sha256 after an 8-byte revision) and
hard-links prefixes to those files, as conda and pixi do. So a file edited in a
cache entry, or in any environment linked from it, would be linked into the next
environment. Before a transaction, each entry it will link from is checked here:

- an entry extracted from other bytes than the locked archive (``.lock`` sha256) is
  removed;
- every file of the entry is compared with the package's own ``info/paths.json``
  (size, then sha256, hashed on a few threads); an entry with an altered or missing
  file is removed.

A removed entry is extracted again by rattler from the verified archive in
provision's store. This is rattler's own ``ValidationMode.full`` check (which took
three times as long as the link itself), made cheap on a warm cache: once an entry
has been hashed (or freshly extracted from a verified archive), the size, mtime and
inode of each of its files are recorded under ``$XDG_CACHE_HOME/provision/entries``,
and while they are unchanged the entry is not hashed again. An in-place edit, a
replaced file or a deleted one changes them. (ctime would also catch an edit whose
author set the mtime back, but every hard link rattler adds or removes changes it.)
``full=True`` (``apply --force`` relinking altered packages) hashes regardless.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from provisioner.env.artifacts import parallel_map
from provisioner.env.integrity import SKIP_PATH_TYPES, Expected, altered_files
from provisioner.lock import LockedPackage
from provisioner.paths import cache_root, rattler_pkgs_dir

__all__ = ["checked_entries", "rattler_pkgs_dir", "stamp_entries"]


def _stem(pkg: LockedPackage) -> str:
    return f"{pkg.name}-{pkg.version}-{pkg.build}"


def _recorded_sha256(pkgs_dir: Path, pkg: LockedPackage) -> str | None:
    try:
        recorded = (pkgs_dir / f"{_stem(pkg)}.lock").read_bytes()[8:40]
    except OSError:
        return None
    return recorded.hex() if len(recorded) == 32 else None


def _entry_files(pkgs_dir: Path, pkg: LockedPackage) -> list[Expected] | None:
    """What ``info/paths.json`` says each file of the entry must be; None: no entry."""
    entry = pkgs_dir / _stem(pkg)
    try:
        paths = json.loads((entry / "info" / "paths.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    listed = paths.get("paths") if isinstance(paths, dict) else None
    if not isinstance(listed, list):
        return None  # not a package's paths.json: nothing to check the entry against
    out = []
    for item in listed:
        if not isinstance(item, dict) or item.get("path_type") in SKIP_PATH_TYPES:
            continue
        rel, digest, size = item.get("_path"), item.get("sha256"), item.get("size_in_bytes")
        if isinstance(rel, str) and isinstance(digest, str):
            size = size if isinstance(size, int) else None
            out.append(Expected("conda", pkg.name, rel, entry / rel, digest, size))
    return out


def _drop(pkgs_dir: Path, pkg: LockedPackage) -> None:
    shutil.rmtree(pkgs_dir / _stem(pkg), ignore_errors=True)
    (pkgs_dir / f"{_stem(pkg)}.lock").unlink(missing_ok=True)


def _stamp_path(pkgs_dir: Path, pkg: LockedPackage) -> Path:
    key = hashlib.sha256(f"{pkgs_dir}|{_stem(pkg)}|{pkg.sha256}".encode()).hexdigest()
    return cache_root() / "entries" / f"{key[:32]}.json"


def _snapshot(pkgs_dir: Path, pkg: LockedPackage, rels: Iterable[str]) -> dict[str, list[int]]:
    entry = pkgs_dir / _stem(pkg)
    out = {}
    for rel in rels:
        st = (entry / rel).stat()
        out[rel] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return out


def _unchanged(pkgs_dir: Path, pkg: LockedPackage) -> bool:
    """Whether every file of the entry has the stat recorded when it was last verified."""
    try:
        recorded = json.loads(_stamp_path(pkgs_dir, pkg).read_text(encoding="utf-8"))
        return bool(recorded) and _snapshot(pkgs_dir, pkg, recorded) == recorded
    except (OSError, ValueError, TypeError, RecursionError):
        return False


def _fresh(pkgs_dir: Path) -> Callable[[LockedPackage], bool]:
    """Whether an entry is the locked archive's (``.lock``) with unchanged files."""

    def check(pkg: LockedPackage) -> bool:
        return (
            bool(pkg.sha256)
            and _recorded_sha256(pkgs_dir, pkg) == pkg.sha256
            and (_unchanged(pkgs_dir, pkg))
        )

    return check


def stamp_entries(pkgs_dir: Path, packages: Iterable[LockedPackage]) -> None:
    """Record the stat of the files of entries just hashed or extracted from a verified
    archive (a cache: a failure only means they are hashed next time)."""
    for pkg in packages:
        files = _entry_files(pkgs_dir, pkg)
        if files is None or not pkg.sha256:
            continue
        rels = ["info/paths.json", "info/index.json", *(f.recorded for f in files)]
        try:
            snap = _snapshot(pkgs_dir, pkg, rels)
            path = _stamp_path(pkgs_dir, pkg)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(snap), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            continue


def checked_entries(
    pkgs_dir: Path, packages: Iterable[LockedPackage], *, full: bool = False
) -> set[str]:
    """Check the cache entries of ``packages``; drop the ones that do not match. Returns
    the names of the packages whose entry is present and intact (linked as they are);
    the others are extracted again from the verified archive (then
    :func:`stamp_entries` them). ``full`` hashes even entries whose stat is unchanged."""
    intact: set[str] = set()
    candidates: list[tuple[LockedPackage, list[Expected]]] = []
    packages = list(packages)
    # stat calls release the GIL: a few threads check the recorded stats
    same = [False] * len(packages) if full else parallel_map(_fresh(pkgs_dir), packages)
    for pkg, unchanged in zip(packages, same, strict=True):
        if unchanged:
            intact.add(pkg.name)
            continue
        if _recorded_sha256(pkgs_dir, pkg) != pkg.sha256 or not pkg.sha256:
            if (pkgs_dir / _stem(pkg)).exists():  # from other bytes, or unknown bytes
                _drop(pkgs_dir, pkg)
            continue
        files = _entry_files(pkgs_dir, pkg)
        if files is None:
            _drop(pkgs_dir, pkg)
            continue
        candidates.append((pkg, files))
    _, altered = altered_files(item for _, files in candidates for item in files)
    bad = {a.package for a in altered}
    parallel_map(lambda p: _drop(pkgs_dir, p), [p for p, _ in candidates if p.name in bad])
    good = [p for p, _ in candidates if p.name not in bad]
    stamp_entries(pkgs_dir, good)
    return intact | {p.name for p in good}
