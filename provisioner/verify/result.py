"""The verify stage's result: a frozen value, read by apply's steps, the state, the
terminal summary and the report's ``verify`` section (``section.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from provisioner.state import VerifyKind, VerifySummary

if TYPE_CHECKING:
    from provisioner.smoke.result import SmokeResult


@dataclass(frozen=True)
class VerifyResult:
    """What one verification proved (or, ``cached``, what the state recorded that an
    earlier one proved for this lock and environment)."""

    kind: VerifyKind
    passed: bool
    summary: str
    lines: tuple[str, ...] = ()  # the smoke test's summary lines
    smoke: SmokeResult | None = None  # the smoke test's full result
    output: str = ""  # the import check's output when it failed
    duration_s: float | None = None
    cached: bool = False
    recorded: VerifySummary | None = None  # cached: the state's record

    @classmethod
    def cached_from(cls, recorded: VerifySummary) -> VerifyResult:
        """The verification a no-op apply reports: the one the state recorded."""
        summary = recorded.summary or f"verified at {recorded.verified_at} (cached)"
        return cls(recorded.kind, True, summary, cached=True, recorded=recorded)

    def summary_record(self, verified_at: str) -> VerifySummary:
        """What the state keeps of this (passed) verification."""
        if self.recorded is not None:
            return self.recorded
        smoke = self.smoke
        if smoke is None:
            return VerifySummary(self.kind, self.summary, verified_at)
        return VerifySummary(
            self.kind,
            self.summary,
            verified_at,
            framework_version=smoke.framework_version,
            device_used=smoke.device_used,
            device_name=smoke.device_name,
            accelerator_used=smoke.accelerator_used,
            steps_per_s=smoke.steps_per_s,
            cpu_steps_per_s=smoke.cpu_steps_per_s,
            speedup=smoke.speedup,
        )

    def with_duration(self, seconds: float) -> VerifyResult:
        from dataclasses import replace

        return replace(self, duration_s=round(seconds, 3))
