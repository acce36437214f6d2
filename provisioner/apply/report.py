"""The report of one plan/apply run, built once from the finished :class:`Run` as a
typed :class:`~provisioner.report.model.Report` (schema in docs/report.md) and read by
the terminal summary, ``--json``, the report file and JUnit.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provisioner import __version__
from provisioner.apply.run import Run
from provisioner.apply.steps import diff_json
from provisioner.paths import reports_dir
from provisioner.profile import ResolvedProfile
from provisioner.report.model import (
    Checks,
    EnvironmentInfo,
    LockInfo,
    Package,
    ProfileInfo,
    Report,
    Result,
    StepEntry,
    Verification,
    host_info,
)
from provisioner.report.store import write_report
from provisioner.smoke.result import SmokeResult

__all__ = ["build_report", "iso", "profile_info", "verify_report", "write_report"]


def build_report(run: Run, *, mode: str, exit_code: int, host_name: str | None = None) -> Report:
    """The report of one plan/apply run."""
    finished = time.time()
    state = run.state
    fresh = state is not None and run.lock_fresh and state.lock_sha256 == run.lock_sha256
    env_changed = any(r.name == "environment" and r.outcome.status == "change" for r in run.records)
    return Report.model_validate(
        {
            "tool": f"provision {__version__}",
            "mode": mode,
            "result": _result(run, mode),
            "exit_code": exit_code,
            "started_at": iso(run.started),
            "finished_at": iso(finished),
            "duration_s": round(finished - run.started, 3),
            "profile": profile_info(run.resolved),
            "host": host_info(host_name, run.platform),
            "checks": Checks.model_validate(run.diagnosis.as_json()) if run.diagnosis else None,
            "lock": LockInfo(
                path=str(run.lock_path) if run.lock_path else None,
                sha256=run.lock_sha256 or None,
                fresh=run.lock_fresh,
            ),
            "environment": EnvironmentInfo(
                name=run.env,
                prefix=str(run.prefix),
                action=run.env_action if env_changed else "none",
                diff=diff_json(run.diff) if run.diff is not None else None,
            ),
            "packages": [Package.model_validate(p) for p in (state.packages if fresh else [])]
            if state is not None
            else [],
            "verify": _verification(run),
            "steps": [
                StepEntry(
                    name=r.name,
                    status=r.outcome.status,
                    changed=r.changed,
                    reason=r.outcome.reason,
                    duration_s=round(r.duration_s, 3),
                )
                for r in run.records
            ],
        }
    )


def _result(run: Run, mode: str) -> Result:
    statuses = [r.outcome.status for r in run.records]
    if "fail" in statuses:
        return "failed" if run.records[-1].name != "checks" else "not-ready"
    if mode != "apply":
        return "planned"
    return "changed" if any(r.changed for r in run.records) else "converged"


def profile_info(resolved: ResolvedProfile) -> ProfileInfo:
    p = resolved.profile
    return ProfileInfo(
        name=p.name,
        path=str(resolved.path),
        content_hash=resolved.content_hash,
        target=p.target.os.value,
        manager=p.environment.manager.value,
        python=p.environment.python,
        framework=p.smoke_test.framework.value,
        device=p.smoke_test.device.value,
    )


def _verification(run: Run) -> Verification | None:
    """The verify step's result. A verification cached in the state carries what the
    previous report of this environment proved (device, speed) when it was for this lock."""
    if not run.verify:
        return None
    data: dict[str, Any] = dict(run.verify)
    if data.get("cached"):
        earlier = _earlier_verification(run)
        data = {**earlier, **data} if earlier else data
        data.setdefault("summary", f"verified at {data.get('verified_at', '?')} (cached)")
        if run.state is not None and run.state.verify_kind:
            data.setdefault("kind", run.state.verify_kind)
    return Verification.model_validate(data)


def _earlier_verification(run: Run) -> dict[str, Any] | None:
    from provisioner.report.model import InvalidReport, parse_report

    path = reports_dir() / f"{run.env}.json"
    try:
        earlier = parse_report(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, InvalidReport):
        return None
    lock = earlier.lock
    if earlier.verify is None or not earlier.verify.passed or lock is None:
        return None
    if lock.sha256 != run.lock_sha256:
        return None
    return earlier.verify.model_dump(mode="json", exclude={"cached", "duration_s"})


def verify_report(
    resolved: ResolvedProfile,
    result: SmokeResult,
    *,
    prefix: Path,
    started: float,
    host_name: str | None = None,
) -> Report:
    """The report of ``provision verify``: one ``verify`` step, the smoke test's record."""
    from provisioner.platforms import host_subdir

    finished = time.time()
    summary = result.summary_lines()[0]
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
        verify=Verification.model_validate(
            {
                "kind": "smoke",
                "passed": result.passed,
                "summary": summary,
                "lines": result.summary_lines(),
                "result": result.as_json(),
                "duration_s": round(result.duration_s, 3),
            }
        ),
        steps=(
            StepEntry(
                name="verify",
                status="ok" if result.passed else "fail",
                reason=summary,
                duration_s=round(finished - started, 3),
            ),
        ),
    )


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
