"""The catalogue of known failure signatures (``data/signatures.yaml``) and matching.

``provision explain`` and the smoke-test diagnosis both call :func:`match_log`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

SEVERITIES = ("fail", "warn", "benign")


@dataclass(frozen=True)
class Signature:
    id: str
    pattern: re.Pattern[str]
    severity: str  # fail | warn | benign
    meaning: str
    fix: str


@dataclass(frozen=True)
class Match:
    """One recognised signature in a log: which, where (1-based line) and the text."""

    signature: Signature
    line: int
    excerpt: str

    def as_json(self) -> dict[str, object]:
        s = self.signature
        return {
            "id": s.id,
            "severity": s.severity,
            "line": self.line,
            "excerpt": self.excerpt,
            "meaning": s.meaning,
            "fix": s.fix,
        }


@cache
def catalogue() -> tuple[Signature, ...]:
    text = resources.files("provisioner").joinpath("data/signatures.yaml").read_text("utf-8")
    entries = yaml.safe_load(text)
    sigs = []
    for e in entries:
        if e["severity"] not in SEVERITIES:
            raise ValueError(f"signature {e['id']}: bad severity {e['severity']!r}")
        sigs.append(
            Signature(
                id=e["id"],
                pattern=re.compile(e["pattern"], re.IGNORECASE | re.DOTALL),
                severity=e["severity"],
                meaning=e["meaning"],
                fix=e["fix"],
            )
        )
    return tuple(sigs)


def match_log(text: str) -> list[Match]:
    """Every catalogue signature found in ``text``, once per signature, in log order.

    Patterns may span wrapped lines (``\\s+`` matches a newline), so a warning that a
    terminal folded across two lines still matches.
    """
    found: list[Match] = []
    for sig in catalogue():
        m = sig.pattern.search(text)
        if m is None:
            continue
        line = text.count("\n", 0, m.start()) + 1
        excerpt = " ".join(m.group(0).split())[:200]
        found.append(Match(sig, line, excerpt))
    found.sort(key=lambda m: m.line)
    return found


def failures(matches: list[Match]) -> list[Match]:
    return [m for m in matches if m.signature.severity == "fail"]
