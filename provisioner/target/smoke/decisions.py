"""Pure decisions: read the logs, choose the device, judge placement, training, speed.

Unit-tested directly, on the module and on the rendered script."""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Sequence, Tuple

from provisioner.target.smoke.profile import ACCELERATOR_LABEL, VISIBLE_DEVICES_VAR
from provisioner.target.smoke.workload import (
    COMPUTE_OPS,
    DML_ADAPTER_RE,
    DML_FOUND_RE,
    INTEGRATED_GPU_RE,
    PLACEMENT_RE,
)

# A device as the framework paths list it: index, name, kind ("dml"/"cuda") and id.
Device = Dict[str, Any]
# One placement line: (op name, op type, device type, device index).
Placement = Tuple[str, str, str, int]


def parse_dml_log(text: str) -> dict[str, Any]:
    """DirectML's enumeration lines: how many adapters it found and their names."""
    found = None
    for m in DML_FOUND_RE.finditer(text):
        found = int(m.group(1))
    adapters = []
    seen = set()
    for m in DML_ADAPTER_RE.finditer(text):
        index = int(m.group(1))
        if index not in seen:
            seen.add(index)
            adapters.append({"index": index, "name": m.group(2).strip(), "kind": "dml"})
    return {"found": found, "adapters": adapters}


def parse_placement_log(text: str) -> list[Placement]:
    """(op name, op type, device type, device index) for every placement line."""
    placed = []
    for m in PLACEMENT_RE.finditer(text):
        if m.group(1):
            placed.append((m.group(1), m.group(2), m.group(3), int(m.group(4))))
        else:
            placed.append((m.group(5), m.group(5), m.group(6), int(m.group(7))))
    return placed


def looks_integrated(name: str | None) -> bool:
    return bool(INTEGRATED_GPU_RE.search(name or ""))


def choose_device(
    requested: str, devices: Sequence[Device], environ: Mapping[str, str]
) -> tuple[Device | None, list[str]]:
    """Pick the device to train on and say why.

    Rule: the framework's device 0 among the visible devices of the requested kind,
    because that is what user code gets by default; the visibility variable
    (DML_VISIBLE_DEVICES / CUDA_VISIBLE_DEVICES) is how to choose another. Several
    visible devices is a warning naming them and the variable.
    Returns (chosen device dict or None, [warnings]).
    """
    if requested == "cpu" or not devices:
        return None, []
    chosen = sorted(devices, key=lambda d: d["index"])[0]
    warnings = []
    if len(devices) > 1:
        var = VISIBLE_DEVICES_VAR.get(requested, "the visible-devices variable")
        listing = ", ".join("%d %s" % (d["index"], d["name"]) for d in devices)
        text = "%d %s devices visible (%s); training on device %d (%s), the framework default." % (
            len(devices),
            ACCELERATOR_LABEL.get(requested, requested),
            listing,
            chosen["index"],
            chosen["name"],
        )
        others = [d for d in devices if d is not chosen and not looks_integrated(d["name"])]
        if looks_integrated(chosen["name"]) and others:
            text += " Device %d looks like an integrated GPU; %s is likely the faster one." % (
                chosen["index"],
                others[0]["name"],
            )
            pick = others[0]["index"]
        else:
            pick = next(d for d in devices if d is not chosen)["index"]
        text += " To choose, set %s=<index> (e.g. %s=%d) before starting Python." % (
            var,
            var,
            pick,
        )
        if environ.get(var) is not None:
            text += " %s is set to %r." % (var, environ.get(var))
        warnings.append(text)
    return chosen, warnings


