"""Small pieces of apply that the end-to-end tests cannot reach: ENOSPC mapping, the
state file round trip, the apply lock within one process, and ``workflow.execute``
with fake steps (order, findings handed on, failures, dry-run)."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioner.apply.guard import ApplyBusy, exclusive
from provisioner.apply.progress import Progress
from provisioner.apply.run import (
    Context,
    Findings,
    LockFinding,
    LockRef,
    Options,
    Outcome,
    Status,
    StepRecord,
)
from provisioner.apply.steps import EnvironmentStep
from provisioner.apply.workflow import execute, os_failure
from provisioner.env import EnvDiff
from provisioner.env.registry import BACKENDS
from provisioner.errors import ExitCode, ExternalFailure
from provisioner.lock import Lock, LockedPackage
from provisioner.profile import default_profile_path, load_profile
from provisioner.state import (
    PackageRecord,
    State,
    VerifySummary,
    read_state,
    state_path,
    write_state,
)
from provisioner.target.fingerprint import env_fingerprint


def test_enospc_becomes_one_error_with_a_fix() -> None:
    err = os_failure(OSError(errno.ENOSPC, "No space left on device", "/data/state.json"))
    assert isinstance(err, ExternalFailure) and err.exit_code == ExitCode.NOT_READY
    assert err.lines() == [
        "error: the disk is full writing /data/state.json (fix: free space on the disk that "
        "holds PROVISION_HOME and the package caches, then apply again (it resumes))"
    ]
    quota = os_failure(OSError(errno.EDQUOT, "Disk quota exceeded", "/data/r.json"))
    assert quota.lines()[0].startswith("error: the disk is full writing /data/r.json (fix:")


def test_other_oserror_becomes_one_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    err = os_failure(OSError(errno.EACCES, "Permission denied", "/data/state"))
    assert isinstance(err, ExternalFailure) and err.exit_code == ExitCode.NOT_READY
    assert err.lines() == [
        f"error: cannot access /data/state: Permission denied (fix: make sure PROVISION_HOME "
        f"({tmp_path / 'home'}) and the folders under it are folders you can write to, then "
        "apply again)"
    ]


def test_state_round_trip_and_unreadable_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path))
    s = State(
        "e",
        "/p",
        "venv",
        "linux-64",
        "verified",
        lock_sha256="ab",
        fingerprint="cd",
        verification=VerifySummary("smoke", "trained"),
        packages=(PackageRecord("pip", "six", "1.17.0"),),
    )
    write_state(s)
    assert read_state("e") == s
    assert s.good_for(lock_sha256="ab", fingerprint="cd", verify_kind="import")
    assert not s.good_for(lock_sha256="ab", fingerprint="xx", verify_kind="smoke")
    assert not s.but(phase="built").good_for(
        lock_sha256="ab", fingerprint="cd", verify_kind="smoke"
    )
    state_path("e").write_text("{not json")
    assert read_state("e") is None


def test_fingerprint_changes_when_a_package_appears(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    before = env_fingerprint(tmp_path)
    assert before == env_fingerprint(tmp_path)
    (site / "six-1.17.0.dist-info").mkdir()
    assert env_fingerprint(tmp_path) != before
    assert env_fingerprint(tmp_path / "missing") == ""


def test_second_holder_is_refused_while_the_first_holds(tmp_path: Path) -> None:
    lock = tmp_path / "e.lock"
    busy = pytest.raises(ApplyBusy, match="another `provision apply` is changing")
    with exclusive(lock, "e"), busy, exclusive(lock, "e"):
        pass
    with exclusive(lock, "e"):  # released on exit
        pass


# --- workflow.execute with fake steps ------------------------------------------------


@dataclass(frozen=True)
class Count(Outcome):
    """A fake step's finding: the number it found, which the next step reads."""

    n: int = 0


class FakeStep:
    """A step that records its calls; its check finds 1 + the previous step's number.

    ``check_says`` is the status its check returns; ``change_raises`` an error its
    change raises instead of returning."""

    def __init__(
        self,
        name: str,
        calls: list[str],
        *,
        check_says: Status = "change",
        change_raises: BaseException | None = None,
        check_raises: BaseException | None = None,
        reads: str = "",
    ) -> None:
        self.name = name
        self.calls = calls
        self.check_says: Status = check_says
        self.change_raises = change_raises
        self.check_raises = check_raises
        self.reads = reads

    def check(self, ctx: Context, done: Findings) -> Count:
        self.calls.append(f"check {self.name}")
        if self.check_raises is not None:
            raise self.check_raises
        before = done.get(self.reads, Count) if self.reads else None
        n = 1 + (before.n if before is not None else 0)
        return Count(self.check_says, f"{self.name} found {n}", n=n)

    def change(self, ctx: Context, done: Findings, found: Count) -> Count:
        self.calls.append(f"change {self.name}")
        if self.change_raises is not None:
            raise self.change_raises
        return Count("change", f"{self.name} made {found.n * 10}", n=found.n * 10)


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    resolved = load_profile(default_profile_path())
    return Context(resolved, Options(), "linux-64", tmp_path / "env", None, 0.0)


def _names(done: Findings) -> list[tuple[str, str, bool]]:
    return [(r.name, r.outcome.status, r.changed) for r in done.records]


