"""Answers of commands that depend only on the program file, kept between runs.

``python3 -V`` is what the host checks ask every interpreter on PATH, on every apply
and doctor; its answer is a property of the binary. A run reuses an answer when the
program is the same file as when it answered: the same real path and name, and the
same device, inode, size, mtime and ctime (any write, replace, chmod or package
upgrade changes one of them; ``touch`` cannot set ctime back). Only ELF executables
are remembered: a script (a pyenv shim, a wrapper) may answer by its environment.
A shared-library build whose libpython alone was upgraded keeps its old answer: the
patch version could be stale, the ``X.Y`` the checks compare is not.

The cache is ``<cache>/programs.json`` (:func:`provisioner.paths.cache_root`): safe to
delete, bounded to :data:`MAX_ENTRIES`, written atomically; unreadable means empty.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence

from provisioner.atomic import write_atomic
from provisioner.paths import cache_root
from provisioner.process import Completed

MAX_ENTRIES = 64
VERSION = 1


def program_key(exe: str, argv: Sequence[str]) -> str | None:
    """The key of ``argv`` run as the program file ``exe``, or ``None`` when its answer
    is not remembered (not an ELF executable, or it cannot be read)."""
    try:
        real = os.path.realpath(exe)
        with open(real, "rb") as f:
            st = os.fstat(f.fileno())
            if f.read(4) != b"\x7fELF":
                return None
    except (OSError, ValueError):
        return None
    stat = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
    return json.dumps([real, os.path.basename(exe), stat, list(argv[1:])])


class ProgramCache:
    """The remembered answers, loaded once; :meth:`save` writes new ones back."""

    def __init__(self) -> None:
        self.path = cache_root() / "programs.json"
        self.entries: dict[str, list[object]] = {}
        self.changed = False
        with contextlib.suppress(OSError, ValueError, RecursionError):
            data = json.loads(self.path.read_bytes())
            if isinstance(data, dict) and data.get("version") == VERSION:
                found = data.get("entries")
                if isinstance(found, dict):
                    self.entries = found

    def get(self, key: str, argv: Sequence[str]) -> Completed | None:
        entry = self.entries.get(key)
        try:
            code, out, err = entry  # type: ignore[misc]
            if not isinstance(code, int) or not isinstance(out, str) or not isinstance(err, str):
                return None
            return Completed(tuple(argv), code, out.encode(), err.encode(), 0.0)
        except (TypeError, ValueError):  # absent, or not an entry this version wrote
            return None

    def put(self, key: str, done: Completed) -> None:
        """Remember a clean answer (exit 0, in time, text output)."""
        if done.timed_out or done.returncode != 0:
            return
        try:
            entry: list[object] = [0, done.stdout.decode(), done.stderr.decode()]
        except UnicodeDecodeError:
            return
        self.entries.pop(key, None)
        self.entries[key] = entry  # newest last: the oldest go first
        while len(self.entries) > MAX_ENTRIES:
            del self.entries[next(iter(self.entries))]
        self.changed = True

    def save(self) -> None:
        """Write the cache back if it changed (best effort: a cache is never an error)."""
        if not self.changed:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps({"version": VERSION, "entries": self.entries}))
        self.changed = False
