"""Files the user names for output (``-o``, ``--junit``, ``--html``, ``--save``,
``--report``): checked before any work, then written in one place.

- A regular file (or a new one) is written atomically (:mod:`provisioner.atomic`):
  the old bytes or the new ones. A link the user named is written through to its
  target: the link stays a link.
- A character device or a pipe (``-o /dev/stdout``, ``/dev/null``, ``>(cat)``, a
  named pipe someone reads, ``/dev/fd/N``) is written through, as users expect; it is
  never replaced by a regular file (as root, replacing ``/dev/null`` would break the
  system). A named pipe nobody reads is refused, not waited on.
- A block device (a disk), a socket or a folder is refused with the reason (exit 2).

Outputs that must be files (a lockfile, a bundle archive) take ``stream=False``: a
device or a pipe is refused for them.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from provisioner.atomic import write_atomic
from provisioner.errors import ExitCode, ProvisionError

Target = Literal["file", "stream"]
# Names that stand for a descriptor of this process: written through even when the
# descriptor is a regular file (`provision schema -o /dev/stdout > out.json`).
_DESCRIPTOR = re.compile(r"^/(dev/(stdout|stderr|fd/\d+)|proc/(self|\d+)/fd/\d+)$")


class OutputRefused(ProvisionError):
    """An output path that cannot be written as asked: exit 2."""

    exit_code = ExitCode.INVALID


def _refused(option: str, path: Path, why: str, fix: str) -> OutputRefused:
    return OutputRefused(f"{option} {path}: {why}", hint=fix)


def output_target(path: Path, option: str, *, stream: bool = True) -> Target:
    """What writing ``path`` means: ``file`` (atomic replace, after following links) or
    ``stream`` (written through); :class:`OutputRefused` for what may not be written."""
    if _DESCRIPTOR.match(path.as_posix()):
        if not stream:
            raise _refused(option, path, "a descriptor, not a file", f"give {option} a file path")
        return "stream"
    try:
        info = path.stat()
    except FileNotFoundError:
        return "file"
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise _refused(option, path, "a symlink loop", "fix the link") from None
        return "file"  # the write says why (no permission on a parent, ...)
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        raise _refused(option, path, "is a folder", f"give {option} a file path")
    if stat.S_ISBLK(mode):
        raise _refused(
            option, path, "a block device (a disk): refused", f"give {option} a file path"
        )
    if stat.S_ISSOCK(mode):
        raise _refused(option, path, "a socket: refused", f"give {option} a file path")
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device"
    if not stream:
        raise _refused(option, path, f"{kind}, not a file", f"give {option} a regular file's path")
    if not os.access(path, os.W_OK):
        raise _refused(option, path, f"{kind} this user cannot write", "choose another path")
    return "stream"


def refuse_special(
    root: Path, option: str, *, files: Iterable[str], folders: Iterable[str]
) -> None:
    """Before any work, for a command that writes several files into the folder ``root``
    the user named (``export ansible -o DIR``): each of ``folders`` (relative to
    ``root``, ``""`` for itself) that exists must be a folder, each of ``files`` a regular
    file; a named pipe, a device or a socket there is refused with the reason, never
    replaced (links are followed: a link to ``/dev/null`` is a device)."""
    from provisioner.inputs import file_kind

    def kind(rel: str) -> int | None:
        try:
            return (root / rel).stat().st_mode
        except FileNotFoundError:
            return None
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _refused(
                    option,
                    root,
                    f"{root / rel}: {e.strerror}",
                    f"remove it, or choose another {option}",
                ) from None
            return None  # no permission: the write says why

    for rel in folders:
        mode = kind(rel)
        if mode is not None and not stat.S_ISDIR(mode):
            raise _refused(
                option,
                root,
                f"{root / rel} is {file_kind(mode)}, where a folder is written",
                f"remove it, or choose another {option} folder",
            )
    for rel in files:
        mode = kind(rel)
        if mode is not None and not stat.S_ISREG(mode):
            raise _refused(
                option,
                root,
                f"{root / rel} is {file_kind(mode)}, where a file is written",
                f"remove it, or choose another {option} folder",
            )


def unusable_folder(folder: Path) -> str | None:
    """Why ``folder`` cannot be used (or made) as a writable folder; None when it can."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def write_output(path: Path, data: bytes | str, option: str) -> Target:
    """Write ``data`` to the output the user named (see the module docstring)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    target = output_target(path, option)
    if target == "file":
        why = unusable_folder(Path(os.path.realpath(path)).parent)
        if why is not None:
            raise _refused(option, path, why, f"choose another {option} path")
    try:
        if target == "stream":
            _write_through(path, raw, option)
        else:
            write_atomic(Path(os.path.realpath(path)), raw)
    except OSError as e:
        raise ProvisionError(
            f"{option} {path}: cannot write: {e.strerror or e}",
            hint="choose a path in a folder you can write",
        ) from None
    return target


def _write_through(path: Path, data: bytes, option: str) -> None:
    """Open without creating or truncating, without blocking (a pipe nobody reads is
    ``ENXIO``, refused), appending (a descriptor that is a file keeps what is in it)."""
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise _refused(
                option, path, "a named pipe nobody reads", "start its reader first"
            ) from None
        raise
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a slow reader is waited for, not an error
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
