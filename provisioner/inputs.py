"""One bounded reader for every file a command takes: profiles, facts snapshots, logs,
lockfiles, bundle manifests, reports.

A path comes from the user (or from a file the user named), so it may be a FIFO
(reading blocks forever), a device (``/dev/zero`` never ends), a folder, a socket or
a link to any of them, or a file far bigger than any real input. So every input is:

- opened without blocking and checked with ``fstat`` on the open descriptor (no race
  between the check and the read): a regular file only (stdin where a command takes
  ``-``, as ``explain -``);
- capped in size per kind of input (:class:`Kind`): the size is checked before
  reading, and the read itself stops one chunk past the cap (a file that grows);
- read as a stream where it may be large (:func:`open_input` yields a binary stream
  that refuses to go past the cap; :func:`input_chunks` and :func:`input_lines` iterate).

Any problem is an :class:`Unreadable` (reason and fix) at the low level and an
:class:`InputError` (exit 2, one line: the path, the cause, the fix) for commands;
never a hang, a ``MemoryError`` or exit 3.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from provisioner.errors import ExitCode, ProvisionError

KiB = 1 << 10
MiB = 1 << 20
CHUNK = 1 << 20
STDIN = "-"


@dataclass(frozen=True)
class Kind:
    """What an input is, how big it may be, and what to pass instead."""

    what: str  # "profile", "log", ... as the error names it
    cap: int  # bytes
    fix: str  # what the user should pass instead (also when it does not exist)
    file: str  # the right thing to name, for "not a regular file": "a profile YAML file"
    too_big_fix: str = ""  # default: "<fix>; not a bigger file"

    @property
    def not_a_file_fix(self) -> str:
        return f"name {self.file}, not a folder, pipe or device"


# A profile is a few kilobytes; 1 MiB leaves room for comments and generated files.
PROFILE = Kind(
    "profile",
    1 * MiB,
    "pass an existing profile file",
    "a profile YAML file",
    "a profile is a few kilobytes; split it or remove generated content",
)
# `provision facts --save` writes ~100 KB (every probed file and command output).
FACTS = Kind(
    "facts snapshot",
    16 * MiB,
    "pass a file written by `provision facts --save FILE`",
    "a file written by `provision facts --save FILE`",
)
# Captured install logs run to tens of MB; explain streams them.
LOG = Kind(
    "log",
    256 * MiB,
    "pass the captured text output (a .txt or .log file), or - for stdin",
    "a log file (or - for stdin)",
)
# A lock of 100,000 packages is about 21 MB.
LOCKFILE = Kind(
    "lockfile",
    32 * MiB,
    "re-create it with `provision lock PROFILE`",
    "a conda-lock file",
)
# A bundle's manifest lists ~1,000 files at ~150 bytes each.
MANIFEST = Kind(
    "bundle manifest",
    16 * MiB,
    "copy the whole bundle again, or re-bundle",
    "a bundle folder, .tar.gz or .zip",
    "re-bundle with `provision bundle`: a manifest lists ~150 bytes per file",
)
# A report is a few KB (a large environment: a few hundred KB).
REPORT = Kind(
    "report",
    8 * MiB,
    "pass the JSON reports that provision apply, verify or a bootstrap script wrote",
    "a report file or a folder of them",
)


class Unreadable(Exception):
    """An input that cannot be used: ``reason`` says why, ``fix`` what to do."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class InputError(ProvisionError):
    """A command's input file that cannot be used: exit 2, one line."""

    exit_code = ExitCode.INVALID


def rejected(source: Path | str, kind: Kind, e: Unreadable) -> InputError:
    """The one-line error for ``source`` (``PATH: cannot read the KIND: REASON``)."""
    name = "stdin" if str(source) == STDIN else str(source)
    return InputError(f"{name}: cannot read the {kind.what}: {e.reason}", hint=e.fix)


def too_big(kind: Kind, size: int | None = None) -> Unreadable:
    have = f" ({size} bytes)" if size is not None else ""
    return Unreadable(
        f"the file is larger than {_size(kind.cap)}{have}, more than any {kind.what}",
        kind.too_big_fix or f"{kind.fix}; not a bigger file",
    )


def _size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:g} MiB"
    return f"{n / KiB:g} KiB" if n >= KiB else f"{n} bytes"


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def os_reason(e: OSError, kind: Kind, missing_fix: str | None = None) -> Unreadable:
    """An ``OSError`` from opening or reading an input, as a reason and a fix."""
    if e.errno == errno.ELOOP:
        return Unreadable("too many levels of symbolic links (a symlink loop)", "fix the link")
    if e.errno == errno.EISDIR:
        return Unreadable("not a regular file (a folder)", kind.not_a_file_fix)
    if e.errno in (errno.EACCES, errno.EPERM):
        return Unreadable(e.strerror or "permission denied", "make the file readable")
    if e.errno == errno.ENXIO:  # a socket (or a device with no driver) cannot be opened
        return Unreadable("not a regular file (a socket or a device)", kind.not_a_file_fix)
    if e.errno == errno.ENAMETOOLONG:
        return Unreadable("the file name is too long", "use a shorter path")
    return Unreadable(e.strerror or type(e).__name__, missing_fix or kind.fix)


