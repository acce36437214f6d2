"""rattler's extracted package cache, checked before anything is linked from it.

rattler keeps each extracted package in ``<pkgs>/<name>-<version>-<build>/`` (with a
``.lock`` file beside it holding the archive's sha256 after an 8-byte revision) and
hard-links prefixes to those files, as conda and pixi do. So a file edited in a
cache entry, or in any environment linked from it, would be linked into the next
environment. Before a transaction, each entry it will link from is checked here:

- an entry extracted from other bytes than the locked archive (``.lock`` sha256) is
  removed;
- every file of the entry is compared with the ``info/paths.json`` inside the
  verified archive in provision's store (size, then sha256, hashed on a few threads),
  never with the entry's own copy, which an attacker who edits a file of the entry can
  rewrite too; an entry with an altered or missing file is removed.

A removed entry is extracted again by rattler from the verified archive in
provision's store. This is rattler's own ``ValidationMode.full`` check (which took
three times as long as the link itself), made cheap on a warm cache: once an entry
has been hashed (or freshly extracted from a verified archive), the size, mtime and
inode of each of its files (and of its ``.lock``) are recorded in one ledger per cache
under ``$XDG_CACHE_HOME/provision/entries`` (:mod:`provisioner.env.stat_ledger`), and
while they are unchanged the entry is not hashed again. An in-place edit, a
replaced file or a deleted one changes them. (ctime would also catch an edit whose
author set the mtime back, but every hard link rattler adds or removes changes it.)
``full=True`` (``apply --force`` relinking altered packages) hashes regardless.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from provisioner.env.artifacts import parallel_map
from provisioner.env.integrity import SKIP_PATH_TYPES, Expected, altered_files
from provisioner.env.stat_ledger import StatLedger
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


def _archive_files(pkgs_dir: Path, pkg: LockedPackage, archive: Path) -> list[Expected] | None:
    """What the ``info/paths.json`` inside the verified ``archive`` says each file of the
    entry must be; None: not a package archive (the entry is extracted again)."""
    import rattler.package

    entry = pkgs_dir / _stem(pkg)
    try:
        listed = rattler.package.PathsJson.from_package_archive(archive).paths
    except Exception:  # rattler raises its own error types
        return None
    out = []
    for item in listed:
        kind = item.path_type
        if getattr(kind, "softlink", False) or getattr(kind, "directory", False):
            continue
        if item.sha256 is None:
            continue
        rel = str(item.relative_path)
        size = item.size_in_bytes if isinstance(item.size_in_bytes, int) else None
        out.append(Expected("conda", pkg.name, rel, entry / rel, item.sha256.hex(), size))
    return out


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


def _ledger(pkgs_dir: Path) -> StatLedger:
    key = hashlib.sha256(str(pkgs_dir).encode()).hexdigest()
    return StatLedger(cache_root() / "entries" / f"{key[:32]}.json")


def _fingerprint(pkgs_dir: Path, pkg: LockedPackage, rels: list[str]) -> str:
    """One digest over the entry's ``.lock`` and each file's size, mtime and inode
    (raises OSError when one is missing). Plain string paths: this runs for every
    file of every package on each install."""
    entry = f"{pkgs_dir}/{_stem(pkg)}/"
    stat = os.stat
    parts = []
    for rel in [f"../{_stem(pkg)}.lock", *rels]:
        st = stat(entry + rel)
        parts.append(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _rels(files: list[Expected]) -> list[str]:
    return ["info/paths.json", "info/index.json", *(f.recorded for f in files)]


def _trusted(ledger: StatLedger, pkgs_dir: Path, pkg: LockedPackage) -> bool:
    """Whether the entry is the one recorded for the locked archive with unchanged files."""
    record = ledger.get(_stem(pkg))
    if not (pkg.sha256 and isinstance(record, dict) and record.get("sha256") == pkg.sha256):
        return False
    rels, stat = record.get("rels"), record.get("stat")
    if not (isinstance(rels, str) and isinstance(stat, str)):
        return False
    try:
        return _fingerprint(pkgs_dir, pkg, rels.split("\n")) == stat
    except OSError:
        return False


def _remember(ledger: StatLedger, pkg: LockedPackage, rels: list[str], stat: str) -> None:
    ledger.record(_stem(pkg), {"sha256": pkg.sha256, "rels": "\n".join(rels), "stat": stat})


def stamp_entries(pkgs_dir: Path, packages: Iterable[LockedPackage]) -> None:
    """Record the stat of the files of entries just extracted from a verified archive
    (a cache: a failure only means they are hashed next time)."""
    packages = [p for p in packages if p.sha256]
    if not packages:
        return
    ledger = _ledger(pkgs_dir)
    for pkg in packages:
        files = _entry_files(pkgs_dir, pkg)
        if files is None or _recorded_sha256(pkgs_dir, pkg) != pkg.sha256:
            continue
        try:
            _remember(ledger, pkg, _rels(files), _fingerprint(pkgs_dir, pkg, _rels(files)))
        except OSError:
            continue
    ledger.save()


def checked_entries(
    pkgs_dir: Path,
    packages: Iterable[LockedPackage],
    *,
    full: bool = False,
    archives: Mapping[str, Path] | None = None,
) -> set[str]:
    """Check the cache entries of ``packages``; drop the ones that do not match. Returns
    the names of the packages whose entry is present and intact (linked as they are);
    the others are extracted again from the verified archive (then
    :func:`stamp_entries` them). ``full`` hashes even entries whose stat is unchanged.
    ``archives``: each package's verified archive (by name), whose ``info/paths.json``
    says what the entry's files must be (without one, the entry's own copy does)."""
    ledger = _ledger(pkgs_dir)
    intact: set[str] = set()
    candidates: list[tuple[LockedPackage, list[Expected], str]] = []
    for pkg in packages:
        # A stat per file, in turn: cheaper than handing them to threads.
        if not full and _trusted(ledger, pkgs_dir, pkg):
            intact.add(pkg.name)
            continue
        ledger.forget(_stem(pkg))
        if _recorded_sha256(pkgs_dir, pkg) != pkg.sha256 or not pkg.sha256:
            if (pkgs_dir / _stem(pkg)).exists():  # from other bytes, or unknown bytes
                _drop(pkgs_dir, pkg)
            continue
        archive = (archives or {}).get(pkg.name)
        files = (
            _archive_files(pkgs_dir, pkg, archive)
            if archive is not None
            else _entry_files(pkgs_dir, pkg)
        )
        try:
            # The stat is taken before hashing: a write during the hash changes it.
            stat = "" if files is None else _fingerprint(pkgs_dir, pkg, _rels(files))
        except OSError:
            files = None
        if files is None:
            _drop(pkgs_dir, pkg)
            continue
        candidates.append((pkg, files, stat))
    _, altered = altered_files(item for _, files, _ in candidates for item in files)
    bad = {a.package for a in altered}
    parallel_map(lambda p: _drop(pkgs_dir, p), [p for p, _, _ in candidates if p.name in bad])
    for pkg, files, stat in candidates:
        if pkg.name not in bad:
            _remember(ledger, pkg, _rels(files), stat)
            intact.add(pkg.name)
    ledger.save()
    return intact