def judge_placement(
    accelerator_kind: str | None, placed: Sequence[Placement], fallback_ops: Sequence[str]
) -> tuple[str, str, list[str]]:
    """Did the training ops run on the chosen device? Returns (status, detail, cpu_ops)."""
    if accelerator_kind is None:
        return "pass", "CPU run: no accelerator placement to prove", []
    if fallback_ops:
        return (
            "warn",
            "ops fell back to the CPU: %s; training is partly on the CPU" % ", ".join(fallback_ops),
            list(fallback_ops),
        )
    if not placed:
        return "pass", "tensors checked on the device", []
    cpu_compute = [name for name, kind, dev, _ in placed if dev == "CPU" and kind in COMPUTE_OPS]
    cpu_other = [name for name, kind, dev, _ in placed if dev == "CPU" and kind not in COMPUTE_OPS]
    on_device = [name for name, kind, dev, _ in placed if dev != "CPU"]
    if cpu_compute:
        return (
            "fail",
            "training ops ran on CPU:0, not the accelerator: %s" % ", ".join(cpu_compute[:8]),
            cpu_compute,
        )
    if not on_device:
        return "fail", "no op was placed on the accelerator", []
    detail = "%d ops on %s" % (len(on_device), _device_of(placed))
    if cpu_other:
        detail += "; %d helper ops on CPU:0 (%s)" % (len(cpu_other), ", ".join(cpu_other[:5]))
    return "pass", detail, []


def _device_of(placed: Sequence[Placement]) -> str:
    for _name, _kind, dev, index in placed:
        if dev != "CPU":
            return "%s:%d" % (dev, index)
    return "CPU:0"


def judge_training(
    loss_first: float | None,
    loss_last: float | None,
    min_drop: float,
    expected_first: float | None = None,
) -> tuple[str, str, float | None]:
    """Loss must be finite and fall by min_drop; the first loss must match the known answer."""
    if loss_first is None or loss_last is None:
        return "fail", "no loss was recorded", None
    if not (_finite(loss_first) and _finite(loss_last)):
        return (
            "fail",
            "loss is not finite (%r -> %r): training diverged" % (loss_first, loss_last),
            None,
        )
    if expected_first is not None and abs(loss_first - expected_first) > 1e-3 * max(
        1.0, expected_first
    ):
        return (
            "fail",
            "wrong numbers: first loss %.6g, the known answer is %.6g"
            % (loss_first, expected_first),
            None,
        )
    drop = loss_first / loss_last if loss_last > 0 else float("inf")
    if drop < min_drop:
        return (
            "fail",
            "loss fell only %.3gx (%.4g -> %.4g); needs %.3gx"
            % (drop, loss_first, loss_last, min_drop),
            drop,
        )
    detail = "loss %.4g -> %.4g (%.3gx, needs %.3gx)" % (loss_first, loss_last, drop, min_drop)
    return "pass", detail, drop


def judge_speed(
    device_label: str | None, steps_per_s: float, cpu_steps_per_s: float | None
) -> tuple[str, str, float | None, list[str]]:
    """Speed-up of the accelerator over the CPU; no faster is a warning with the numbers."""
    if device_label is None:
        return "pass", "CPU run: %.1f steps/s (no accelerator used)" % steps_per_s, None, []
    if cpu_steps_per_s is None:
        detail = "%s: %.1f steps/s (CPU baseline skipped)" % (device_label, steps_per_s)
        return "pass", detail, None, []
    speedup = steps_per_s / cpu_steps_per_s if cpu_steps_per_s > 0 else None
    detail = "%s %.1f steps/s vs CPU %.1f steps/s" % (device_label, steps_per_s, cpu_steps_per_s)
    if speedup is not None:
        detail += " (%.2fx)" % speedup
    if speedup is None or speedup <= 1.0:
        warning = "the accelerator %s is no faster than the CPU: %.1f vs %.1f steps/s" % (
            device_label,
            steps_per_s,
            cpu_steps_per_s,
        )
        return "warn", detail, speedup, [warning]
    return "pass", detail, speedup, []


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not math.isnan(x) and not math.isinf(x)


def clean_number(x: Any) -> Any:
    """A JSON-safe number: NaN and infinity become None."""
    if isinstance(x, float) and not _finite(x):
        return None
    return x
