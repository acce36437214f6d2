"""The one temp-then-rename writer: a file is either its old bytes or its new ones,
never half written (an interrupted write leaves only a hidden temp file, removed)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


@contextlib.contextmanager
def replacing(path: Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a temp path beside ``path`` to write; when the block ends without an
    error, move it onto ``path`` (``os.replace``, atomic on one file system), else
    remove it. ``durable``: fsync the new bytes before the rename (a journal)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        if durable:
            fd = os.open(tmp, os.O_RDWR)  # Windows fsyncs only a writable handle
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_atomic(
    path: Path, data: bytes | str, *, mode: int | None = None, durable: bool = False
) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8) in one rename."""
    with replacing(path, durable=durable) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        if mode is not None:
            tmp.chmod(mode)


class DigestMismatch(Exception):
    """The copied bytes do not have the expected digest; ``actual`` is theirs."""

    def __init__(self, actual: str) -> None:
        super().__init__(actual)
        self.actual = actual


def copy_verified(
    src: BinaryIO,
    target: Path,
    algo: str,
    expected: str,
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    """Copy ``src`` to ``target`` only if its ``algo`` digest is ``expected`` (hashed
    while copying); otherwise raise :class:`DigestMismatch` and leave ``target`` as it
    was. Only verified bytes are ever renamed into place."""
    digest = hashlib.new(algo)
    with replacing(target) as tmp:
        with tmp.open("wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                if on_chunk is not None:
                    on_chunk(len(chunk))
        if digest.hexdigest() != expected:
            raise DigestMismatch(digest.hexdigest())
