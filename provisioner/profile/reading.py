"""Read a profile file with bounds: a regular file, of a sane size, as UTF-8 text.

A profile path comes from the user or from an ``extends`` line, so it may name a
FIFO, a device, a folder or a symlink loop. It is read by the one bounded reader
every command input goes through (:mod:`provisioner.inputs`, kind ``PROFILE``):
anything but a regular UTF-8 file of at most :data:`MAX_BYTES` is an
:class:`Unreadable` with a reason and a fix, never a hang or a MemoryError.
"""

from __future__ import annotations

from pathlib import Path

from provisioner.inputs import PROFILE, Unreadable, read_bounded

__all__ = ["MAX_BYTES", "Unreadable", "read_profile_text"]

MAX_BYTES = PROFILE.cap


def read_profile_text(path: Path, missing_fix: str) -> str:
    """The text of ``path``; :class:`Unreadable` for anything but a readable UTF-8 file
    of at most :data:`MAX_BYTES` (``missing_fix`` is the fix when it does not exist)."""
    data = read_bounded(path, PROFILE, missing_fix=missing_fix)
    try:
        return data.decode("utf-8")  # a BOM stays: the YAML reader skips it
    except UnicodeDecodeError as e:
        raise Unreadable(f"not UTF-8 text (byte {e.start})", "save it as UTF-8") from None
