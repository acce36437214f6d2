"""provision's artifact store: every conda archive the lock names, fetched once into
``$XDG_CACHE_HOME/provision/artifacts/<sha256>/<file>`` and hash-checked against the lock.

Hash verification is ours, before rattler sees a package: rattler trusts the sha256
in the record it is given and does not check ``file://`` artifacts. A download is
hashed while it is copied and renamed into the store only when it matches; a stored
archive is hashed again whenever an install uses it and its stat is not the one
recorded when it was last hashed (the store is a folder anyone can write to;
:mod:`provisioner.env.stat_ledger`), and one that no longer matches is dropped and
fetched again. A
mismatch with the lock on the fetch stops the install before anything is linked
(:class:`ArtifactMismatch`, naming the package).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import unquote, urlparse

from provisioner.atomic import DigestMismatch, copy_verified, write_atomic
from provisioner.env.stat_ledger import StatLedger
from provisioner.errors import ExternalFailure
from provisioner.lock import LockedPackage
from provisioner.paths import artifact_store, cache_root

DOWNLOAD_TIMEOUT_S = 120
T = TypeVar("T")
R = TypeVar("R")
CHUNK = 1 << 20
# What index_metadata returns for each archive (and a cached record must have).
RECORD_KEYS = frozenset(
    {"noarch", "build_number", "depends", "constrains", "license", "arch", "platform"}
    | {"python_site_packages_path", "size"}
)


class ArtifactMismatch(ExternalFailure):
    """A downloaded package does not have the hash the lock recorded: refused."""


def filename(url: str) -> str:
    return unquote(urlparse(url).path.rsplit("/", 1)[-1])


def parallel_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``fn`` over ``items`` on a few threads (downloads, hashing, archive reads)."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        return list(pool.map(fn, items))


def _store_path(pkg: LockedPackage, store: Path) -> Path:
    expected = pkg.sha256 or pkg.md5 or "unhashed"
    return store / expected / filename(pkg.url)


def store_ledger(store: Path) -> StatLedger:
    """The stats of the stored archives when they were last hashed."""
    return StatLedger(store / ".verified.json")


def stored_artifact(pkg: LockedPackage, store: Path, ledger: StatLedger) -> Path | None:
    """The archive of ``pkg`` in the store if it is there *and* still has the lock's hash.

    A stored archive whose bytes changed since it was verified (a damaged disk, someone
    writing into the cache) is removed, so the caller fetches it again. The hash is
    taken again unless the file's stat (size, mtime, ctime, inode) is still the one
    recorded in ``ledger`` when it was last hashed: any write, ``touch`` or replacement
    changes its ctime, which no unprivileged process can set back."""
    path = _store_path(pkg, store)
    if not (pkg.sha256 or pkg.md5):
        return None
    key = path.relative_to(store).as_posix()
    try:
        now = _stat_key(path)
    except OSError:
        ledger.forget(key)
        return None
    if ledger.get(key) == now:
        return path
    expected, algo = (pkg.sha256, "sha256") if pkg.sha256 else (pkg.md5, "md5")
    if file_digest(path, algo) == expected:
        ledger.record(key, now)
        return path
    ledger.forget(key)
    path.unlink(missing_ok=True)
    return None


def _stat_key(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}"


def file_digest(path: Path, algo: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in 1 MiB chunks (hashlib frees the GIL)."""
    digest = hashlib.new(algo)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verified_artifact(
    pkg: LockedPackage,
    store: Path,
    ledger: StatLedger,
    progress: DownloadProgress | None = None,
) -> Path:
    """The package's archive in the verified store, fetched and hash-checked if missing
    (callers check a stored one with :func:`stored_artifact` first)."""
    expected, algo = (pkg.sha256, "sha256") if pkg.sha256 else (pkg.md5, "md5")
    if not expected:
        raise ExternalFailure(
            f"the lock has no sha256 or md5 for {pkg.spec()}",
            hint="re-create the lock with `provision lock PROFILE`",
        )
    target = _store_path(pkg, store)
    try:
        with _open_url(pkg) as src:
            task = progress.start(pkg, _length(src)) if progress else None

            def advance(n: int) -> None:
                if progress and task is not None:
                    progress.advance(task, n)

            copy_verified(src, target, algo, expected, advance)
        ledger.record(target.relative_to(store).as_posix(), _stat_key(target))
    except DigestMismatch as e:
        raise ArtifactMismatch(
            f"hash mismatch for conda package {pkg.spec()} from {pkg.url}: the lock has "
            f"{algo} {expected[:16]}..., the download has {e.actual[:16]}...; "
            "refused, nothing installed",
            hint="the channel's file changed after locking: if that is expected, re-lock "
            "with `provision lock PROFILE`, otherwise treat the channel as compromised",
        ) from None
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise ExternalFailure(
                f"disk full while downloading {pkg.spec()} into {store}",
                hint="free disk space or point XDG_CACHE_HOME at a larger disk",
            ) from e
        raise
    return target


