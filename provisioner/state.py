"""What apply remembers about an environment between runs, and the journal that makes
it crash-safe: the typed contract of the state file, shared with the bootstrap scripts.

One JSON file per environment, ``paths.state_dir()/<env>.json``, always replaced
atomically. ``phase`` is the journal:

- ``building``: written *before* the first change to the prefix. If a run dies here,
  the prefix may be half-built; the next apply removes it and builds it again.
- ``built``: the prefix matched the lock when this was written (``fingerprint``
  records it); the verify step has not passed yet.
- ``verified``: built and verified (``verification`` says how and what it proved). Only
  this phase marks an environment good, and only for this exact ``lock_sha256`` +
  ``fingerprint``; a no-op apply trusts it, neither diffs nor re-verifies, and reports
  the recorded verification. A failed ``provision verify`` puts it back to ``built``.

One writer writes the file, for apply and ``provision verify`` here and for the
bootstrap scripts with the environment's own Python: ``provisioner/target/journal.py``
(``write_state_file``). The scripts' data is :func:`verified_skeleton`, made from these
classes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from provisioner.inputs import Kind, MiB, Unreadable, read_bounded
from provisioner.paths import state_dir
from provisioner.target.journal import RUNTIME_FIELDS, write_state_file

Phase = Literal["building", "built", "verified"]
VerifyKind = Literal["smoke", "import"]
STATE_VERSION = 2  # 2: typed packages and the last verification (was verify_kind/verified_at)
PHASES: tuple[Phase, ...] = ("building", "built", "verified")
# A state lists the lock's packages: ~300 bytes each.
STATE_FILE = Kind(
    "state",
    16 * MiB,
    "remove it: the next apply checks the environment in full and records it again",
    "a state file written by provision apply",
)


class LockedLike(Protocol):
    """What a package record is made from (``lock.LockedPackage``)."""

    @property
    def manager(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def build(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def sha256(self) -> str | None: ...


@dataclass(frozen=True)
class PackageRecord:
    """One installed package as the state and the report list it (from the lock)."""

    manager: str
    name: str
    version: str
    build: str = ""
    url: str = ""
    sha256: str = ""

    @classmethod
    def of(cls, pkg: LockedLike) -> PackageRecord:
        return cls(pkg.manager, pkg.name, pkg.version, pkg.build, pkg.url, pkg.sha256 or "")


@dataclass(frozen=True)
class VerifySummary:
    """What the last passed verification proved: enough for a later no-op apply to
    report it (kind, summary, device, speed) without running it or reading old reports."""

    kind: VerifyKind
    summary: str
    verified_at: str = ""
    framework_version: str | None = None
    device_used: str | None = None
    device_name: str | None = None
    accelerator_used: bool = False
    steps_per_s: float | None = None
    cpu_steps_per_s: float | None = None
    speedup: float | None = None

    # The fields taken from the smoke test's own result record (same names there).
    MEASURED = (
        "framework_version",
        "device_used",
        "device_name",
        "accelerator_used",
        "steps_per_s",
        "cpu_steps_per_s",
        "speedup",
    )


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
    updated_at: str = ""
    packages: tuple[PackageRecord, ...] = ()  # the lock's packages for this platform
    verification: VerifySummary | None = None  # set in phase "verified" only
    version: int = STATE_VERSION
    # The name of the profile that built this environment, its owner (apply/ownership.py);
    # "" in a state written before owners were recorded (the next apply takes it over).
    profile: str = ""
    # The validation key (profile/validation_key.py) of the profile this lock was fresh for
    # and whose compatibility rules found nothing: a later apply of a profile with this
    # key knows both without computing them. "" when none is known (the lock installed
    # stale with --frozen, a bootstrap script's state): both are computed.
    validation_key: str = ""

    def good_for(self, *, lock_sha256: str, fingerprint: str, verify_kind: str) -> bool:
        """Whether this state marks the environment built *and* verified for this lock
        (a smoke-test pass also covers a request for the lighter import check)."""
        return (
            self.phase == "verified"
            and self.verification is not None
            and self.verification.kind in {verify_kind, "smoke"}
            and self.lock_sha256 == lock_sha256
            and self.fingerprint == fingerprint
        )

    def but(self, **changes: object) -> State:
        return replace(self, **changes)  # type: ignore[arg-type]

    def unverified(self, updated_at: str) -> State:
        """This state with the verified mark dropped (phase back to ``built``)."""
        phase: Phase = "built" if self.phase == "verified" else self.phase
        return replace(self, phase=phase, verification=None, updated_at=updated_at)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def state_path(env: str) -> Path:
    return state_dir() / f"{env}.json"


def recorded_validation_key(env: str) -> str:
    """The validation key recorded for ``env`` at its last verified apply ("": none).

    Read before apply takes the environment's lock (the profile names the environment
    only once it is loaded): safe, because the key decides nothing about the
    environment; it says only that a profile with this very key passed the
    compatibility rules (profile/validation_key.py), whichever run recorded it."""
    state = read_state(env)
    return state.validation_key if state is not None and state.phase == "verified" else ""


def read_state(env: str) -> State | None:
    """The recorded state, or ``None`` when there is none or it cannot be read (a
    state that is not a regular file is not opened for reading: never a hang)."""
    try:
        data = json.loads(read_bounded(state_path(env), STATE_FILE))
    except (Unreadable, ValueError, RecursionError):
        return None  # unreadable state is treated as "nothing known": a full check runs
    return parse_state(data)


def parse_state(data: object) -> State | None:
    """A state from its JSON, or ``None`` when it is not one this version wrote: a field
    of the wrong type, an unknown phase or an older version is "nothing known"."""
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return None
    if not set(data) <= {f.name for f in fields(State)}:
        return None  # a field this version does not know: not a state it wrote
    try:
        strings = {
            f.name: _str(data, f.name, required=f.name in ("env", "prefix", "manager", "platform"))
            for f in fields(State)
            if f.name not in ("packages", "verification", "version", "phase")
        }
        phase = data.get("phase")
        if phase not in PHASES:
            return None
        packages = tuple(_package(p) for p in _list(data.get("packages", [])))
        verification = _verification(data.get("verification"))
    except (TypeError, ValueError):
        return None
    if (phase == "verified") != (verification is not None):
        return None
    return State(
        env=strings["env"],
        prefix=strings["prefix"],
        manager=strings["manager"],
        platform=strings["platform"],
        phase=phase,
        profile_hash=strings["profile_hash"],
        lock_path=strings["lock_path"],
        lock_sha256=strings["lock_sha256"],
        lock_inputs_hash=strings["lock_inputs_hash"],
        fingerprint=strings["fingerprint"],
        updated_at=strings["updated_at"],
        profile=strings["profile"],
        validation_key=strings["validation_key"],
        packages=packages,
        verification=verification,
    )


def _str(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key, None if required else "")
    if not isinstance(value, str):
        raise TypeError(key)
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("packages")
    return value


def _package(item: object) -> PackageRecord:
    if not isinstance(item, dict):
        raise TypeError("package")
    return PackageRecord(**{f.name: _str(item, f.name) for f in fields(PackageRecord)})


def _verification(item: object) -> VerifySummary | None:
    """The recorded verification; its measured fields are kept where their type is
    right (a bootstrap script copies them from the smoke test's own JSON)."""
    if item is None:
        return None
    if not isinstance(item, dict) or item.get("kind") not in ("smoke", "import"):
        raise ValueError("verification")
    measured: dict[str, Any] = {}
    for key in ("framework_version", "device_used", "device_name"):
        value = item.get(key)
        measured[key] = value if isinstance(value, str) else None
    for key in ("steps_per_s", "cpu_steps_per_s", "speedup"):
        number = item.get(key)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            number = None
        measured[key] = None if number is None else float(number)
    measured["accelerator_used"] = item.get("accelerator_used") is True
    return VerifySummary(
        kind=item["kind"],
        summary=_str(item, "summary"),
        verified_at=_str(item, "verified_at"),
        **measured,
    )


def write_state(state: State) -> None:
    """Replace the state file atomically and durably, through the journal's one writer
    (``target/journal.py``), which the bootstrap scripts' helper uses too."""
    write_state_file(str(state_path(state.env)), state.as_json())


def verified_skeleton(state: State) -> dict[str, Any]:
    """``state`` (verified) as JSON less what only the run knows (its ``verification``
    holds defaults for the time and the measurements): what the bootstrap scripts
    complete (``target/journal.py``, ``verified_record``) once their smoke test passed,
    so a state they write is one apply reads, and the other way round."""
    if state.verification is None:
        raise ValueError("a skeleton is of a verified state")
    return {k: v for k, v in state.as_json().items() if k not in RUNTIME_FIELDS}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
