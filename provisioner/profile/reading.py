"""Read a profile file with bounds: a regular file, of a sane size, as UTF-8 text.

A profile path comes from the user or from an ``extends`` line, so it may name a
FIFO (reading blocks forever), a device (``/dev/zero`` never ends,
``/dev/urandom`` neither), a folder or a symlink loop. The file is opened without
blocking, checked with ``fstat`` on the open descriptor (no race between the
check and the read) and read up to :data:`MAX_BYTES`; anything else is a
:class:`Unreadable` with a reason and a fix, never a hang or a MemoryError.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# A profile is a few kilobytes; 1 MiB leaves room for comments and generated files.
MAX_BYTES = 1024 * 1024


class Unreadable(Exception):
    """A profile file that cannot be used: ``reason`` says why, ``fix`` what to do."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def read_profile_text(path: Path, missing_fix: str) -> str:
    """The text of ``path``; :class:`Unreadable` for anything but a readable UTF-8 file
    of at most :data:`MAX_BYTES` (``missing_fix`` is the fix when it does not exist)."""
    if "\x00" in str(path):
        raise Unreadable("the path contains a NUL byte", "remove it from the file name")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise Unreadable(*_os_reason(e, missing_fix)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"not a regular file ({_kind(info.st_mode)})", _NOT_A_FILE_FIX)
        if info.st_size > MAX_BYTES:
            raise Unreadable(_too_big(info.st_size), _TOO_BIG_FIX)
        data = _read_at_most(fd, MAX_BYTES + 1)
    except OSError as e:
        raise Unreadable(*_os_reason(e, missing_fix)) from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:  # grew after fstat
        raise Unreadable(_too_big(len(data)), _TOO_BIG_FIX)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Unreadable(f"not UTF-8 text (byte {e.start})", "save it as UTF-8") from None


_NOT_A_FILE_FIX = "name a profile YAML file, not a folder, pipe or device"
_TOO_BIG_FIX = "a profile is a few kilobytes; split it or remove generated content"


def _too_big(size: int) -> str:
    return f"the file is larger than {MAX_BYTES // 1024} KiB ({size} bytes)"


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = os.read(fd, min(65536, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def _os_reason(e: OSError, missing_fix: str) -> tuple[str, str]:
    if e.errno == errno.ELOOP:
        return "too many levels of symbolic links (a symlink loop)", "fix the symbolic link"
    if e.errno == errno.EISDIR:
        return "not a regular file (a folder)", _NOT_A_FILE_FIX
    if e.errno in (errno.EACCES, errno.EPERM):
        return e.strerror or "permission denied", "make the file readable"
    if e.errno == errno.ENXIO:  # a socket (or a device with no driver) cannot be opened
        return "not a regular file (a socket or a device)", _NOT_A_FILE_FIX
    if e.errno == errno.ENAMETOOLONG:
        return "the file name is too long", "use a shorter path"
    return e.strerror or type(e).__name__, missing_fix
