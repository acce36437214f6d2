"""How the compatibility rules read a profile: dotted fields, package entries, and the
:class:`Failure` a check returns (where it failed, and the values its message needs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.profile.extends import package_name
from provisioner.profile.yamlnodes import Loc

LISTS = ("conda", "pip")


@dataclass(frozen=True)
class Failure:
    """Where a check failed and the values its message needs."""

    loc: Loc
    fields: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None  # replaces the rule's message for a case it does not cover


Check = Callable[[Mapping[str, Any], Mapping[str, Any]], list[Failure]]


def get(data: Mapping[str, Any], dotted_field: str) -> Any:
    """``get(data, "requires.gpu.api")``; None when any part is missing."""
    value: Any = data
    for part in dotted_field.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def loc(dotted_field: str) -> Loc:
    return tuple(dotted_field.split("."))


def packages(data: Mapping[str, Any], kind: str) -> list[tuple[int, str, str]]:
    """(index, spec, normalised name) of every entry of environment.<kind>."""
    entries = get(data, f"environment.{kind}") or []
    out = []
    for i, spec in enumerate(entries):
        name = package_name(spec, kind)
        if name:
            out.append((i, spec, name))
    return out


def find(data: Mapping[str, Any], kind: str, package: str) -> tuple[int, str] | None:
    """(index, spec) of ``package`` in environment.<kind>; None when it is not listed."""
    wanted = package_name(package, kind)
    for i, spec, name in packages(data, kind):
        if name == wanted:
            return i, spec
    return None