def test_execute_checks_then_changes_each_step_in_order(ctx: Context) -> None:
    calls: list[str] = []
    steps = [FakeStep("a", calls), FakeStep("b", calls, reads="a"), FakeStep("c", calls)]
    done = execute(ctx, change=True, progress=Progress(quiet=True), steps=steps)
    assert calls == ["check a", "change a", "check b", "change b", "check c", "change c"]
    assert _names(done) == [("a", "change", True), ("b", "change", True), ("c", "change", True)]
    # b's check saw a's finding *after* a's change (10), not a's check (1).
    b = done.get("b", Count)
    assert b is not None and b.n == 110 and b.reason == "b made 110"
    assert done.ok and done.error is None


def test_execute_dry_run_checks_every_step_and_changes_nothing(ctx: Context) -> None:
    calls: list[str] = []
    steps = [FakeStep("a", calls), FakeStep("b", calls, reads="a", check_says="ok")]
    done = execute(ctx, change=False, progress=Progress(quiet=True), steps=steps)
    assert calls == ["check a", "check b"]
    assert _names(done) == [("a", "change", False), ("b", "ok", False)]
    b = done.get("b", Count)
    assert b is not None and b.n == 2  # built on a's check: nothing was changed


def test_execute_stops_at_a_failing_check_without_changing_it(ctx: Context) -> None:
    calls: list[str] = []
    steps = [
        FakeStep("a", calls, check_says="ok"),
        FakeStep("b", calls, check_says="fail"),
        FakeStep("c", calls),
    ]
    done = execute(ctx, change=True, progress=Progress(quiet=True), steps=steps)
    assert calls == ["check a", "check b"]
    assert _names(done) == [("a", "ok", False), ("b", "fail", False)]
    assert not done.ok and done.error is None


def test_execute_records_a_raising_change_as_that_steps_failure(ctx: Context) -> None:
    calls: list[str] = []
    boom = ExternalFailure("the index is unreachable", hint="check the network")
    steps = [FakeStep("a", calls), FakeStep("b", calls, change_raises=boom), FakeStep("c", calls)]
    done = execute(ctx, change=True, progress=Progress(quiet=True), steps=steps)
    assert calls == ["check a", "change a", "check b", "change b"]
    assert _names(done) == [("a", "change", True), ("b", "fail", False)]
    assert done.records[-1].outcome.reason == (
        "error: the index is unreachable (fix: check the network)"
    )
    assert done.error is boom and not done.ok


def test_execute_maps_an_oserror_and_lets_a_bug_propagate(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path))
    calls: list[str] = []
    full = OSError(errno.ENOSPC, "No space left on device", "/data/x")
    done = execute(
        ctx,
        change=True,
        progress=Progress(quiet=True),
        steps=[FakeStep("a", calls, check_raises=full), FakeStep("b", calls)],
    )
    assert _names(done) == [("a", "fail", False)]
    assert isinstance(done.error, ExternalFailure) and done.error.__cause__ is full
    with pytest.raises(KeyError):  # not a ProvisionError: a bug, never recorded as a failure
        execute(
            ctx,
            change=True,
            progress=Progress(quiet=True),
            steps=[FakeStep("a", calls, change_raises=KeyError("x"))],
        )


class FakeBackend:
    """An environment backend that counts its diffs and records what install was given;
    the prefix matches the lock once install ran."""

    name = "venv"

    def __init__(self) -> None:
        self.diffs = 0
        self.installed_with: list[EnvDiff | None] = []

    def diff(self, prefix: Path, lock: Lock, platform: str, *, files: bool = False) -> EnvDiff:
        self.diffs += 1
        if self.installed_with:
            return EnvDiff()
        return EnvDiff(add=lock.for_platform(platform), exists=False)

    def install(
        self,
        prefix: Path,
        lock: Lock,
        platform: str,
        *,
        diff: EnvDiff | None = None,
        quiet: bool = False,
        offline: bool = False,
    ) -> None:
        self.installed_with.append(diff)


def test_environment_change_installs_the_diff_its_check_found(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    backend = FakeBackend()
    monkeypatch.setitem(BACKENDS, ctx.manager, lambda python: backend)
    wheel = tmp_path / "six.whl"  # a local file the lock names must exist (lock/travel.py)
    wheel.write_bytes(b"")
    six = LockedPackage("pip", "six", "1.17.0", "linux-64", wheel.as_uri(), "ab" * 32)
    lock = Lock("sha256:x", ("linux-64",), (), (six,))
    ref = LockRef(tmp_path / "p.conda-lock.yml", "cd" * 32, lock)
    fresh = LockFinding("ok", "fresh", locked=ref, fresh=True)
    done = Findings((StepRecord("lock", fresh, False, 0.0),))
    step = EnvironmentStep()
    found = step.check(ctx, done)
    assert (found.action, found.diff) == ("create", EnvDiff(add=(six,), exists=False))
    after = step.change(ctx, done, found)
    assert backend.installed_with == [found.diff]
    assert backend.installed_with[0] is found.diff  # handed on, not computed again
    assert backend.diffs == 2  # the check's diff and the check of the result
    assert after.state is not None and after.state.phase == "built"
    assert read_state(ctx.env) == after.state
