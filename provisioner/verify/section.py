"""The one builder of the report's ``verify`` section (``report.model.Verification``),
for apply, ``provision verify`` and the bundle (through apply)."""

from __future__ import annotations

from provisioner.report.model import SmokeRecord, Verification
from provisioner.verify.result import VerifyResult


def verification(result: VerifyResult) -> Verification:
    """The section for ``result``: a run's smoke record in full; for a cached one, what
    the state recorded that the earlier verification measured (device, speed)."""
    record: SmokeRecord | None = None
    if result.smoke is not None:
        record = SmokeRecord.model_validate(result.smoke.as_json())
    elif result.recorded is not None and result.kind == "smoke":
        r = result.recorded
        record = SmokeRecord(
            verdict="pass",
            framework_version=r.framework_version,
            device_used=r.device_used,
            device_name=r.device_name,
            accelerator_used=r.accelerator_used,
            steps_per_s=r.steps_per_s,
            cpu_steps_per_s=r.cpu_steps_per_s,
            speedup=r.speedup,
        )
    recorded = result.recorded
    return Verification(
        kind=result.kind,
        passed=result.passed,
        summary=result.summary,
        lines=result.lines,
        result=record,
        cached=result.cached,
        verified_at=recorded.verified_at if recorded is not None else None,
        duration_s=result.duration_s,
        output=result.output,
    )
