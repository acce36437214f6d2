"""The context one plan or apply works in: the profile, where the environment lives,
what is known so far (state, lock, diff, diagnosis), and each step's outcome.

Steps read and fill this object in order, as nox's workflow passes a session along.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from provisioner import platforms
from provisioner.apply.state import State, read_state
from provisioner.env import EnvBackend, EnvDiff, env_prefix
from provisioner.lock import Lock
from provisioner.profile import ResolvedProfile

if TYPE_CHECKING:
    from provisioner.checks.doctor import Diagnosis

Status = Literal["ok", "change", "fail", "skipped"]


@dataclass(frozen=True)
class Outcome:
    """What a step found (check) or did (change): a status, a one-line reason, details."""

    status: Status
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    skip_checks: bool = False
    quiet: bool = True
    verify: str = "smoke"  # smoke | import
    force: bool = False  # ignore the recorded state: diff every package, verify again


@dataclass(frozen=True)
class StepRecord:
    """One step as it ended up: its final outcome and how long it took."""

    name: str
    outcome: Outcome
    changed: bool
    duration_s: float


@dataclass
class Run:
    """Mutable context shared by the steps of one plan/apply."""

    resolved: ResolvedProfile
    options: Options
    platform: str = field(default_factory=platforms.host_subdir)
    prefix: Path = field(default=Path())
    state: State | None = None
    # Filled by the lock step.
    lock_path: Path | None = None
    lock_sha256: str = ""
    lock_fresh: bool = False
    _lock: Lock | None = None
    # Filled by the environment step.
    diff: EnvDiff | None = None
    fingerprint: str = ""
    env_action: str = "none"  # create | update | rebuild | none
    # Filled by the checks and verify steps.
    diagnosis: Diagnosis | None = None
    verify: dict[str, Any] = field(default_factory=dict)
    records: list[StepRecord] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.prefix == Path():
            self.prefix = env_prefix(self.env)
        if self.state is None:
            self.state = read_state(self.env)

    @property
    def env(self) -> str:
        return self.resolved.profile.environment.name

    @property
    def manager(self) -> str:
        return self.resolved.profile.environment.manager.value

    def lock(self) -> Lock:
        """The parsed lock; read on first use (the no-op fast path never needs it)."""
        if self._lock is None:
            from provisioner.lock.lockfile import read_lockfile

            assert self.lock_path is not None, "the lock step runs before anything reads the lock"
            self._lock = read_lockfile(self.lock_path)
        return self._lock

    def set_lock(self, lock: Lock | None) -> None:
        self._lock = lock

    def backend(self) -> EnvBackend:
        """The environment backend the profile names (``environment.manager``)."""
        from provisioner.env import BACKENDS

        return BACKENDS[self.manager](self.resolved.profile.environment.python)

    def python(self) -> Path:
        from provisioner.env import env_python

        return env_python(self.prefix, windows=platforms.is_windows(), manager=self.manager)
