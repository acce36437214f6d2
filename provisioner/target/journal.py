"""apply's state file, on the target's side: the one serialisation of the journal, and
the check and record the bootstrap scripts make with the environment's own Python.

The record's shape is ``provisioner/state.py``'s ``State`` (the typed contract);
``provision render`` gives the bootstrap scripts a *skeleton*: the state of an
environment built from the rendered lock and verified by its smoke test, less what only
the run knows (:data:`RUNTIME_FIELDS`; in ``verification``, the time and what the
smoke test measured are defaults the run replaces). ``provision apply`` writes its
state through :func:`write_state_file` too: the state file has one writer.

Python 3.7 or newer, standard library only (annotations are never evaluated).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Sequence

# The fields of a state only the run knows: the scripts add them to the skeleton.
RUNTIME_FIELDS = ("prefix", "lock_path", "fingerprint", "updated_at")
# JSON values the record may carry from the smoke test's own result.
SCALARS = (str, int, float, bool, type(None))


def state_text(data: dict[str, Any]) -> str:
    """The state file's text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def read_state_file(path: str) -> dict[str, Any] | None:
    """The recorded state as JSON data, or ``None`` when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def is_verified(
    state: dict[str, Any] | None,
    skeleton: dict[str, Any],
    *,
    prefix: str,
    fingerprint: str,
) -> bool:
    """Whether ``state`` marks ``prefix`` (as it is now: ``fingerprint``) built from the
    skeleton's lock and verified by a smoke test: what ``State.good_for`` says in apply."""
    if not isinstance(state, dict):
        return False
    recorded = state.get("verification")
    wanted = skeleton["verification"]
    return (
        all(state.get(k) == skeleton[k] for k in ("version", "phase", "lock_sha256"))
        and isinstance(recorded, dict)
        and recorded.get("kind") == wanted["kind"]
        and state.get("prefix") == prefix
        and state.get("fingerprint") == fingerprint
    )


def verified_record(
    skeleton: dict[str, Any],
    measured: Sequence[str],
    *,
    prefix: str,
    lock_path: str,
    fingerprint: str,
    result: dict[str, Any] | None,
    now: str | None = None,
) -> dict[str, Any]:
    """The skeleton completed by the run: the prefix, the lock, the fingerprint, the
    time, and the ``measured`` fields of the smoke test's ``result`` (JSON scalars only)."""
    now = now or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    verification = dict(skeleton["verification"], verified_at=now)
    for key in measured:
        value = (result or {}).get(key)
        if isinstance(value, SCALARS):
            verification[key] = value
    state = dict(skeleton, prefix=prefix, lock_path=lock_path, fingerprint=fingerprint)
    state.update(updated_at=now, verification=verification)
    return state


def write_state_file(path: str, data: dict[str, Any]) -> None:
    """Replace the state file durably: a hidden temp file beside it with an unpredictable
    name (``.NAME.<16 hex>.tmp``, as ``provisioner/atomic.py`` names them), created
    exclusively without following a link planted there, fsync, ``os.replace``."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, ".%s.%s.tmp" % (os.path.basename(path), os.urandom(8).hex()))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)  # Windows: no CRLF translation under the text
    try:
        with os.fdopen(os.open(tmp, flags, 0o666), "w", encoding="utf-8", newline="\n") as f:
            f.write(state_text(data))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