def _length(src: BinaryIO) -> int | None:
    """The size of what ``src`` will deliver, when known (file size or Content-Length)."""
    try:
        if isinstance(src, io.BufferedReader):
            return os.fstat(src.fileno()).st_size
        length = getattr(src, "headers", {}).get("Content-Length")
        return int(length) if length else None
    except (OSError, ValueError):
        return None


class DownloadProgress:
    """Download bars (rich, on stderr; NO_COLOR respected), one per fetched package."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
        )

    def __enter__(self) -> DownloadProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def start(self, pkg: LockedPackage, total: int | None) -> int:
        return int(self._bars.add_task(f"{pkg.name} {pkg.version}", total=total))

    def advance(self, task: int, nbytes: int) -> None:
        self._bars.advance(task, nbytes)  # type: ignore[arg-type]


class DownloadFailed(Exception):
    """A URL could not be downloaded; ``reason`` is urllib's (or the timeout)."""

    def __init__(self, reason: object) -> None:
        super().__init__(str(reason))
        self.reason = reason


def file_url(path: Path) -> str:
    """A ``file://`` URL as uv records it in ``direct_url.json`` (``+`` kept literal, as
    in local version labels like ``2.13.0+cpu``), so apply's diff sees the same URL."""
    from urllib.parse import quote

    return "file://" + quote(path.as_posix(), safe="/+:@!$&'()*,;=-._~")


def source_path(url: str) -> Path | None:
    """The local file a ``file://`` URL or a plain path names; None for a URL to download."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path)) if parsed.scheme else Path(url)
    return None


def open_source(url: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> BinaryIO:
    """A lock's URL opened for reading: a local file (its ``OSError`` propagates) or a
    download (any failure is :class:`DownloadFailed`). Used by apply and bundle alike."""
    path = source_path(url)
    if path is not None:
        return path.open("rb")
    try:
        response: BinaryIO = urllib.request.urlopen(url, timeout=timeout)
        return response
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise DownloadFailed(getattr(e, "reason", e)) from e


def _open_url(pkg: LockedPackage) -> BinaryIO:
    try:
        return open_source(pkg.url)
    except FileNotFoundError as e:
        raise ExternalFailure(
            f"conda package {pkg.spec()} is missing from its channel: {source_path(pkg.url)}",
            hint="restore the channel, or re-lock against the channels you have",
        ) from e
    except DownloadFailed as e:
        raise ExternalFailure(
            f"cannot download conda package {pkg.spec()} from {pkg.url}: {e.reason}",
            hint="check the network or HTTPS_PROXY; offline, packages must already be in "
            f"{artifact_store()}",
        ) from e


def index_metadata(artifact: Path) -> dict[str, object]:
    """What a record needs from the archive's ``info/index.json`` and a lockfile lacks:
    ``noarch`` (``python`` changes how files are linked), build number, constraints."""
    import rattler

    index = rattler.IndexJson.from_package_archive(artifact)
    noarch = index.noarch
    return {
        "noarch": "python" if noarch.python else "generic" if noarch.generic else None,
        "build_number": index.build_number,
        "depends": list(index.depends),
        "constrains": list(index.constrains),
        "license": index.license,
        "arch": index.arch,
        "platform": index.platform,
        "python_site_packages_path": index.python_site_packages_path,
        "size": artifact.stat().st_size,
    }


def cached_index_metadata(
    packages: tuple[LockedPackage, ...], artifacts: list[Path]
) -> list[dict[str, object]]:
    """:func:`index_metadata` for each artifact, cached in one file per set of artifacts
    (keyed by their hashes): a re-install reads one small JSON instead of every archive."""
    key = hashlib.sha256("\n".join(f"{p.sha256 or p.md5}" for p in packages).encode()).hexdigest()
    path = cache_root() / "records" / f"{key}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if (
            isinstance(cached, list)
            and len(cached) == len(packages)
            and all(isinstance(m, dict) and m.keys() >= RECORD_KEYS for m in cached)
        ):
            return cached
    except (OSError, ValueError, RecursionError):
        pass
    metas = parallel_map(index_metadata, artifacts)
    with contextlib.suppress(OSError):  # a cache only
        write_atomic(path, json.dumps(metas))
    return metas
