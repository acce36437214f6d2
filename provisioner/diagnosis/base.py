"""What every diagnosis family shares: the protocol, and how a finding is built.

A family reads the log's own facts (a library name and its version, the requirement
pip could not satisfy, a kernel string) from the lines that hold its anchors, and
after the whole log was read says what it found, as catalogue-shaped matches (a
:class:`~provisioner.signatures.Signature` made for this log), so `explain`, its JSON
and the smoke diagnosis print them like any catalogue entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

from provisioner.logscan import Hit
from provisioner.signatures import Match, Signature

FAMILY_RANK = 20  # a family reads which library / release / build: more than a symbol
FACT_RANK = 30  # a fact the log states (WSL 1, an old build) explains the symptoms
GENERIC_RANK = 5  # a family that only says "something of this kind failed"

_NO_PATTERN = re.compile(r"(?!)")


class Family(Protocol):
    """One diagnosis family: its anchors, what it notes per line, what it concludes."""

    anchors: tuple[str, ...]  # lowercase literals; only lines holding one are shown

    def observe(self, hit: Hit, low: str) -> None:
        """Note what ``hit`` (``low``: its text lowercased) says."""

    def findings(self) -> list[Match]:
        """What the family concludes about the whole log."""


def finding(
    *,
    id: str,
    line: int,
    excerpt: str,
    meaning: str,
    fix: str,
    sources: Sequence[str],
    severity: str = "fail",
    rank: int = FAMILY_RANK,
    fixes: Mapping[str, str] | None = None,
) -> Match:
    """A match for a family's conclusion about this log."""
    sig = Signature(
        id=id,
        pattern=_NO_PATTERN,
        severity=severity,
        meaning=meaning,
        fix=fix,
        sources=tuple(sources),
        fixes=MappingProxyType(dict(fixes or {})),
        rank=rank,
    )
    return Match(sig, line, " ".join(excerpt.split())[:200])


def contains_any(low: str, anchors: Sequence[str]) -> bool:
    return any(a in low for a in anchors)
