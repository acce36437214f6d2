"""The report of one plan/apply run, built once from the steps' findings as a
typed :class:`~provisioner.report.model.Report` (schema in docs/report.md) and read by
the terminal summary, ``--json``, the report file and JUnit.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from provisioner import __version__
from provisioner.apply.envdiff import diff_json
from provisioner.apply.run import Context, Findings
from provisioner.platforms import host_subdir
from provisioner.profile import ResolvedProfile
from provisioner.report.model import (
    Checks,
    EnvironmentInfo,
    LockInfo,
    ProfileInfo,
    Report,
    Result,
    StepEntry,
    Verification,
    host_info,
    run_ids,
)
from provisioner.report.store import write_report
from provisioner.verify.result import VerifyResult
from provisioner.verify.section import verification

__all__ = ["build_report", "iso", "profile_info", "verify_report", "write_report"]


def build_report(
    ctx: Context,
    done: Findings,
    *,
    mode: str,
    exit_code: int,
    host_name: str | None = None,
    run_id: str | None = None,
    bundle_id: str | None = None,
) -> Report:
    """The report of one plan/apply run, from the steps' findings."""
    finished = time.time()
    state = done.state(ctx)
    lock, env, checks = done.lock, done.environment, done.checks
    ref = lock.locked if lock is not None else None
    sha = ref.sha256 if ref is not None else ""
    fresh = lock is not None and lock.fresh
    packages = state.packages if state is not None and ref and state.lock_sha256 == sha else []
    env_changed = env is not None and env.status == "change"
    diagnosis = checks.diagnosis if checks is not None else None
    return Report.model_validate(
        {
            "tool": f"provision {__version__}",
            "mode": mode,
            "result": _result(done, mode),
            "exit_code": exit_code,
            "started_at": iso(ctx.started),
            "finished_at": iso(finished),
            "duration_s": round(finished - ctx.started, 3),
            "profile": profile_info(ctx.resolved),
            "host": host_info(host_name, ctx.platform),
            **run_ids(run_id, bundle_id),
            "checks": Checks.model_validate(diagnosis.as_json()) if diagnosis else None,
            "lock": LockInfo(path=str(ref.path) if ref else None, sha256=sha or None, fresh=fresh),
            "environment": EnvironmentInfo(
                name=ctx.env,
                prefix=str(ctx.prefix),
                action=env.action if env is not None and env_changed else "none",
                diff=diff_json(env.diff) if env is not None and env.diff is not None else None,
                repair=env.details.get("repair", []) if env is not None and env_changed else [],
            ),
            "packages": packages,
            "verify": _verification(done),
            "steps": [
                StepEntry(
                    name=r.name,
                    status=r.outcome.status,
                    changed=r.changed,
                    reason=r.outcome.reason,
                    duration_s=round(r.duration_s, 3),
                )
                for r in done.records
            ],
        }
    )


def _result(done: Findings, mode: str) -> Result:
    statuses = [r.outcome.status for r in done.records]
    if "fail" in statuses:
        return "failed" if done.records[-1].name != "checks" else "not-ready"
    if mode != "apply":
        return "planned"
    return "changed" if any(r.changed for r in done.records) else "converged"


def profile_info(resolved: ResolvedProfile) -> ProfileInfo:
    return ProfileInfo.of(resolved)


def _verification(done: Findings) -> Verification | None:
    """The verify step's result: a run's, or the one the state recorded (a no-op)."""
    found = done.verify
    if found is None or found.result is None:
        return None
    return verification(found.result)


def verify_report(
    resolved: ResolvedProfile,
    result: VerifyResult,
    *,
    prefix: Path,
    started: float,
    host_name: str | None = None,
) -> Report:
    """The report of ``provision verify``: one ``verify`` step, the verify stage's result."""
    finished = time.time()
    return Report(
        tool=f"provision {__version__}",
        mode="verify",
        result="verified" if result.passed else "failed",
        exit_code=0 if result.passed else 1,
        started_at=iso(started),
        finished_at=iso(finished),
        duration_s=round(finished - started, 3),
        profile=profile_info(resolved),
        host=host_info(host_name, host_subdir()),
        environment=EnvironmentInfo(name=resolved.profile.environment.name, prefix=str(prefix)),
        **run_ids(),
        verify=verification(result),
        steps=(
            StepEntry(
                name="verify",
                status="ok" if result.passed else "fail",
                reason=result.summary,
                duration_s=round(finished - started, 3),
            ),
        ),
    )


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
