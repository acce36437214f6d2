"""What apply remembers about an environment between runs, and the journal that makes
it crash-safe.

One JSON file per environment, ``paths.state_dir()/<env>.json``, always replaced
atomically (write a temp file, fsync, ``os.replace``). ``phase`` is the journal:

- ``building``: written *before* the first change to the prefix. If a run dies here,
  the prefix may be half-built; the next apply removes it and builds it again.
- ``built``: the prefix matched the lock when this was written (``fingerprint``
  records it); the verify step has not passed yet.
- ``verified``: built and verified. Only this phase marks an environment good, and
  only for this exact ``lock_sha256`` + ``fingerprint``; a no-op apply trusts it and
  neither diffs nor re-verifies. A failed ``provision verify`` puts it back to
  ``built`` (:func:`unverify`), so the next apply diffs and verifies again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from provisioner.apply.fingerprint import env_fingerprint as env_fingerprint  # re-exported
from provisioner.atomic import write_atomic
from provisioner.paths import state_dir

Phase = Literal["building", "built", "verified"]
STATE_VERSION = 1


@dataclass(frozen=True)
class State:
    """The last known state of one environment."""

    env: str
    prefix: str
    manager: str
    platform: str
    phase: Phase
    profile_hash: str = ""
    lock_path: str = ""
    lock_sha256: str = ""  # sha256 of the lockfile's bytes
    # The lock's inputs hash when it was fresh for the profile; "" when it was installed
    # stale (apply --frozen). The lock step trusts a recorded lock only with this set.
    lock_inputs_hash: str = ""
    fingerprint: str = ""  # env_fingerprint(prefix) after the build
    verified_at: str = ""
    verify_kind: str = ""  # smoke | import
    updated_at: str = ""
    packages: list[dict[str, Any]] = field(default_factory=list)  # the lock, for reports
    version: int = STATE_VERSION
    # The name of the profile that built this environment, its owner (apply/ownership.py);
    # "" in a state written before owners were recorded.
    profile: str = ""

    def good_for(self, *, lock_sha256: str, fingerprint: str, verify_kind: str) -> bool:
        """Whether this state marks the environment built *and* verified for this lock
        (a smoke-test pass also covers a request for the lighter import check)."""
        return (
            self.phase == "verified"
            and self.verify_kind in {verify_kind, "smoke"}
            and self.lock_sha256 == lock_sha256
            and self.fingerprint == fingerprint
        )

    def but(self, **changes: object) -> State:
        return replace(self, **changes)  # type: ignore[arg-type]


def state_path(env: str) -> Path:
    return state_dir() / f"{env}.json"


def read_state(env: str) -> State | None:
    """The recorded state, or ``None`` when there is none or it cannot be read."""
    try:
        data = json.loads(state_path(env).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return None
        return State(**data)
    except (OSError, ValueError, TypeError, RecursionError):
        return None  # unreadable state is treated as "nothing known": a full check runs


def write_state(state: State) -> None:
    """Replace the state file atomically and durably."""
    text = json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"
    write_atomic(state_path(state.env), text, durable=True)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def unverify(env: str, prefix: Path) -> bool:
    """Drop the verified mark of ``env`` at ``prefix`` (phase back to ``built``) after
    a failed ``provision verify``, so the next apply diffs and verifies it again.

    Skipped (False) when nothing verified is recorded, when an apply holds the
    environment (it writes its own state), or when the state cannot be written."""
    from datetime import datetime, timezone

    from provisioner.apply.guard import ApplyBusy, exclusive

    try:
        with exclusive(state_dir() / f"{env}.lock", env):
            state = read_state(env)
            if state is None or state.prefix != str(prefix) or state.phase != "verified":
                return False
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            write_state(state.but(phase="built", verified_at="", verify_kind="", updated_at=now))
            return True
    except (ApplyBusy, OSError):
        return False
