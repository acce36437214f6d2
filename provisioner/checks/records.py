"""The check records of ``data/checks.yaml``, validated once and frozen.

A record says which targets it applies to and how it is judged, using one of a small
set of rule kinds. The same kinds are implemented in Python (:mod:`judge`), bash
(``check.sh``) and PowerShell (``check.ps1``), so one record feeds all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from provisioner import yamlfast

CHECKS_DATA = Path(__file__).resolve().parent.parent / "data" / "checks.yaml"

SEVERITIES = ("fail", "warn")
UNKNOWN_FIX = "Not observed ({reason}); resolve that, then run the checks again."
SETTLE_FIX = "Not observed ({reason}); what would settle it: {settle}"
RULE_KINDS = (
    "equals",  # fact == value
    "not_equals",  # fact != value (an unset fact passes)
    "one_of",  # fact in values
    "version_at_least",  # dotted fact >= minimum, compared number by number
    "present",  # fact is non-empty
    "absent",  # list fact is empty
    "contains_all",  # list fact holds every item
    "version_prefix",  # some version in the list fact starts with version's parts
    "adapter_vendor",  # some adapter's vendor is in vendors
    "adapter_driver",  # some supported adapter's driver >= its vendor floor
    "kernels_for",  # every GPU's compute capability finds a kernel in the build (doctor only)
)
# Rule kinds only doctor judges: they read the compatibility data (which kernels the
# profile's torch build carries), which the standalone scripts do not bundle.
DOCTOR_ONLY_KINDS = ("kernels_for",)


@dataclass(frozen=True)
class Rule:
    kind: str
    fact: str
    params: tuple[tuple[str, Any], ...]  # raw: values may be {"profile": "dotted.path"}


@dataclass(frozen=True)
class Applies:
    targets: tuple[str, ...] = ()
    apis: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    profile_sets: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckRecord:
    """One check: stable id, what it is, when it applies, how it is judged and the fix."""

    id: str
    title: str
    label: str
    applies: Applies
    needs: tuple[str, ...]
    rule: Rule
    severity: str
    fix: str
    # A fix for a particular observed value, chosen over ``fix`` (e.g. why interop is off).
    fixes: tuple[tuple[str, str], ...] = ()
    # What an unknown says; "{reason}" is replaced by why the fact is unknown.
    unknown_fix: str = UNKNOWN_FIX
    # The fix and the unknown's fix for one target, chosen over the general ones (on
    # native Linux, nothing about WSL or powershell.exe): ``target_fix`` / ``target_settle``.
    target_fixes: tuple[tuple[str, str], ...] = ()
    target_unknown_fixes: tuple[tuple[str, str], ...] = ()

    def for_target(self, target: str) -> CheckRecord:
        """This record with the fixes written for ``target`` (wsl2, windows, linux)."""
        from dataclasses import replace

        return replace(
            self,
            fix=dict(self.target_fixes).get(target, self.fix),
            unknown_fix=dict(self.target_unknown_fixes).get(target, self.unknown_fix),
        )

    @property
    def in_scripts(self) -> bool:
        """Whether check.sh and check.ps1 judge it too (every kind but the doctor-only ones)."""
        return self.rule.kind not in DOCTOR_ONLY_KINDS


def _record(entry: dict[str, Any], known: set[str]) -> CheckRecord:
    cid = entry["id"]
    rule = dict(entry["rule"])
    kind, fact = rule.pop("kind"), rule.pop("fact")
    if kind not in RULE_KINDS:
        raise ValueError(f"check {cid}: unknown rule kind {kind!r}")
    if entry["severity"] not in SEVERITIES:
        raise ValueError(f"check {cid}: bad severity {entry['severity']!r}")
    needs = tuple(entry.get("needs", ()))
    for need in needs:
        if need not in known:
            raise ValueError(f"check {cid}: needs {need!r}, which is not defined before it")
    applies = entry.get("applies", {})
    return CheckRecord(
        id=cid,
        title=entry["title"],
        label=str(entry["label"]),
        applies=Applies(
            targets=tuple(applies.get("targets", ())),
            apis=tuple(applies.get("apis", ())),
            managers=tuple(applies.get("managers", ())),
            profile_sets=tuple(applies.get("profile_sets", ())),
        ),
        needs=needs,
        rule=Rule(kind, fact, tuple(sorted(rule.items()))),
        severity=entry["severity"],
        fix=_text(entry["fix"]),
        fixes=tuple((str(k), _text(v)) for k, v in (entry.get("fixes") or {}).items()),
        unknown_fix=(
            SETTLE_FIX.replace("{settle}", _text(entry["settle"]))
            if entry.get("settle")
            else UNKNOWN_FIX
        ),
        target_fixes=tuple((str(k), _text(v)) for k, v in (entry.get("target_fix") or {}).items()),
        target_unknown_fixes=tuple(
            (str(k), SETTLE_FIX.replace("{settle}", _text(v)))
            for k, v in (entry.get("target_settle") or {}).items()
        ),
    )


def _text(value: object) -> str:
    return " ".join(str(value).split())


@cache
def load_checks() -> tuple[CheckRecord, ...]:
    """Every check record, in report order (a check's ``needs`` come before it)."""
    text = CHECKS_DATA.read_text(encoding="utf-8")
    records: list[CheckRecord] = []
    known: set[str] = set()
    for entry in yamlfast.safe_load(text):
        rec = _record(entry, known)
        if rec.id in known:
            raise ValueError(f"check {rec.id}: duplicate id")
        known.add(rec.id)
        records.append(rec)
    return tuple(records)
