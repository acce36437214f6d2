"""The smoke-test result: a frozen value whose JSON a fleet report can aggregate.

Schema: docs/smoke-test.md ("Result schema"). Every field is a scalar, a list of
scalars or a list of flat records, so results from many machines stack into a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.frameworks import FRAMEWORKS, Device, Framework, selection_rule

SCHEMA = "provision.smoke-result/1"
STAGES = ("import", "device", "placement", "training", "speed")


@dataclass(frozen=True)
class Finding:
    """A catalogue signature seen in the smoke test's log: cause and fix."""

    id: str
    severity: str  # fail | warn | benign
    meaning: str
    fix: str
    line: int
    excerpt: str

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "severity": self.severity,
            "meaning": self.meaning,
            "fix": self.fix,
            "line": self.line,
            "excerpt": self.excerpt,
        }


@dataclass(frozen=True)
class Stage:
    """One judged stage of the smoke test (import, device, placement, training, speed)."""

    name: str
    status: str  # pass | warn | fail | skip
    detail: str
    duration_s: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "duration_s": self.duration_s,
        }


@dataclass(frozen=True)
class Adapter:
    """An accelerator the framework saw."""

    index: int
    name: str
    kind: str

    def as_json(self) -> dict[str, object]:
        return {"index": self.index, "name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class SmokeResult:
    """What one smoke-test run proved. ``passed`` is the verdict; ``as_json`` the record."""

    profile: str
    framework: str
    verdict: str  # pass | fail
    reason: str
    duration_s: float
    device_requested: str
    require_accelerator: bool
    framework_version: str | None = None
    python: str | None = None
    device_used: str | None = None
    device_name: str | None = None
    accelerator_used: bool = False
    adapters: tuple[Adapter, ...] = ()
    libraries: tuple[tuple[str, str], ...] = ()
    steps: int | None = None
    loss_first: float | None = None
    loss_last: float | None = None
    loss_drop: float | None = None
    steps_per_s: float | None = None
    cpu_steps_per_s: float | None = None
    speedup: float | None = None
    time_to_first_step_s: float | None = None
    warnings: tuple[str, ...] = ()
    diagnosis: tuple[Finding, ...] = ()
    stages: tuple[Stage, ...] = ()
    returncode: int | None = None
    timed_out: bool = False
    log_tail: str = ""
    log: str = field(default="", repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def as_json(self) -> dict[str, Any]:
        """The documented record (schema ``provision.smoke-result/1``)."""
        return {
            "schema": SCHEMA,
            "profile": self.profile,
            "framework": self.framework,
            "framework_version": self.framework_version,
            "python": self.python,
            "libraries": dict(self.libraries),
            "device_requested": self.device_requested,
            "device_used": self.device_used,
            "device_name": self.device_name,
            "accelerator_used": self.accelerator_used,
            "require_accelerator": self.require_accelerator,
            "adapters": [a.as_json() for a in self.adapters],
            "steps": self.steps,
            "loss_first": self.loss_first,
            "loss_last": self.loss_last,
            "loss_drop": self.loss_drop,
            "steps_per_s": self.steps_per_s,
            "cpu_steps_per_s": self.cpu_steps_per_s,
            "speedup": self.speedup,
            "time_to_first_step_s": self.time_to_first_step_s,
            "warnings": list(self.warnings),
            "diagnosis": [f.as_json() for f in self.diagnosis],
            "stages": [s.as_json() for s in self.stages],
            "verdict": self.verdict,
            "reason": self.reason,
            "returncode": self.returncode,
            "timed_out": self.timed_out,
            "duration_s": self.duration_s,
            "log_tail": self.log_tail,
        }

    def summary_lines(self) -> list[str]:
        """A short human summary: verdict, device, steps and loss, speed, warnings, causes."""
        lines = [f"smoke test {self.profile}: {self.verdict.upper()}: {self.reason}"]
        if self.framework_version:
            py = f" on Python {self.python}" if self.python else ""
            lines.append(f"  framework   {self.framework} {self.framework_version}{py}")
        if self.device_used:
            used = "accelerator" if self.accelerator_used else "no accelerator used"
            name = f" ({self.device_name})" if self.device_name else ""
            lines.append(
                f"  device      {self.device_used}{name}, requested {self.device_requested}, {used}"
            )
        elif (device := self.stage("device")) is not None and device.status == "fail":
            lines.append(f"  device      requested {self.device_requested}: {device.detail}")
        if self.loss_first is not None and self.loss_last is not None:
            drop = f" ({self.loss_drop:.3g}x lower)" if self.loss_drop else ""
            lines.append(
                f"  training    {self.steps} steps, loss {self.loss_first:.4g} -> "
                f"{self.loss_last:.4g}{drop}"
            )
        if self.steps_per_s is not None:
            lines.append(f"  speed       {self._speed_text()}")
        lines.extend(self._notes())
        for text in self.warnings:
            lines.append(f"  warning     {text}")
        for f in self.diagnosis:
            if f.severity == "benign":
                lines.append(f"  benign      {f.id} (line {f.line}): {f.meaning}")
            else:
                lines.append(f"  {f.severity:<11} {f.id} (line {f.line}): {f.meaning}")
                lines.append(f"  {'fix':<11} {f.fix}")
        if not self.passed and self.log_tail:
            lines.append("  log tail:")
            lines.extend(f"    {line}" for line in self.log_tail.splitlines()[-15:])
        return lines

    def _notes(self) -> list[str]:
        """The framework's known trap when no accelerator was used, and the selection
        rule when several devices were visible (from the framework table)."""
        try:
            notes = FRAMEWORKS[Framework(self.framework)]
            device = Device(self.device_requested)
        except (KeyError, ValueError):
            return []
        lines: list[str] = []
        if self.framework_version and not self.accelerator_used and device is not Device.cpu:
            lines.append(f"  note        {self.framework}: {notes.caveat}")
        if len(self.adapters) > 1:
            lines.append(f"  selection   {selection_rule(device)}")
        return lines

    def _speed_text(self) -> str:
        text = f"{self.steps_per_s:.1f} steps/s on {self.device_used}"
        if self.accelerator_used and self.cpu_steps_per_s is not None:
            text += f" vs {self.cpu_steps_per_s:.1f} steps/s on the CPU"
            if self.speedup is not None:
                text += f" ({self.speedup:.2f}x)"
        if self.time_to_first_step_s is not None:
            text += f"; first step after {self.time_to_first_step_s:.2f} s"
        return text


def _opt_float(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def fields_from_script(data: Mapping[str, Any]) -> dict[str, Any]:
    """The SmokeResult fields found in the script's JSON, checked by type (it may be
    from another tool version, or a stand-in's)."""
    adapters = tuple(
        Adapter(int(a.get("index", 0)), str(a.get("name", "")), str(a.get("kind", "")))
        for a in data.get("adapters") or ()
        if isinstance(a, Mapping)
    )
    stages = tuple(
        Stage(
            str(s.get("name", "")),
            str(s.get("status", "")),
            str(s.get("detail", "")),
            float(s.get("duration_s") or 0.0),
        )
        for s in data.get("stages") or ()
        if isinstance(s, Mapping)
    )
    libraries = data.get("libraries")
    steps = data.get("steps")
    return {
        "framework_version": _opt_str(data, "framework_version"),
        "python": _opt_str(data, "python"),
        "device_used": _opt_str(data, "device_used"),
        "device_name": _opt_str(data, "device_name"),
        "accelerator_used": data.get("accelerator_used") is True,
        "adapters": adapters,
        "libraries": tuple(sorted((str(k), str(v)) for k, v in libraries.items()))
        if isinstance(libraries, Mapping)
        else (),
        "steps": steps if isinstance(steps, int) and not isinstance(steps, bool) else None,
        "loss_first": _opt_float(data, "loss_first"),
        "loss_last": _opt_float(data, "loss_last"),
        "loss_drop": _opt_float(data, "loss_drop"),
        "steps_per_s": _opt_float(data, "steps_per_s"),
        "cpu_steps_per_s": _opt_float(data, "cpu_steps_per_s"),
        "speedup": _opt_float(data, "speedup"),
        "time_to_first_step_s": _opt_float(data, "time_to_first_step_s"),
        "stages": stages,
    }
