"""What was hashed and found good, by the stat it had then: one JSON file per cache.

Hashing every archive and every extracted file on each install would cost more than
the install itself. So, once a file (or a cache entry's set of files) has been hashed
against the lock, its stat fingerprint is recorded here, and while the fingerprint is
unchanged the bytes are trusted without hashing them again. Any write, ``touch``,
replacement or removal changes it. The ledger is read once per install and written
once (merged with what other processes wrote meanwhile, then renamed into place): a
lost update only means a file is hashed again, never that one is trusted unhashed.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from provisioner.atomic import write_atomic

__all__ = ["StatLedger"]


class StatLedger:
    """A map ``key -> record`` (a JSON value) stored in ``path``; thread-safe updates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records = self._read()
        self._changes: dict[str, object | None] = {}
        self._lock = threading.Lock()

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}  # a damaged ledger trusts nothing: everything is hashed again
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> object | None:
        return self._records.get(key)

    def record(self, key: str, value: object) -> None:
        with self._lock:
            self._records[key] = value
            self._changes[key] = value

    def forget(self, key: str) -> None:
        with self._lock:
            if self._records.pop(key, None) is not None or key in self._changes:
                self._changes[key] = None

    def save(self) -> None:
        """Write this run's changes over the ledger as it is on disk now (a cache:
        a failure to write is ignored)."""
        with self._lock:
            if not self._changes:
                return
            merged = self._read()
            for key, value in self._changes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            self._changes.clear()
        with contextlib.suppress(OSError):
            write_atomic(self.path, json.dumps(merged, separators=(",", ":")))
