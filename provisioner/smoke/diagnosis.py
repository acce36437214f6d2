"""Diagnosis: match the smoke test's log against the failure-signature catalogue and
decide the verdict, so a failed run says its cause and its fix.

The verdict combines three things: how the child ended (exit, crash signal, timeout),
the script's own judgement (its JSON result), and the catalogue matches. Benign
matches (WSL's ldconfig and NUMA noise) are labelled and never fail a run.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provisioner.diagnosis import match_log
from provisioner.smoke.result import Finding


@dataclass(frozen=True)
class Verdict:
    """The decision: pass or fail, one reason line, and warnings the log adds."""

    verdict: str
    reason: str
    warnings: tuple[str, ...] = ()


def findings_in(log: str, target: str | None = None) -> tuple[Finding, ...]:
    """Every catalogue signature in the log, in log order, with the fix for ``target``
    (the profile's target.os; None gives the fix that is safe everywhere)."""
    return tuple(
        Finding(
            m.signature.id,
            m.signature.severity,
            m.signature.meaning,
            m.signature.fix_for(target),
            m.line,
            m.excerpt,
        )
        for m in match_log(log)
    )


# How a crashed process exits on Windows (NTSTATUS codes), where there are no signals.
WINDOWS_CRASHES = {
    0xC0000005: "an access violation (0xC0000005)",
    0xC000001D: "an illegal instruction (0xC000001D)",
    0xC00000FD: "a stack overflow (0xC00000FD)",
    0xC0000409: "a fail-fast abort (0xC0000409)",
}


def crash_name(returncode: int | None) -> str | None:
    """``SIGSEGV`` for -11 (POSIX), the NTSTATUS meaning on Windows; None if not a crash."""
    if returncode is None:
        return None
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return WINDOWS_CRASHES.get(returncode & 0xFFFFFFFF)


def _cause(finding: Finding) -> str:
    return f"{finding.meaning} [{finding.id}]"


def decide(
    *,
    script: Mapping[str, Any] | None,
    returncode: int | None,
    timed_out: bool,
    timeout_s: float,
    findings: Sequence[Finding],
) -> Verdict:
    """The verdict of one run.

    - a timeout or a crash (a signal, or a Windows crash status) fails, whatever was
      printed;
    - no JSON result fails;
    - the script's fail stands; a catalogue failure adds its cause to the reason;
    - a passing script fails anyway when it used the accelerator and the log shows a
      catalogue failure (e.g. a DEVICE_HUNG the script did not catch);
    - a passing CPU run (require_accelerator false) stays a pass, and the catalogue
      failures that explain the missing accelerator become warnings.
    """
    fails = [f for f in findings if f.severity == "fail"]
    warns = tuple(f"{f.id}: {f.meaning}" for f in findings if f.severity == "warn")
    because = f" [{fails[0].id}]" if fails else ""
    if timed_out:
        return Verdict("fail", f"timed out after {timeout_s:g} s{because}", warns)
    crash = crash_name(returncode)
    if crash is not None:
        return Verdict("fail", f"crashed with {crash} (exit {returncode}){because}", warns)
    if script is None:
        if fails:
            return Verdict("fail", f"{_cause(fails[0])} (exit {returncode}, no result)", warns)
        return Verdict("fail", f"exited {returncode} without writing a result", warns)
    script_verdict = script.get("verdict")
    script_reason = str(script.get("reason") or "no reason given")
    if script_verdict != "pass":
        return Verdict("fail", f"{script_reason}{because}", warns)
    if returncode not in (0, None):
        return Verdict("fail", f"the result says pass but the script exited {returncode}", warns)
    if fails and script.get("accelerator_used") is True:
        return Verdict("fail", f"trained, but {_cause(fails[0])}", warns)
    explained = tuple(f"{f.id} (no accelerator used): {f.meaning}" for f in fails)
    return Verdict("pass", script_reason, warns + explained)
