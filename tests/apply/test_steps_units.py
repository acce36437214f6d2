"""The environment and verify steps' decisions, in process (docs/apply.md): when apply
trusts the recorded state, when it diffs (and hashes every file), when it rebuilds;
and that a failed verification always takes the verified mark away, a passed one
sets it for exactly this lock, environment and profile.

The environment backend is a FAKE that returns a given diff and records how it was
asked (the real backends have their own tests); the verify step runs the real import
check in this test's Python, with a STAND-IN framework module."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from provisioner.apply.drift import write_ledger
from provisioner.apply.run import Context, Findings, LockFinding, LockRef, Options, StepRecord
from provisioner.apply.steps import EnvironmentStep, VerifyStep, built_state
from provisioner.env import EnvBackend, EnvDiff
from provisioner.lock import Lock, LockedPackage
from provisioner.profile import ResolvedProfile, load_profile
from provisioner.state import State, VerifySummary, read_state, write_state
from provisioner.target.fingerprint import env_fingerprint
from tests.support.profiles import CPU_SMOKE, profile_document, write_profile

SHA = "a" * 64
SIX = LockedPackage("pip", "six", "1.17.0", "linux-64", "file:///w/six.whl", "0" * 64)
LOCK = Lock("sha256:x", ("linux-64",), (), (SIX,))


@dataclass
class FakeBackend:
    """Answers ``diff`` with ``answer`` and records each call's ``files`` flag."""

    answer: EnvDiff
    name: str = "venv"
    asked: list[bool] = field(default_factory=list)

    def diff(self, prefix: Path, lock: Lock, platform: str, *, files: bool = False) -> EnvDiff:
        self.asked.append(files)
        return self.answer

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
        raise AssertionError("a check never installs")


@dataclass(frozen=True)
class FakeContext(Context):
    fake: FakeBackend | None = None

    def backend(self) -> EnvBackend:
        assert self.fake is not None
        return self.fake


@pytest.fixture
def resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ResolvedProfile:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    env = {"manager": "venv", "python": "3.11", "pip": ["six==1.17.0"]}
    document = profile_document("steps", env, smoke={**CPU_SMOKE, "framework": "pytorch"})
    return load_profile(write_profile(tmp_path / "steps.yaml", document))


