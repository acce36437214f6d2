"""Cross-field rules from one compatibility table kept as data (``data/compat.yaml``).

Each rule says when it applies and which check must pass; the checks are a
small vocabulary of pure functions registered in :data:`CHECKS`. A failing rule
becomes a diagnostic at the line that breaks it (the package entry, or the field).
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from provisioner import yamlfast
from provisioner.compatdata import releases
from provisioner.errors import Diagnostic
from provisioner.profile.compat_fields import LISTS, Check, Failure, find, get, loc, packages
from provisioner.profile.compat_releases import CHECKS as RELEASE_CHECKS
from provisioner.profile.diagnostics import model_of
from provisioner.profile.extends import Merged
from provisioner.profile.model import Profile
from provisioner.profile.specs import pinned_version
from provisioner.profile.yamlnodes import Loc, dotted
from provisioner.versions import at_least, minor_between

COMPAT_TABLE = Path(__file__).resolve().parent.parent / "data" / "compat.yaml"


@dataclass(frozen=True)
class Rule:
    """One row of the compatibility table."""

    id: str
    when: Mapping[str, Any]
    check: str
    args: Mapping[str, Any]
    message: str
    at: str | None = None
    source: str = ""


@cache
def rules(path: Path = COMPAT_TABLE) -> tuple[Rule, ...]:
    """The parsed compatibility table."""
    raw = yamlfast.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for row in raw["rules"]:
        ((kind, args),) = row["check"].items()
        if kind == "pin_pairs" and "pins_from" in args:  # the pins from each release's metadata
            args = {**args, "pins": _pins_from(args["pins_from"], args["partner"])}
        out.append(
            Rule(
                id=row["id"],
                when=row.get("when", {}),
                check=kind,
                args=args,
                message=row["message"],
                at=row.get("at"),
                source=row.get("source", ""),
            )
        )
    return tuple(out)


def _pins_from(package: str, partner: str) -> dict[str, str]:
    """release -> the exact version of ``partner`` its Requires-Dist pins, per the data."""
    pins = {r.version: r.pins.get(partner) for r in releases.releases(package)}
    return {version: pin for version, pin in pins.items() if pin}


def check_profile(
    data: Mapping[str, Any], merged: Merged, skip: frozenset[str] = frozenset()
) -> list[Diagnostic]:
    """Every rule that applies to ``data`` (a validated profile as JSON data) and fails.

    Rules that read a field in ``skip`` (dotted paths that already have an error) are left
    out, so one mistake is reported once.
    """
    out: list[Diagnostic] = []
    for rule in rules():
        read = [*rule.when, rule.args.get("field", ""), rule.at or ""]
        if any(_overlaps(f, b) for f in read if f for b in skip):
            continue
        if not all(_holds(get(data, f), cond) for f, cond in rule.when.items()):
            continue
        for failure in CHECKS[rule.check](data, rule.args):
            if any(_overlaps(dotted(failure.loc), b) for b in skip):
                continue
            loc = tuple(rule.at.split(".")) if rule.at else failure.loc
            fields = {
                "framework": get(data, "smoke_test.framework"),
                **rule.args,
                **failure.fields,
            }
            message = (failure.message or rule.message).format_map(_Defaulting(fields))
            path = rule.at or dotted(failure.loc)
            out.append(Diagnostic(message, merged.position(loc), path))
    return out


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _holds(value: Any, cond: Any) -> bool:
    if isinstance(cond, Mapping):
        if "not" in cond:
            return not _holds(value, cond["not"])
        if "present" in cond:
            return _present(value) == bool(cond["present"])
        return False
    if isinstance(cond, list):
        return value in cond
    return bool(value == cond)


def _present(value: Any) -> bool:
    return value not in (None, "", [], {}, ())


# --- the check vocabulary ---------------------------------------------------------------


def _python(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    value = get(data, "environment.python")
    if minor_between(value, args["min"], args["max"]):
        return []
    return [Failure(("environment", "python"), {"value": value})]


def _one_of(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    value = get(data, args["field"])
    if value in args["values"]:
        return []
    return [Failure(loc(args["field"]), {"value": value})]


def _not_one_of(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    value = get(data, args["field"])
    if value not in args["values"]:
        return []
    return [Failure(loc(args["field"]), {"value": value})]


def _at_least(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    value = get(data, args["field"])
    floor = args["value"]
    if value is None:
        return [Failure(loc(args["field"]), {"value": "not set"})]
    if isinstance(floor, int) and isinstance(value, int):
        ok = value >= floor
    else:
        ok = at_least(value, floor)
    return [] if ok else [Failure(loc(args["field"]), {"value": value})]


def _present_check(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    value = get(data, args["field"])
    return [] if _present(value) else [Failure(loc(args["field"]), {"value": "not set"})]


def _absent(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    value = get(data, args["field"])
    return [Failure(loc(args["field"]), {"value": value})] if _present(value) else []


def _pinned(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    kind = args["list"]
    found = find(data, kind, args["package"])
    if found is None:
        return [Failure(("environment", kind), {"value": "not listed"})]
    i, spec = found
    version = pinned_version(spec, kind)
    if version is not None and fnmatch.fnmatchcase(version, args["version"]):
        return []
    return [Failure(("environment", kind, i), {"value": spec, "entry": spec})]


def _no_packages(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    out = []
    for kind in args.get("lists", LISTS):
        for i, spec, name in packages(data, kind):
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in args["names"]):
                out.append(Failure(("environment", kind, i), {"name": name, "entry": spec}))
    return out


def _not_versions(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    out = []
    for kind in args.get("lists", LISTS):
        found = find(data, kind, args["package"])
        if found is None:
            continue
        i, spec = found
        version = pinned_version(spec, kind)
        if version in args["versions"]:
            out.append(Failure(("environment", kind, i), {"version": version, "entry": spec}))
    return out


def _pin_pairs(data: Mapping[str, Any], args: Mapping[str, Any]) -> list[Failure]:
    kind, package, partner_name = args["list"], args["package"], args["partner"]
    known = ", ".join(args["pins"])
    found = find(data, kind, package)
    if found is None:
        text = f"the {{framework}} smoke test needs {package} in environment.{kind}"
        return [Failure(("environment", kind), message=text)]
    i, spec = found
    version = pinned_version(spec, kind)
    match = next(
        (
            v
            for k, v in args["pins"].items()
            if version and (version == k or version.startswith(k + "."))
        ),
        None,
    )
    if match is None:
        if not args.get("require_pin", True):
            return []
        text = f'pin {package} to a known release ({known}), got "{spec}"'
        return [Failure(("environment", kind, i), message=text)]
    partner = find(data, kind, partner_name)
    partner_version = pinned_version(partner[1], kind) if partner else None
    if partner_version == match:
        return []
    loc: Loc = ("environment", kind, partner[0]) if partner else ("environment", kind, i)
    got = f'"{partner[1]}"' if partner else f"no {partner_name} entry"
    return [Failure(loc, {"version": version, "expected": match, "value": got})]


CHECKS: dict[str, Check] = {
    **RELEASE_CHECKS,
    "python": _python,
    "one_of": _one_of,
    "not_one_of": _not_one_of,
    "at_least": _at_least,
    "present": _present_check,
    "absent": _absent,
    "pinned": _pinned,
    "no_packages": _no_packages,
    "not_versions": _not_versions,
    "pin_pairs": _pin_pairs,
}


def check_partial(merged: Merged, invalid: list[Loc]) -> list[Diagnostic]:
    """The rules on a profile that failed validation: defaults filled in, and rules that
    read an invalid field left out (that field already has its own error)."""
    data = with_defaults(Profile, merged.data)
    bad = frozenset(".".join(str(p) for p in loc) for loc in invalid)
    try:
        return check_profile(data, merged, skip=bad)
    except (TypeError, ValueError, AttributeError, KeyError):  # ill-typed input; its own
        return []  # errors are already reported


def _overlaps(path: str, bad: str) -> bool:
    path = path.split("[")[0]
    return path == bad or path.startswith(bad + ".") or bad.startswith(path + ".")


def with_defaults(model: type[BaseModel], data: Any) -> Any:
    """``data`` with each missing field of ``model`` set to its default, as JSON data."""
    if not isinstance(data, Mapping):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        sub = model_of(info.annotation)
        if name in out:
            if sub is not None:
                out[name] = with_defaults(sub, out[name])
        elif not info.is_required():
            default = info.get_default(call_default_factory=True)
            out[name] = _as_json(default)
    return out


def _as_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value
