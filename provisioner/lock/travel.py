"""Locks that travel: a lockfile committed beside a profile must work on a teammate's
machine, so it must not depend on folders that exist only on the machine that made it.

- A package file **inside the profile's folder** (``find_links: [wheels]`` in the repo)
  is written as a path relative to the lockfile (``wheels/torch-...whl``), and read back
  against wherever the lockfile is now (:func:`portable`, :func:`located`).
- A ``file://`` source **outside** it (pip's ``find-links = /opt/wheels`` on one laptop)
  is a warning at lock time naming the folder and the fixes: a shared index, a folder in
  the repository, or ``--allow-local`` when the lock is for this machine only
  (:func:`outside_folders`, :func:`outside_warning`).
- apply, about to install a package whose local file is not here, stops with "this lock
  was made from <folder> on another machine" (:func:`missing_here`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from provisioner.errors import ExitCode, ProvisionError, relpath
from provisioner.lock import Lock, LockedPackage
from provisioner.profile import ResolvedProfile


def local_path(url: str) -> Path | None:
    """The file a ``file://`` URL names; None for any other URL."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def is_relative(url: str) -> bool:
    """A path relative to the lockfile, as :func:`portable` writes it (no scheme)."""
    return "://" not in url and not url.startswith("file:") and bool(url)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def portable(lock: Lock, profile_dir: Path, lock_dir: Path) -> Lock:
    """``lock`` with each local file inside ``profile_dir`` as a path relative to
    ``lock_dir`` (the lockfile's folder), percent-encoded as a URL path."""
    import os

    def one(p: LockedPackage) -> LockedPackage:
        path = local_path(p.url)
        if path is None or not _inside(path, profile_dir):
            return p
        rel = Path(os.path.relpath(path, lock_dir.resolve())).as_posix().split("/")
        ups = [s for s in rel if s == ".."]
        # the file's own segments exactly as the URL encodes them (uv writes %2B for +)
        encoded = urlparse(p.url).path.split("/")[-(len(rel) - len(ups)) :]
        return replace(p, url="/".join([*ups, *encoded]))

    return replace(lock, packages=tuple(one(p) for p in lock.packages))


def located(lock: Lock, lock_dir: Path) -> Lock:
    """``lock`` with relative paths resolved against ``lock_dir`` into ``file://`` URLs."""
    if not any(is_relative(p.url) for p in lock.packages):
        return lock
    base = lock_dir.resolve().as_uri()

    def one(p: LockedPackage) -> LockedPackage:
        if not is_relative(p.url):
            return p
        joined = posixpath.normpath(urlparse(base).path + "/" + p.url)
        return replace(p, url=f"file://{joined}")

    return replace(lock, packages=tuple(one(p) for p in lock.packages))


def outside_folders(lock: Lock, profile_dir: Path) -> list[Path]:
    """The folders outside ``profile_dir`` the lock's local files come from, sorted."""
    folders = {
        path.parent
        for p in lock.packages
        if (path := local_path(p.url)) is not None and not _inside(path, profile_dir)
    }
    return sorted(folders)


def outside_warning(folders: Iterable[Path], profile: str, *, conda: bool = False) -> str:
    """The lock-time warning for local sources only this machine has (``conda``: some are
    a local channel's)."""
    shown = ", ".join(str(f) for f in folders)
    where = (
        "serve the channel over http(s) or keep it in a folder beside "
        f"{profile} (environment.channels: [./channel]), "
        if conda
        else ""
    )
    return (
        f"provision: warning: the lock names files in {shown}, outside the profile's folder: "
        f"another machine will not have them (fix: {where}serve them from a shared index "
        f"(environment.index_url / extra_index_urls), copy them into a folder beside "
        f"{profile} and set environment.find_links to it (recorded relative to the lock), "
        f"or pass --allow-local when the lock is for this machine only)"
    )


def missing_here(packages: Iterable[LockedPackage], have: Iterable[str] = ()) -> None:
    """Stop (exit 1) when a package to install names a local file that is not on this
    machine (and is not in ``have``, the hashes already stored here)."""
    stored = set(have)
    missing = [
        (p, path)
        for p in packages
        if (path := local_path(p.url)) is not None
        and not path.exists()
        and (p.sha256 or p.md5) not in stored
    ]
    if not missing:
        return
    folders = sorted({str(path.parent) for _, path in missing})
    first = missing[0][1].name
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    raise ProvisionError(
        f"this lock was made from {', '.join(folders)} on another machine: {first}{more} "
        "is not here",
        hint="copy those files to the same folder here, or re-lock from a shared index "
        "(`provision lock PROFILE` with environment.index_url), or keep the files in a "
        "folder beside the profile (environment.find_links) so the lock names them "
        "relative to itself",
        exit_code=ExitCode.NOT_READY,
    )


def warn_outside(lock: Lock, resolved: ResolvedProfile) -> None:
    """Say on stderr when a lock made for ``resolved`` names files only this machine has."""
    import sys

    profile_dir = resolved.path.resolve().parent
    folders = outside_folders(lock, profile_dir)
    if folders:
        conda = any(
            p.manager == "conda" and (path := local_path(p.url)) and not _inside(path, profile_dir)
            for p in lock.packages
        )
        text = outside_warning(folders, relpath(resolved.path), conda=conda)
        print(text, file=sys.stderr, flush=True)
