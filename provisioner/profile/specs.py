"""Check package specs without heavy imports: conda match specs and pip requirements.

Conda specs are checked against a strict grammar of our own (a subset of what
conda and rattler accept; a test cross-checks it with rattler's ``MatchSpec``),
because importing rattler costs ~50 ms on the ``validate`` path. pip
requirements are parsed by ``packaging.requirements`` (PEP 508), except the plain
forms every shipped profile uses (``torch``, ``torch==2.13.0``, ``numpy>=1.20,<2``):
a strict subset of PEP 508 of our own accepts those without the ~20 ms that importing
``packaging.requirements`` costs every apply (a property test checks that packaging
accepts all it does); anything else goes to packaging.
"""

from __future__ import annotations

import re

_NAME = r"[A-Za-z0-9_][A-Za-z0-9._-]*"
_CHANNEL = r"(?:[A-Za-z0-9_.\-/]+(?::[A-Za-z0-9_.\-/]+)*::)?"
_OP = r"(?:==|!=|>=|<=|~=|>|<|=)"
_ATOM = r"[0-9A-Za-z_.*+!]+"
_BARE = r"[0-9*][0-9A-Za-z_.*+!]*"  # a version without an operator starts with a digit or *
_CONSTRAINT = rf"(?:{_OP}\s*{_ATOM}|{_BARE})"
_VERSION = rf"{_CONSTRAINT}(?:\s*[,|]\s*{_CONSTRAINT})*"
_BUILD = r"[A-Za-z0-9_.*+]+"
_KEY_VALUE = r"[a-z_]+\s*=\s*(?:'[^'\]]*'|\"[^\"\]]*\"|[^\s,'\"\]]+)"
_BRACKET = rf"\[\s*{_KEY_VALUE}(?:\s*,\s*{_KEY_VALUE})*\s*\]"
# Compiled on first use (by ``re``'s own cache; ~2 ms at import otherwise): a profile
# without conda specs, or a run that reads no pinned version, never needs them.
CONDA_SPEC = (
    rf"^{_CHANNEL}(?P<name>{_NAME})"
    rf"(?:\s*(?P<op_version>{_OP}\s*{_ATOM}(?:\s*[,|]\s*{_CONSTRAINT})*)"
    rf"|=(?P<eq_version>{_ATOM})=(?P<eq_build>{_BUILD})"
    rf"|\s+(?P<version>{_VERSION})(?:\s+(?P<build>{_BUILD}))?)?"
    rf"\s*(?:{_BRACKET})?$"
)
_RELEASE = r"[0-9]+(?:\.[0-9]+)*"
_PUBLIC = rf"{_RELEASE}(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
_LOCAL = r"\+[a-z0-9]+(?:\.[a-z0-9]+)*"
_PLAIN_CLAUSE = (
    rf"(?:(?:==|!=){_RELEASE}\.\*|==(?:{_PUBLIC})(?:{_LOCAL})?|(?:>=|<=|>|<|!=){_PUBLIC})"
)
# A strict subset of PEP 508 (whole string: fullmatch): a name, and version clauses
# without spaces, extras or markers.
PLAIN_PIP_RE = re.compile(
    rf"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:{_PLAIN_CLAUSE}(?:,{_PLAIN_CLAUSE})*)?"
)
_PIP_EXACT = r"^\s*[A-Za-z0-9._-]+\s*(?:\[[^\]]*\])?\s*===?\s*([^\s,;]+)\s*(?:;.*)?$"
_CONDA_EXACT = rf"^{_CHANNEL}{_NAME}\s*(?:==?\s*|\s+)([0-9][0-9A-Za-z_.+!*]*)(?:\s+{_BUILD})?\s*$"


def check_conda_spec(spec: str) -> str:
    """Return ``spec`` if it is a conda match spec we understand, else raise ValueError."""
    if not re.match(CONDA_SPEC, spec):
        raise ValueError(
            f'"{spec}" is not a conda match spec: write name, name=1.2, "name>=1.2,<2" '
            'or "name 1.2.* build"'
        )
    return spec


def check_pip_spec(spec: str) -> str:
    """Return ``spec`` if it is a PEP 508 requirement, else raise ValueError."""
    if PLAIN_PIP_RE.fullmatch(spec):
        return spec
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(spec)
    except InvalidRequirement as e:
        first = str(e).splitlines()[0] if str(e) else "invalid"
        raise ValueError(f'"{spec}" is not a pip requirement (PEP 508): {first}') from None
    return spec


def pinned_version(spec: str, kind: str) -> str | None:
    """The version an entry pins with ``==`` (``torch==2.4.1`` -> ``2.4.1``, ``tf==2.10.*``
    -> ``2.10.*``); None when it is not pinned to one version or prefix."""
    m = re.match(_PIP_EXACT if kind == "pip" else _CONDA_EXACT, spec)
    return m.group(1) if m else None
