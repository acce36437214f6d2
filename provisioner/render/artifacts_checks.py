"""check.sh and check.ps1: the host checks as standalone scripts, rendered from the same
check records and plan that ``provision doctor`` judges (no Python needed to run them)."""

from __future__ import annotations

import base64
from typing import Any

from provisioner.checks.judge import CANNOT_COMPARE
from provisioner.checks.plan import PlannedCheck, plan_checks
from provisioner.host import patterns
from provisioner.host.linux_driver import FILES_SOURCE
from provisioner.host.parse_windows import SOFTWARE_ADAPTERS, WINDOWS_QUERY
from provisioner.render import Artifact, RenderContext
from provisioner.templating import render_template


def script_args(pc: PlannedCheck) -> list[str]:
    """The rule's parameters as the positional arguments both scripts' rules take."""
    p, kind = pc.params, pc.record.rule.kind
    if kind in ("equals", "not_equals"):
        return [str(p["value"])]
    if kind == "one_of":
        return [str(v) for v in p["values"]]
    if kind == "version_at_least":
        return [str(p["minimum"])]
    if kind == "contains_all":
        return [str(v) for v in p["items"]]
    if kind == "version_prefix":
        return [str(p["version"])]
    if kind == "adapter_vendor":
        return [str(v) for v in p["vendors"]]
    if kind == "adapter_driver":
        return [f"{vendor}={floor}" for vendor, floor in p["floors"].items()]
    return []


# Makes powershell.exe print UTF-8 to a pipe, whatever the console's code page.
UTF8_OUTPUT = "[Console]::OutputEncoding=[Text.Encoding]::UTF8;"


def encoded_command(script: str) -> str:
    """``script`` as ``powershell.exe -EncodedCommand`` takes it: base64 of UTF-16LE
    (``powershell.exe -?``). Base64 has no space or quote for any caller to mangle."""
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def fact_var(fact: str) -> str:
    """Shell variable suffix of a fact: ``nvidia.driver-model`` -> ``nvidia_driver_model``"""
    return fact.replace(".", "_").replace("-", "_")


def script_context(ctx: RenderContext) -> dict[str, Any]:
    checks = []
    for pc in plan_checks(ctx.resolved):
        rec = pc.record
        if not rec.in_scripts:
            continue  # doctor-only (records.DOCTOR_ONLY_KINDS)
        checks.append(
            {
                "id": rec.id,
                "title": rec.title,
                "severity": rec.severity,
                "label": rec.label,
                "fix": rec.fix,
                "fact_var": fact_var(rec.rule.fact),
                "needs": " ".join(rec.needs),
                "kind": rec.rule.kind,
                "args": script_args(pc) if pc.applicable else [],
                "applicable": pc.applicable,
                "skip_reason": pc.skip_reason,
                "unknown_fix": rec.unknown_fix,
                "fixes": rec.fixes,
            }
        )
    return {
        "profile_name": ctx.resolved.name,
        "tool_version": ctx.tool_version,
        "checks": checks,
        "windows_query": WINDOWS_QUERY,
        "windows_query_encoded": encoded_command(UTF8_OUTPUT + WINDOWS_QUERY),
        "software_adapters": SOFTWARE_ADAPTERS,
        "cannot_compare": CANNOT_COMPARE,
        "patterns": shared_patterns(),
        "windows_only": patterns.WINDOWS_ONLY,
        "windows_exes": patterns.WINDOWS_EXES,
    }


def shared_patterns() -> dict[str, str | tuple[str, ...]]:
    """The upper-case text and tuple constants of :mod:`provisioner.host.patterns`: what
    both scripts read the host with, injected so they cannot drift from doctor's."""
    found: dict[str, str | tuple[str, ...]] = {"FILES_SOURCE": FILES_SOURCE}
    for name in dir(patterns):
        value = getattr(patterns, name)
        if name.isupper() and not name.startswith("_") and isinstance(value, (str, tuple)):
            found[name] = value
    return found


def render_check_sh(ctx: RenderContext) -> str:
    return render_template("check.sh.j2", **script_context(ctx))


def render_check_ps1(ctx: RenderContext) -> str:
    # Windows PowerShell 5.1 reads a BOM-less script as the ANSI code page; keep it ASCII
    # by construction (the template is ASCII, profile values are quoted literals).
    return render_template("check.ps1.j2", **script_context(ctx))


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact("check.sh", render_check_sh, executable=True),
    Artifact("check.ps1", render_check_ps1),
)
