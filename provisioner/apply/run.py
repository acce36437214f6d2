"""What one plan or apply works with: a frozen :class:`Context` (the profile, where the
environment lives, the state recorded before the run) and the frozen findings each step
returns. A step's check returns a finding; its change consumes that finding and returns
the final one; later steps read earlier findings from :class:`Findings` (the records
so far), as nox's workflow hands each step the previous result. Nothing is shared
mutably between steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from provisioner import platforms
from provisioner.env import EnvBackend, EnvDiff, env_prefix, env_python
from provisioner.lock import Lock
from provisioner.profile import ResolvedProfile
from provisioner.state import State, read_state

if TYPE_CHECKING:
    from provisioner.apply.drift import Drift, Ledger, Scan
    from provisioner.checks.doctor import Diagnosis
    from provisioner.errors import ProvisionError
    from provisioner.lock.staleness import Staleness
    from provisioner.verify.result import VerifyResult

Status = Literal["ok", "change", "fail", "skipped"]
# update: a stale lock beside the profile is re-locked in place (said on stderr);
# locked: a missing or stale lock beside the profile stops apply; frozen: install the
# lock as it is, never solve.
LockMode = Literal["update", "locked", "frozen"]
EnvAction = Literal["create", "update", "rebuild", "repair", "activation", "none"]


@dataclass(frozen=True)
class Outcome:
    """What a step found (check) or did (change): a status, a one-line reason, details.

    Steps return subclasses that carry their typed result for the steps after them."""

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
    lock_mode: LockMode = "update"
    # Where environments are built (None: ``paths.envs_dir()``, $PROVISION_ENVS_DIR):
    # the bundle's ``--prefix`` puts the environment exactly there.
    envs_dir: Path | None = None
    # Installers never reach a network (uv offline): the bundle carries every package.
    offline: bool = False


@dataclass(frozen=True)
class ChecksFinding(Outcome):
    """The host checks' outcome and the diagnosis behind it (``None`` when skipped)."""

    diagnosis: Diagnosis | None = None


@dataclass(frozen=True, eq=False)
class LockRef:
    """The lockfile the environment is built from: its path, the sha256 of its bytes and
    the parsed lock, read on first use (the no-op fast path never parses it: that imports
    YAML and costs time)."""

    path: Path
    sha256: str
    preloaded: Lock | None = None

    @cached_property
    def lock(self) -> Lock:
        if self.preloaded is not None:
            return self.preloaded
        from provisioner.lock.lockfile import read_lockfile

        return read_lockfile(self.path)


@dataclass(frozen=True)
class LockFinding(Outcome):
    """The lock step: the lockfile to build from (``None`` while one is still to be made),
    whether it is fresh for the profile (``--frozen`` builds from a stale one too) and
    why not; for a lock still to be made, where it goes and whether that is the
    profile's committed lockfile (re-locked in place, said on stderr)."""

    locked: LockRef | None = None
    fresh: bool = False
    stale: Staleness | None = None
    target: Path | None = None
    beside: bool = False


@dataclass(frozen=True, eq=False)
class DriftCheck:
    """A verified environment's files checked against the ledger recorded when it was
    verified (``ledger``, ``drift``; both ``None`` when there was none and every file
    was hashed instead), and the diff that repairs what drifted (``None``: nothing)."""

    ledger: Ledger | None
    drift: Drift | None
    repair: EnvDiff | None = None


@dataclass(frozen=True)
class EnvFinding(Outcome):
    """The environment step: the action, the diff it was decided from (computed once,
    consumed by the backend's install), the prefix fingerprint and the state (in memory:
    the verify step writes the verified mark)."""

    action: EnvAction = "none"
    diff: EnvDiff | None = None
    fingerprint: str = ""
    state: State | None = None
    drift: DriftCheck | None = None  # the fast path's drift check


@dataclass(frozen=True)
class VerifyFinding(Outcome):
    """The verify step: the smoke test's (or import check's) result, or the one the state
    recorded (``cached``), and the state after."""

    result: VerifyResult | None = None
    state: State | None = None


@dataclass(frozen=True)
class StepRecord:
    """One step as it ended up: its final finding and how long it took."""

    name: str
    outcome: Outcome
    changed: bool
    duration_s: float


F = TypeVar("F", bound=Outcome)


@dataclass(frozen=True)
class Findings:
    """The records of the steps run so far, in order, and the error that stopped a step.

    Typed accessors give later steps (and the report) the earlier steps' results."""

    records: tuple[StepRecord, ...] = ()
    error: ProvisionError | None = None

    def plus(self, record: StepRecord) -> Findings:
        return Findings((*self.records, record), self.error)

    def get(self, name: str, kind: type[F]) -> F | None:
        """The final finding of step ``name`` if it ran and is a ``kind``."""
        for record in reversed(self.records):
            if record.name == name and isinstance(record.outcome, kind):
                return record.outcome
        return None

    @property
    def ok(self) -> bool:
        return all(r.outcome.status != "fail" for r in self.records)

    @property
    def checks(self) -> ChecksFinding | None:
        return self.get("checks", ChecksFinding)

    @property
    def lock(self) -> LockFinding | None:
        return self.get("lock", LockFinding)

    @property
    def environment(self) -> EnvFinding | None:
        return self.get("environment", EnvFinding)

    @property
    def verify(self) -> VerifyFinding | None:
        return self.get("verify", VerifyFinding)

    def state(self, ctx: Context) -> State | None:
        """The latest known state: after verify, after the environment step, or recorded."""
        for later in (self.verify, self.environment):
            if later is not None and later.state is not None:
                return later.state
        return ctx.state


@dataclass(frozen=True)
class Context:
    """What every step of one plan/apply reads and nobody changes: the profile, the
    options, the platform, the prefix and the state recorded before the run (read only
    once apply holds the environment's lock)."""

    resolved: ResolvedProfile
    options: Options
    platform: str
    prefix: Path
    state: State | None
    started: float
    # The drift check's stat scan, started beside the host checks (apply/repair.py).
    scan: Scan | None = None

    @classmethod
    def of(cls, resolved: ResolvedProfile, options: Options) -> Context:
        env = resolved.profile.environment.name
        return cls(
            resolved,
            options,
            platforms.host_subdir(),
            env_prefix(env, options.envs_dir),
            read_state(env),
            time.time(),
        )

    @property
    def env(self) -> str:
        return self.resolved.profile.environment.name

    @property
    def manager(self) -> str:
        return self.resolved.profile.environment.manager.value

    def backend(self) -> EnvBackend:
        """The environment backend the profile names (``environment.manager``)."""
        from provisioner.env.registry import BACKENDS

        return BACKENDS[self.manager](self.resolved.profile.environment.python)

    def python(self) -> Path:
        return env_python(self.prefix, windows=platforms.is_windows(), manager=self.manager)
