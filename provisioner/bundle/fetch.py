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
from provisioner.env.artifacts import DownloadFailed, filename, open_source, source_path
from provisioner.errors import ExternalFailure
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


def verified(url: str, sha256: str, what: str) -> Path:
    """The file at ``url`` in the verified store, fetched and hash-checked if missing."""
    target = artifact_store() / sha256 / filename(url)
    if target.is_file():
        return target  # only verified bytes are ever renamed into the store
    try:
        with _open(url, what) as src:
            copy_verified(src, target, "sha256", sha256)
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
