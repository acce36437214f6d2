"""Judge planned checks against observed facts: one :class:`Verdict` per check.

The rule kinds here are mirrored line for line by ``templates/check.sh.j2`` and
``templates/check.ps1.j2``; the parity tests hold the three to the same verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioner.checks.observed import Fact, Observed
from provisioner.checks.plan import PlannedCheck
from provisioner.host.facts import Unknown
from provisioner.host.patterns import LINUX_DRIVER_SOURCES_NOTE
from provisioner.versions import at_least

CANNOT_COMPARE = (
    "cannot compare with AMD's driver name {floor}; check manually "
    "(AMD Software > System > Driver Version) that it is {floor} or newer"
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: status, a one-line summary of what was seen, and the fix."""

    id: str
    title: str
    status: str  # pass | warn | fail | unknown | skip
    summary: str
    fix: str
    severity: str

    @property
    def blocks(self) -> bool:
        """Whether this verdict makes the host not ready."""
        return self.status == "fail" or (self.status == "unknown" and self.severity == "fail")

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "status": self.status, "summary": self.summary, "fix": self.fix}


def _items(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else ((value,) if value else ())


def _scalar(value: str | tuple[str, ...]) -> str:
    return value if isinstance(value, str) else ", ".join(value)


# (True: pass, False: fail, None: cannot be compared, a warning whatever the severity)
Outcome = tuple[bool | None, str]


def _equals(f: Observed, p: dict[str, Any]) -> Outcome:
    v = _scalar(f.value)
    return (True, v) if v == p["value"] else (False, f"{v or f.note} (expected {p['value']})")


def _not_equals(f: Observed, p: dict[str, Any]) -> Outcome:
    v = _scalar(f.value)
    return (False, f"{v} (must not be {p['value']})") if v == p["value"] else (True, v or f.note)


def _one_of(f: Observed, p: dict[str, Any]) -> Outcome:
    v = _scalar(f.value)
    ok = v in p["values"]
    return (True, v) if ok else (False, f"{v or f.note} (expected one of {', '.join(p['values'])})")


def _version_at_least(f: Observed, p: dict[str, Any]) -> Outcome:
    v = _scalar(f.value)
    return at_least(v, p["minimum"]), f"{v} (need >= {p['minimum']})"


def _present(f: Observed, p: dict[str, Any]) -> Outcome:
    v = _scalar(f.value)
    return (True, v) if v else (False, f.note or "not found")


def _absent(f: Observed, p: dict[str, Any]) -> Outcome:
    items = _items(f.value)
    return (False, ", ".join(items)) if items else (True, "none" + _checked(f.note))


def _checked(sources: str) -> str:
    return f" ({LINUX_DRIVER_SOURCES_NOTE.format(sources=sources)})" if sources else ""


def _from(source: str) -> str:
    return f" (reported by {source})" if source else ""


def _contains_all(f: Observed, p: dict[str, Any]) -> Outcome:
    have = set(_items(f.value))
    missing = [i for i in p["items"] if i not in have]
    if missing:
        return False, "missing " + ", ".join(missing)
    return True, "has " + ", ".join(p["items"])


def _version_prefix(f: Observed, p: dict[str, Any]) -> Outcome:
    want = p["version"]
    for v in _items(f.value):
        if v == want or v.startswith(want + "."):
            return True, v
    return False, f"no {want} (found: {', '.join(_items(f.value)) or 'none'})"


def _adapters(f: Observed) -> list[tuple[str, str, str]]:
    rows = []
    for item in _items(f.value):
        vendor, driver, name = item.split("|", 2)
        rows.append((vendor, driver, name))
    return rows


def _adapter_vendor(f: Observed, p: dict[str, Any]) -> Outcome:
    rows = _adapters(f)
    for vendor, _driver, name in rows:
        if vendor in p["vendors"]:
            return True, f"{name} ({vendor}){_from(f.note)}"
    found = ", ".join(name for _v, _d, name in rows) or "none"
    return False, f"no {'/'.join(p['vendors'])} adapter (found: {found})"


def driver_at_least(vendor: str, driver: str, floor: str) -> bool | None:
    """Whether ``driver`` meets ``floor`` for ``vendor``; None when they cannot be compared.

    Intel numbers its drivers so that only the build (the last two fields, ``101.6737``)
    orders them; the first fields name the WDDM level (Intel's driver numbering article).
    AMD's public driver names (``20.20.01.05``) do not map to the DriverVersion Windows
    reports (``31.0.24033.1003``), so an AMD floor other than 0 cannot be checked here."""
    if vendor == "intel":
        return at_least(intel_build(driver), intel_build(floor))
    if vendor == "amd":
        return True if at_least("0", floor) else None
    return at_least(driver, floor)


def intel_build(version: str) -> str:
    return ".".join(version.split(".")[-2:])


def _adapter_driver(f: Observed, p: dict[str, Any]) -> Outcome:
    floors: dict[str, str] = p["floors"]
    first: str | None = None
    manual: str | None = None
    for vendor, driver, name in _adapters(f):
        if vendor not in floors:
            continue
        floor = floors[vendor]
        line = f"{name} driver {driver} (need >= {floor}){_from(f.note)}"
        ok = driver_at_least(vendor, driver, floor)
        if ok:
            return True, line
        if ok is None:
            manual = manual or f"{name} driver {driver}: {CANNOT_COMPARE.format(floor=floor)}"
        first = first or line
    if manual is not None:
        return None, manual
    return False, first or "no supported adapter"


def _kernels_for(f: Observed, p: dict[str, Any]) -> Outcome:
    """Every GPU finds a kernel in the torch build (``no kernel image is available`` else)."""
    from provisioner.compatdata.nvidia import Kernels, generation

    k = p["kernels"]
    kernels = Kernels(tuple(k["sm"]), tuple(k["ptx"]), "", bool(k["exact"]))
    has = ", ".join(k["sm"]) + (f" (+PTX {', '.join(k['ptx'])})" if k["ptx"] else "")
    unknown = []
    for item in _items(f.value):
        cap, name = item.split("|", 1)
        if cap == "?":
            unknown.append(name)
            continue
        if not kernels.runs_on(cap):
            return False, (
                f"{name} ({generation(cap)}, compute capability {cap}): {k['build']} has "
                f"kernels for {has} only (no kernel image is available for this GPU)"
            )
    if unknown:
        return None, (
            f"cannot tell the compute capability of {', '.join(unknown)}{_from(f.note)}; "
            f"{k['build']} has kernels for {has}"
        )
    gpus = ", ".join(f"{n} ({c})" for c, n in (i.split("|", 1) for i in _items(f.value)))
    return True, f"{gpus or 'no GPU listed'}: {k['build']} has kernels for it{_from(f.note)}"


RULES: dict[str, Callable[[Observed, dict[str, Any]], Outcome]] = {
    "equals": _equals,
    "not_equals": _not_equals,
    "one_of": _one_of,
    "version_at_least": _version_at_least,
    "present": _present,
    "absent": _absent,
    "contains_all": _contains_all,
    "version_prefix": _version_prefix,
    "adapter_vendor": _adapter_vendor,
    "adapter_driver": _adapter_driver,
    "kernels_for": _kernels_for,
}


def judge(planned: list[PlannedCheck], facts: dict[str, Fact]) -> list[Verdict]:
    """One verdict per planned check, in order; a check whose needs did not pass is skipped."""
    verdicts: list[Verdict] = []
    status_of: dict[str, str] = {}
    applicable: set[str] = set()
    for pc in planned:
        rec = pc.record
        if not pc.applicable:
            verdict = Verdict(
                rec.id, rec.title, "skip", f"skipped: {pc.skip_reason}", "", rec.severity
            )
        else:
            applicable.add(rec.id)
            unmet = [n for n in rec.needs if n in applicable and status_of.get(n) != "pass"]
            if unmet:
                verdict = Verdict(
                    rec.id,
                    rec.title,
                    "skip",
                    f"skipped: needs {unmet[0]} to pass",
                    "",
                    rec.severity,
                )
            else:
                verdict = _evaluate(pc, facts.get(rec.rule.fact, Unknown("not observed")))
        status_of[rec.id] = verdict.status
        verdicts.append(verdict)
    return verdicts


def _evaluate(pc: PlannedCheck, fact: Fact) -> Verdict:
    rec = pc.record
    if isinstance(fact, Unknown):
        return Verdict(
            rec.id,
            rec.title,
            "unknown",
            f"{rec.label}: unknown ({fact.reason})",
            # The record's fix assumes a failure; an unknown needs its cause fixed first.
            rec.unknown_fix.replace("{reason}", fact.reason),
            rec.severity,
        )
    ok, detail = RULES[rec.rule.kind](fact, pc.params)
    if ok:
        status = "pass"
    elif ok is None or rec.severity == "warn":
        status = "warn"
    else:
        status = "fail"
    fix = "" if ok else dict(rec.fixes).get(_scalar(fact.value), rec.fix)
    return Verdict(rec.id, rec.title, status, f"{rec.label}: {detail}", fix, rec.severity)
