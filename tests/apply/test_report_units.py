"""The apply report is built once from the steps' findings (docs/report.md): its
result word from the step statuses, the packages only for the lock they were installed
from, and a cached verification that carries what the state recorded of the earlier
one, never what an old report file says (reports are outputs only). Findings are made
here, as the steps return them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.apply.report import build_report
from provisioner.apply.run import (
    Context,
    EnvFinding,
    Findings,
    LockFinding,
    LockRef,
    Options,
    Outcome,
    Status,
    StepRecord,
    VerifyFinding,
)
from provisioner.paths import reports_dir
from provisioner.profile import default_profile_path, load_profile
from provisioner.report.model import Report, parse_report
from provisioner.report.store import write_report
from provisioner.state import PackageRecord, State, VerifySummary
from provisioner.verify.result import VerifyResult

SHA = "a" * 64


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    resolved = load_profile(default_profile_path())
    return Context(resolved, Options(), "linux-64", tmp_path / "env", None, 0.0)


def record(name: str, status: Status, changed: bool = False) -> StepRecord:
    return StepRecord(name, Outcome(status, f"{name} {status}"), changed, 0.25)


def findings(*records: StepRecord) -> Findings:
    done = Findings()
    for r in records:
        done = done.plus(r)
    return done


@pytest.mark.parametrize(
    ("records", "mode", "result"),
    [
        ([("checks", "ok", False), ("environment", "ok", False)], "apply", "converged"),
        ([("checks", "ok", False), ("environment", "change", True)], "apply", "changed"),
        ([("checks", "fail", False)], "apply", "not-ready"),
        ([("checks", "ok", False), ("environment", "fail", False)], "apply", "failed"),
        ([("checks", "ok", False), ("verify", "fail", False)], "apply", "failed"),
        ([("checks", "ok", False), ("environment", "change", False)], "plan", "planned"),
        ([("checks", "ok", False), ("environment", "change", False)], "dry-run", "planned"),
        ([("checks", "fail", False)], "plan", "not-ready"),
    ],
)
def test_the_result_word_follows_the_steps(
    ctx: Context, records: list[tuple[str, Status, bool]], mode: str, result: str
) -> None:
    done = findings(*(record(*r) for r in records))
    report = build_report(ctx, done, mode=mode, exit_code=0)
    assert report.result == result
    assert [(s.name, s.status, s.changed) for s in report.steps] == records
    assert all(s.duration_s == 0.25 for s in report.steps)


def lock_step(ctx: Context, sha: str = SHA, fresh: bool = True) -> StepRecord:
    path = ctx.resolved.path.with_suffix(".conda-lock.yml")
    finding = LockFinding("ok", "fresh lock", {}, LockRef(path, sha), fresh)
    return StepRecord("lock", finding, False, 0.1)


def env_step(state: State) -> StepRecord:
    return StepRecord("environment", EnvFinding("ok", "matches", state=state), False, 0.1)


PACKAGES = (PackageRecord("pip", "six", "1.17.0", "", "file:///w/six.whl", "0" * 64),)


@pytest.mark.parametrize(("state_sha", "shown"), [(SHA, PACKAGES), ("b" * 64, ())])
def test_packages_are_reported_only_for_the_lock_they_came_from(
    ctx: Context, state_sha: str, shown: tuple[PackageRecord, ...]
) -> None:
    state = State("cpu", str(ctx.prefix), "venv", "linux-64", "built", lock_sha256=state_sha)
    state = state.but(packages=PACKAGES)
    report = build_report(ctx, findings(lock_step(ctx), env_step(state)), mode="apply", exit_code=0)
    assert report.packages == shown
    assert parse_report(json.loads(report.to_json())).packages == shown  # the file keeps them
    assert report.lock is not None and (report.lock.sha256, report.lock.fresh) == (SHA, True)


def earlier_report(ctx: Context, lock_sha: str) -> None:
    """A report an earlier run wrote for this environment, claiming more than the state."""
    smoke = {"verdict": "pass", "device_used": "cuda:7", "steps_per_s": 1e9, "speedup": 99.0}
    data = {
        "schema": "provision-report/2",
        "schema_version": 2,
        "tool": "provision 0.1.0",
        "mode": "apply",
        "result": "changed",
        "exit_code": 0,
        "started_at": "2026-11-29T09:00:00Z",
        "finished_at": "2026-11-29T09:01:00Z",
        "duration_s": 60.0,
        "profile": {"name": ctx.resolved.name},
        "host": {"name": "lab-01", "hostname": "lab-01"},
        "lock": {"path": "x", "sha256": lock_sha, "fresh": True},
        "environment": {"name": ctx.env},
        "verify": {"kind": "smoke", "passed": True, "summary": "edited", "result": smoke},
    }
    write_report(parse_report(data), keep=0)


TRAINED = VerifySummary(
    "smoke",
    "smoke test cpu: PASS: trained",
    "2026-11-29T09:01:00Z",
    framework_version="2.13.0+cpu",
    device_used="cuda:0",
    device_name="NVIDIA RTX A4000",
    accelerator_used=True,
    steps_per_s=812.4,
    cpu_steps_per_s=82.9,
    speedup=9.8,
)


def cached_verify(ctx: Context, recorded: VerifySummary = TRAINED) -> Report:
    state = State(ctx.env, str(ctx.prefix), "venv", "linux-64", "verified", lock_sha256=SHA)
    state = state.but(verification=recorded)
    result = VerifyResult.cached_from(recorded)
    verify = StepRecord("verify", VerifyFinding("ok", "cached", result=result), False, 0.0)
    done = findings(lock_step(ctx), env_step(state), verify)
    return build_report(ctx, done, mode="apply", exit_code=0)


def test_a_cached_verification_carries_what_the_state_recorded(ctx: Context) -> None:
    report = cached_verify(ctx)
    verify = report.verify
    assert verify is not None and verify.cached and verify.passed and report.verified
    assert verify.summary == "smoke test cpu: PASS: trained"
    assert verify.verified_at == "2026-11-29T09:01:00Z" and verify.kind == "smoke"
    assert verify.result is not None and verify.result.verdict == "pass"
    assert (verify.result.device_used, verify.result.device_name) == ("cuda:0", "NVIDIA RTX A4000")
    assert (verify.result.steps_per_s, verify.result.speedup) == (812.4, 9.8)
    assert verify.result.accelerator_used


@pytest.mark.parametrize("earlier", ["same-lock", "other-lock", "damaged"])
def test_a_cached_verification_never_reads_an_old_report(ctx: Context, earlier: str) -> None:
    """Reports are outputs only: whatever the last report file says (edited, for
    another lock, cut short), the no-op reports the state's record."""
    if earlier == "damaged":  # cut short by a full disk
        target = reports_dir() / f"{ctx.env}.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps({"schema": "provision-report/2", "verify": {}})[:-5])
    else:
        earlier_report(ctx, SHA if earlier == "same-lock" else "b" * 64)
    verify = cached_verify(ctx).verify
    assert verify is not None and verify.result is not None
    assert verify.summary == TRAINED.summary and verify.result.device_used == "cuda:0"


def test_a_cached_import_check_claims_no_training(ctx: Context) -> None:
    recorded = VerifySummary("import", "import torch ok (2.13.0)", "2026-11-29T09:01:00Z")
    verify = cached_verify(ctx, recorded).verify
    assert verify is not None and verify.cached and verify.passed
    assert verify.kind == "import" and verify.summary == "import torch ok (2.13.0)"
    assert verify.result is None  # no device, no speed: none was measured


def test_a_plan_reports_no_verification_and_no_action(ctx: Context) -> None:
    env = EnvFinding("change", "would create", action="create")
    done = findings(
        record("checks", "ok"),
        lock_step(ctx),
        StepRecord("environment", env, False, 0.1),
    )
    report = build_report(ctx, done, mode="plan", exit_code=0)
    assert report.verify is None and not report.verified
    assert report.environment.action == "create"  # what the plan would do
    assert report.result == "planned"
    assert report.environment.prefix == str(ctx.prefix)
