"""The one temp-then-rename writer: a file is either its old bytes or its new ones,
never half written (an interrupted write leaves only a hidden temp file, removed).

The temp file gets an unpredictable name and is created exclusively without following
links (``O_CREAT | O_EXCL | O_NOFOLLOW``), so a link planted in a shared folder
(``PROVISION_HOME``, ``/tmp``) at the name a writer is about to use is never
followed and its target is never touched; ``os.replace`` then swaps the name itself,
never writing through a link that sits at the final path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
_EXCLUSIVE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def temp_name(path: Path) -> Path:
    """A hidden, unpredictable name beside ``path`` (``.NAME.<random>.tmp``)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


def create_exclusive(path: Path, mode: int = 0o666) -> int:
    """A new file at ``path`` opened for writing: refused (``FileExistsError``) when
    anything is there, a link included, so nothing planted is ever followed."""
    return os.open(path, _EXCLUSIVE, mode)


def new_temp(path: Path, mode: int = 0o666) -> tuple[Path, int]:
    """A fresh temp file beside ``path`` (see :func:`temp_name`) and its descriptor."""
    for _ in range(100):
        tmp = temp_name(path)
        try:
            return tmp, create_exclusive(tmp, mode)
        except FileExistsError:
            continue  # a name taken (or planted): draw another
    raise FileExistsError(f"no free temp name beside {path}")


@contextlib.contextmanager
def replacing(path: Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a new, empty temp file beside ``path`` to write; when the block ends
    without an error, move it onto ``path`` (``os.replace``, atomic on one file
    system), else remove it. ``durable``: fsync the new bytes before the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = new_temp(path)
    os.close(fd)
    try:
        yield tmp
        if durable:
            fd = os.open(tmp, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))  # Windows fsyncs
            try:  # only a writable handle
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
    """Replace ``path`` with ``data`` (str is written as UTF-8) in one rename; the bytes
    go through the descriptor the temp file was created with, never reopened by name."""
    with replacing_stream(path, durable=durable, mode=mode) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextlib.contextmanager
def replacing_stream(
    path: Path, *, durable: bool = False, mode: int | None = None
) -> Iterator[BinaryIO]:
    """As :func:`replacing`, but yield the temp file open for writing (its descriptor
    from the exclusive create): nothing is opened by name again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = new_temp(path)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(out.fileno(), mode)
            if durable:
                os.fsync(out.fileno())
        if mode is not None and not hasattr(os, "fchmod"):
            tmp.chmod(mode)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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
    with replacing_stream(target) as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
        if digest.hexdigest() != expected:
            raise DigestMismatch(digest.hexdigest())