def open_regular(
    path: Path | str, kind: Kind, *, missing_fix: str | None = None, sized: bool = True
) -> int:
    """A descriptor of ``path`` opened for reading, after ``fstat`` on it showed a regular
    file of at most ``kind.cap`` bytes (any size unless ``sized``: the caller reads at
    most what it needs); :class:`Unreadable` otherwise. Never blocks: a FIFO is opened
    non-blocking and refused."""
    if "\x00" in str(path):
        raise Unreadable("the path contains a NUL byte", "remove it from the file name")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise os_reason(e, kind, missing_fix) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            why = f"not a regular file ({file_kind(info.st_mode)})"
            raise Unreadable(why, kind.not_a_file_fix)
        if sized and info.st_size > kind.cap:
            raise too_big(kind, info.st_size)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except OSError as e:
        os.close(fd)
        raise os_reason(e, kind, missing_fix) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


class _Capped(io.RawIOBase):
    """A raw stream over ``fd`` (or another binary stream) that refuses to read more than
    ``cap`` bytes: the next read past it raises :class:`Unreadable`."""

    def __init__(self, source: int | IO[bytes], kind: Kind, cap: int | None = None) -> None:
        self._fd = source if isinstance(source, int) else None
        self._stream = None if isinstance(source, int) else source
        self._kind = kind
        self._cap = kind.cap if cap is None else cap
        self._total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._cap + 1 - self._total)
        if want <= 0:
            raise too_big(self._kind)
        try:
            if self._fd is not None:
                data = os.read(self._fd, want)
            else:
                assert self._stream is not None
                data = self._stream.read(want)
        except OSError as e:
            raise os_reason(e, self._kind) from None
        n = len(data)
        buffer[:n] = data
        self._total += n
        if self._total > self._cap:
            raise too_big(self._kind)
        return n

    def close(self) -> None:
        if self._fd is not None and not self.closed:
            os.close(self._fd)
        super().close()


def capped(stream: IO[bytes], kind: Kind, cap: int | None = None) -> BinaryIO:
    """``stream`` (an archive member, stdin) read through a cap: past ``cap`` bytes
    (default ``kind.cap``) a read raises :class:`Unreadable`."""
    return io.BufferedReader(_Capped(stream, kind, cap), CHUNK)


@contextlib.contextmanager
def opened(
    source: Path | str, kind: Kind, *, stdin: bool = False, missing_fix: str | None = None
) -> Iterator[BinaryIO]:
    """Low level :func:`open_input`: :class:`Unreadable` is not translated."""
    if stdin and str(source) == STDIN:
        raw = getattr(sys.stdin, "buffer", None)
        if raw is None:  # a text stream (embedding, tests)
            raw = io.BytesIO(sys.stdin.read().encode("utf-8"))
        with capped(raw, kind) as stream:
            yield stream
        return
    fd = open_regular(source, kind, missing_fix=missing_fix)
    with io.BufferedReader(_Capped(fd, kind), CHUNK) as stream:
        yield stream


@contextlib.contextmanager
def open_input(source: Path | str, kind: Kind, *, stdin: bool = False) -> Iterator[BinaryIO]:
    """A command's input opened as a binary stream: a regular file of at most
    ``kind.cap`` bytes (or stdin for ``-`` when ``stdin``). Any problem, also one met
    while the block reads, is an :class:`InputError` naming ``source``."""
    try:
        with opened(source, kind, stdin=stdin) as stream:
            yield stream
    except Unreadable as e:
        raise rejected(source, kind, e) from None


def input_chunks(
    source: Path | str, kind: Kind, *, stdin: bool = False, size: int = CHUNK
) -> Iterator[bytes]:
    """The bytes of an input in chunks of at most ``size`` (streaming; see :func:`open_input`)."""
    with open_input(source, kind, stdin=stdin) as stream:
        while chunk := stream.read(size):
            yield chunk


def input_lines(source: Path | str, kind: Kind, *, stdin: bool = False) -> Iterator[bytes]:
    """The lines of an input as bytes, line ends kept (streaming; a line is at most
    ``kind.cap`` bytes, as the whole input)."""
    with open_input(source, kind, stdin=stdin) as stream:
        yield from stream


def read_bounded(
    source: Path | str, kind: Kind, *, stdin: bool = False, missing_fix: str | None = None
) -> bytes:
    """Every byte of an input; :class:`Unreadable` for anything but a regular file of at
    most ``kind.cap`` bytes (``missing_fix``: the fix when it does not exist)."""
    with opened(source, kind, stdin=stdin, missing_fix=missing_fix) as stream:
        return stream.read()


def read_input(source: Path | str, kind: Kind, *, stdin: bool = False) -> bytes:
    """Every byte of a command's input; :class:`InputError` (exit 2) otherwise."""
    try:
        return read_bounded(source, kind, stdin=stdin)
    except Unreadable as e:
        raise rejected(source, kind, e) from None


def decode_utf8(data: bytes) -> str:
    """UTF-8 text (a leading BOM dropped); :class:`Unreadable` naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise Unreadable(f"not UTF-8 text (byte {e.start})", "save it as UTF-8") from None


def read_input_text(source: Path | str, kind: Kind) -> str:
    """A command's input as UTF-8 text; :class:`InputError` (exit 2) otherwise."""
    try:
        return decode_utf8(read_bounded(source, kind))
    except Unreadable as e:
        raise rejected(source, kind, e) from None
