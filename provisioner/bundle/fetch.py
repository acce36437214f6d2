"""Fetch the artifacts a bundle carries, each checked against its sha256 while it is read.

Verified bytes land in the same content-addressed store apply uses
(``$XDG_CACHE_HOME/provision/artifacts/<sha256>/<file>``), so a second bundle of the
same lock reads nothing from the network; the bundle is written from there. A source
that cannot be reached, a hash that does not match and a full disk are each one line
with the package, the cause and a fix.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import BinaryIO

from provisioner.atomic import DigestMismatch, copy_verified
from provisioner.env.artifacts import (
    DownloadFailed,
    filename,
    open_source,
    source_path,
    store_ledger,
    stored_artifact,
)
from provisioner.env.artifacts import _stat_key as stat_key
from provisioner.env.stat_ledger import StatLedger
from provisioner.errors import ExternalFailure
from provisioner.lock import LockedPackage
from provisioner.paths import artifact_store


def no_space(where: Path, e: OSError) -> ExternalFailure:
    try:
        free = shutil.disk_usage(where if where.exists() else where.parent).free // 2**20
        have = f" ({free} MiB free)"
    except OSError:
        have = ""
    return ExternalFailure(
        f"not enough space to write the bundle in {where}{have}: {e.strerror or e}",
        hint="free space there, or choose another -o on a larger disk "
        "(XDG_CACHE_HOME holds the downloaded copies)",
    )


def _open(url: str, what: str) -> BinaryIO:
    try:
        return open_source(url)
    except DownloadFailed as e:
        raise ExternalFailure(
            f"cannot download {what} from {url}: {e.reason}",
            hint="bundling needs the lock's sources once: check the network, HTTPS_PROXY "
            "or the index, then bundle again (what was fetched is kept)",
        ) from e
    except OSError as e:
        raise ExternalFailure(
            f"cannot read {what} from {source_path(url)}: {e.strerror or e}",
            hint="restore that file or folder (the lock names it), or re-lock against "
            "sources you have: provision lock PROFILE",
        ) from e


def verified(url: str, sha256: str, what: str, ledger: StatLedger | None = None) -> Path:
    """The file at ``url`` in the verified store, fetched and hash-checked if missing.

    A stored copy is trusted only while it still has the lock's hash, as apply trusts
    it (:func:`provisioner.env.artifacts.stored_artifact`: hashed again unless its stat
    is the one recorded in ``ledger``): one altered in the store is fetched again,
    never bundled. Without a ``ledger`` this call reads and saves the store's own."""
    store = artifact_store()
    book = store_ledger(store) if ledger is None else ledger
    try:
        return _verified(url, sha256, what, store, book)
    finally:
        if ledger is None:
            book.save()


def _verified(url: str, sha256: str, what: str, store: Path, ledger: StatLedger) -> Path:
    target = store / sha256 / filename(url)
    stand_in = LockedPackage("pip", filename(url), "", "", url, sha256)  # what the store keys on
    if stored_artifact(stand_in, store, ledger) is not None:
        return target
    try:
        with _open(url, what) as src:
            copy_verified(src, target, "sha256", sha256)
        ledger.record(target.relative_to(store).as_posix(), stat_key(target))
    except DigestMismatch as e:
        raise ExternalFailure(
            f"hash mismatch for {what} from {url}: the lock has sha256 {sha256[:16]}..., "
            f"the file has {e.actual[:16]}...; refused, not bundled",
            hint="the source changed after locking: re-lock with `provision lock PROFILE` "
            "if that is expected, otherwise treat the source as compromised",
        ) from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise no_space(artifact_store(), e) from e
        raise
    return target