def venv_prefix(tmp_path: Path) -> Path:
    """A prefix whose python is this test's interpreter (what a venv's bin/python is)."""
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").symlink_to(sys.executable)
    (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    return prefix


def lock_done(resolved: ResolvedProfile) -> Findings:
    ref = LockRef(resolved.path.with_suffix(".conda-lock.yml"), SHA, LOCK)
    return Findings().plus(StepRecord("lock", LockFinding("ok", "fresh", {}, ref, True), False, 0))


def context(
    resolved: ResolvedProfile,
    prefix: Path,
    answer: EnvDiff,
    state: State | None = None,
    **options: object,
) -> FakeContext:
    opts = Options(**options)  # type: ignore[arg-type]
    return FakeContext(resolved, opts, "linux-64", prefix, state, 0.0, fake=FakeBackend(answer))


IMPORTED = VerifySummary("import", "import torch ok (2.3.1+cpu)", "2026-11-29T10:00:00Z")


def recorded(ctx: Context, **changes: object) -> State:
    """The state apply recorded (phase ``verified`` by an import check, unless changed)."""
    phase = changes.pop("phase", "verified")
    state = built_state(ctx, lock_done(ctx.resolved), env_fingerprint(ctx.prefix))
    state = state.but(phase=phase, verification=IMPORTED if phase == "verified" else None)
    return state.but(**changes)


MATCHES = EnvDiff()
MISSING_SIX = EnvDiff(add=(SIX,))
NO_ENV = EnvDiff(add=(SIX,), exists=False, notes=("the venv has Python 3.10",))


def decide(ctx: FakeContext) -> tuple[str, str, str]:
    found = EnvironmentStep().check(ctx, lock_done(ctx.resolved))
    return found.status, found.action, found.reason


def test_a_verified_record_for_this_lock_and_prefix_is_trusted_without_a_diff(
    resolved: ResolvedProfile, tmp_path: Path
) -> None:
    prefix = venv_prefix(tmp_path)
    probe = context(resolved, prefix, MATCHES)
    ctx = context(resolved, prefix, MISSING_SIX, recorded(probe, updated_at="T"))
    write_ledger(ctx.env, str(prefix), SHA, [])  # the files recorded at verify
    assert decide(ctx) == ("ok", "none", f"{prefix} matches the lock (recorded T)")
    assert ctx.fake is not None and ctx.fake.asked == []


def test_a_verified_record_without_a_file_ledger_hashes_every_file_once(
    resolved: ResolvedProfile, tmp_path: Path
) -> None:
    """A state verified by an older provision (or the tool-free bootstrap) has no
    ledger of its files: the files are hashed against their records, not trusted."""
    prefix = venv_prefix(tmp_path)
    state = recorded(context(resolved, prefix, MATCHES), updated_at="T")
    ctx = context(resolved, prefix, MATCHES, state)
    assert decide(ctx) == ("ok", "none", f"{prefix} matches the lock (recorded T)")
    assert ctx.fake is not None and ctx.fake.asked == [True]
    altered = EnvDiff(change=(("six==1.17.0 (altered: six.py)", SIX),), altered=("pip:six",))
    ctx = context(resolved, prefix, altered, state)
    assert decide(ctx) == (
        "change",
        "repair",
        f"repair {prefix}: change six==1.17.0 (altered: six.py) -> six==1.17.0",
    )


@pytest.mark.parametrize(
    ("changes", "force", "deep"),
    [
        ({"lock_sha256": "b" * 64}, False, False),  # another lock: diff, trust the files
        ({"fingerprint": "changed"}, False, False),  # something was installed since
        ({"phase": "built"}, False, True),  # never verified (or a failed verify): hash all
        ({}, True, True),  # --force
    ],
)
def test_anything_short_of_a_matching_verified_record_diffs(
    resolved: ResolvedProfile,
    tmp_path: Path,
    changes: dict[str, object],
    force: bool,
    deep: bool,
) -> None:
    prefix = venv_prefix(tmp_path)
    state = recorded(context(resolved, prefix, MATCHES), **changes)
    ctx = context(resolved, prefix, MISSING_SIX, state, force=force)
    assert decide(ctx) == ("change", "update", f"update {prefix}: add six==1.17.0")
    assert ctx.fake is not None and ctx.fake.asked == [deep]


def test_without_any_record_every_file_is_hashed(resolved: ResolvedProfile, tmp_path: Path) -> None:
    prefix = venv_prefix(tmp_path)
    ctx = context(resolved, prefix, MATCHES)
    status, action, _ = decide(ctx)
    assert (status, action) == ("ok", "none")
    assert ctx.fake is not None and ctx.fake.asked == [True]


def test_a_run_that_stopped_while_building_is_rebuilt(
    resolved: ResolvedProfile, tmp_path: Path
) -> None:
    prefix = venv_prefix(tmp_path)
    state = recorded(context(resolved, prefix, MATCHES), phase="building")
    assert decide(context(resolved, prefix, MATCHES, state)) == (
        "change",
        "rebuild",
        f"rebuild {prefix}: a previous apply stopped while building it",
    )


def test_a_prefix_whose_python_is_gone_is_rebuilt(
    resolved: ResolvedProfile, tmp_path: Path
) -> None:
    prefix = venv_prefix(tmp_path)
    (prefix / "bin" / "python").unlink()
    (prefix / "bin" / "python").symlink_to(tmp_path / "uninstalled-python")  # dangling
    status, action, reason = decide(context(resolved, prefix, MATCHES))
    assert (status, action) == ("change", "rebuild")
    assert reason == f"rebuild {prefix}: its Python {prefix / 'bin' / 'python'} is missing"


def test_an_environment_to_make_says_how_many_packages_and_why(
    resolved: ResolvedProfile, tmp_path: Path
) -> None:
    prefix = tmp_path / "not-yet"
    assert decide(context(resolved, prefix, NO_ENV)) == (
        "change",
        "create",
        f"create {prefix} with 1 packages (the venv has Python 3.10)",
    )


# -- verify: the mark follows the last verification ------------------------------------


@pytest.fixture
def framework(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the STAND-IN torch lives (on PYTHONPATH of the environment's Python)."""
    folder = tmp_path / "stand-in"
    (folder / "torch").mkdir(parents=True)
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return folder / "torch" / "__init__.py"


def verify(ctx: Context, state: State) -> tuple[str, State | None]:
    write_state(state)
    done = lock_done(ctx.resolved).plus(
        StepRecord("environment", EnvironmentStep().check(ctx, lock_done(ctx.resolved)), False, 0)
    )
    step = VerifyStep()
    found = step.check(ctx, done)
    if found.status == "change":
        found = step.change(ctx, done, found)
    return found.status, read_state(ctx.env)


def test_a_failed_verification_takes_the_verified_mark_away(
    resolved: ResolvedProfile, tmp_path: Path, framework: Path
) -> None:
    framework.write_text("raise ImportError('libcudart.so.12: cannot open shared object')\n")
    prefix = venv_prefix(tmp_path)
    ctx = context(resolved, prefix, MATCHES, verify="import", force=True)
    status, after = verify(ctx, recorded(ctx))
    assert status == "fail"
    assert after is not None and (after.phase, after.verification) == ("built", None)


def test_a_passed_verification_marks_this_lock_environment_and_profile(
    resolved: ResolvedProfile, tmp_path: Path, framework: Path
) -> None:
    framework.write_text("__version__ = '2.3.1+cpu'\n")
    prefix = venv_prefix(tmp_path)
    ctx = context(resolved, prefix, MATCHES, verify="import")
    status, after = verify(ctx, recorded(ctx, phase="built"))
    assert status == "change"
    assert after is not None and after.phase == "verified" and after.verification is not None
    assert after.verification.kind == "import"
    assert after.verification.summary == "import torch ok (2.3.1+cpu)"
    assert after.lock_sha256 == SHA and after.profile_hash == resolved.content_hash
    assert after.good_for(
        lock_sha256=SHA, fingerprint=env_fingerprint(prefix), verify_kind="import"
    )
    assert not after.good_for(
        lock_sha256=SHA, fingerprint=env_fingerprint(prefix), verify_kind="smoke"
    )


def verify_check(resolved: ResolvedProfile, prefix: Path, state: State, **options: object) -> str:
    ctx = context(resolved, prefix, MATCHES, state, **options)
    env = EnvironmentStep().check(ctx, lock_done(resolved))
    done = lock_done(resolved).plus(StepRecord("environment", env, False, 0))
    return VerifyStep().check(ctx, done).status


@pytest.mark.parametrize(
    ("changes", "options", "status"),
    [
        ({}, {"verify": "import"}, "ok"),  # the same question: answered from the record
        (
            {"verification": VerifySummary("smoke", "trained", "2026-11-29T10:00:00Z")},
            {"verify": "import"},
            "ok",
        ),  # a smoke pass covers it
        ({"profile_hash": "sha256:before-an-edit"}, {"verify": "import"}, "change"),
        ({}, {"verify": "smoke"}, "change"),  # an import check proves no training
        ({}, {"verify": "import", "force": True}, "change"),
    ],
)
def test_a_recorded_verification_is_reused_only_for_the_same_question(
    resolved: ResolvedProfile,
    tmp_path: Path,
    changes: dict[str, object],
    options: dict[str, object],
    status: str,
) -> None:
    prefix = venv_prefix(tmp_path)
    state = recorded(context(resolved, prefix, MATCHES))
    state = state.but(**{"profile_hash": resolved.content_hash, **changes})
    assert verify_check(resolved, prefix, state, **options) == status
