"""Which requirements were built against NumPy 1.x, so NumPy 2 breaks them at import
("A module that was compiled using NumPy 1.x cannot be run in NumPy 2.x"), and whether
a numpy specifier still admits a 1.x release.

Two sources: the generated release data (a compiled release that requires numpy and
whose wheels all predate NumPy 2.0.0: ``numpy_abi: "1"``, also through an exact pin,
as tensorflow-directml-plugin pins tensorflow-cpu==2.10.0), and the curated
``numpy_1x`` rows of ``data/compat.yaml`` for a package whose metadata does not say it
(torch-directml names no numpy requirement), each with its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from provisioner import yamlfast
from provisioner.compatdata import releases

COMPAT = Path(__file__).resolve().parent.parent / "data" / "compat.yaml"
CAP = "numpy<2"


@dataclass(frozen=True)
class Numpy1Build:
    """A requirement whose every allowed release was built against NumPy 1.x."""

    requirement: str  # as the profile writes it
    package: str
    version: str  # the newest release it allows
    why: str  # one clause: why that release needs NumPy 1.x
    source: str


@cache
def _curated() -> tuple[dict[str, Any], ...]:
    data = yamlfast.safe_load(COMPAT.read_text(encoding="utf-8"))
    return tuple(data.get("numpy_1x", ()))


def _curated_row(package: str, version: str) -> dict[str, Any] | None:
    for row in _curated():
        if canonicalize_name(row["package"]) == package and (
            SpecifierSet(row.get("versions", "")).contains(version, prereleases=True)
        ):
            return row
    return None


def _numpy1(release: releases.Release, depth: int = 0) -> tuple[str, str] | None:
    """(why, source) when ``release`` needs NumPy 1.x; None when not known to."""
    if release.numpy_abi == "1":
        day = releases.numpy2_released()
        when = f"built before NumPy 2.0.0 ({day}; its wheels are from {release.uploaded})"
        return when, release.source
    row = _curated_row(release.package, release.version)
    if row is not None:
        return str(row["why"]), str(row["source"])
    if depth == 0:  # one level of exact pins: the plugin's tensorflow-cpu==2.10.0
        for name, version in release.pins.items():
            pinned = releases.release(name, version)
            found = _numpy1(pinned, depth + 1) if pinned else None
            if found:
                return f"it pins {name}=={version}, {found[0]}", found[1]
    return None


def numpy1_builds(pip: Iterable[str]) -> tuple[Numpy1Build, ...]:
    """The pip requirements in ``pip`` built against NumPy 1.x: every release each one
    allows is (a requirement that allows a NumPy 2 build as well is left to the solver)."""
    out = []
    for spec in pip:
        allowed = releases.allowed(spec)
        found = [_numpy1(r) for r in allowed]
        if not allowed or not all(found):
            continue
        newest, reason = allowed[-1], found[-1]
        assert reason is not None
        out.append(Numpy1Build(spec, newest.package, newest.version, reason[0], reason[1]))
    return tuple(out)


# --- does a numpy specifier admit a 1.x release? -------------------------------------------

_CONDA_OP = re.compile(r"^(==|!=|>=|<=|>|<|=|~=)?\s*(.+)$")


def _conda_alternatives(version: str) -> list[SpecifierSet] | None:
    """A conda version spec (``>=2``, ``2.*``, ``=1.26``, ``>=1.20,<2|>=2.1``) as PEP 440
    specifier sets, one per ``|`` alternative; None when it cannot be read."""
    out = []
    for alternative in version.split("|"):
        parts = []
        for raw in alternative.split(","):
            m = _CONDA_OP.match(raw.strip())
            if not m:
                return None
            op, value = m.group(1) or "", m.group(2).strip()
            if op in ("", "=") and not value.endswith("*"):
                # conda: a bare version is exact, `=1.26` means 1.26.*
                parts.append(f"=={value}" if op == "" else f"=={value}.*")
            elif op in ("", "=", "=="):
                parts.append(f"=={value}" if value.endswith(".*") else f"=={value.rstrip('*')}*")
            else:
                parts.append(f"{op}{value}")
        try:
            out.append(SpecifierSet(",".join(parts)))
        except InvalidSpecifier:
            return None
    return out


def _numpy1_versions() -> list[str]:
    return [r.version for r in releases.releases("numpy") if r.version.startswith("1.")]


def admits_numpy1(spec: str, kind: str) -> bool | None:
    """Whether a numpy entry of environment.<kind> ("pip" or "conda") admits some NumPy
    1.x release (judged against the 1.x releases PyPI has); None when it cannot be read."""
    if kind == "pip":
        try:
            alternatives = [Requirement(spec).specifier]
        except InvalidRequirement:
            return None
    else:
        m = re.match(r"^(?:[^:\s]+::)?numpy(?:\s+|(?=[=<>!~]))?(.*?)(?:\s+\S+)?$", spec.strip())
        version = m.group(1).strip() if m else None
        if version is None:
            return None
        if not version:
            return True
        found = _conda_alternatives(version)
        if found is None:
            return None
        alternatives = found
    ones = _numpy1_versions()
    return any(s.contains(v, prereleases=True) for s in alternatives for v in ones)


def lock_constraints(pip: Iterable[str]) -> tuple[str, ...]:
    """What the lock adds to its solves for these pip requirements: ``numpy<2`` when one
    was built against NumPy 1.x (so an unbounded ``numpy`` cannot resolve to NumPy 2)."""
    return (CAP,) if numpy1_builds(pip) else ()
