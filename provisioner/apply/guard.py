"""One apply at a time per environment: an exclusive, non-blocking lock on
``paths.state_dir()/<env>.lock`` (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on
Windows). The OS drops it when the process dies, even by SIGKILL, so a crashed
apply never leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError


class ApplyBusy(ProvisionError):
    """Another apply holds the environment."""

    exit_code = ExitCode.NOT_READY


# A link planted at the lock's path is not followed (its target is never truncated),
# and the descriptor is not inherited by the installers apply runs.
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@contextmanager
def exclusive(path: Path, env: str) -> Iterator[None]:
    """Hold the apply lock for ``env`` or raise :class:`ApplyBusy` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, _FLAGS, 0o644)
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        raise ProvisionError(
            f"refusing to use {path}: it is a symbolic link (not followed: its target "
            "is left untouched)",
            hint=f"remove the link ({path}); provision makes the lock file itself",
        ) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ProvisionError(
            f"refusing to use {path}: not a regular file",
            hint=f"remove it ({path}); provision makes the lock file itself",
        )
    try:
        if not _try_lock(fd):
            holder = (
                os.pread(fd, 64, 0).decode(errors="replace").strip() if hasattr(os, "pread") else ""
            )
            who = f" (pid {holder})" if holder else ""
            raise ApplyBusy(
                f"another `provision apply` is changing environment {env!r}{who}",
                hint="wait for it to finish, then run apply again; it converges",
            )
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
