"""The catalogue of known failure signatures (``data/signatures.yaml``) and matching.

``provision explain`` and the smoke-test diagnosis both match through
:func:`provisioner.diagnosis.match_log`; there is no second list of patterns.

A pattern matches within one line (``\\s`` never crosses a newline, ``.`` never does)
unless its entry sets ``lines: N``: then one match may cover up to N consecutive lines
(a warning a terminal folded). Patterns may not use unbounded ``.*``/``.+``/``\\S*``
style repeats (write ``.{0,200}``), so a multi-megabyte log takes linear time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

from provisioner import yamlfast

SEVERITIES = ("fail", "warn", "benign")
TARGETS = ("wsl2", "linux", "windows")

# A log's verdict class: the worst severity among its matches, or "none".
_CLASS_OF = {"fail": "failure", "warn": "warning", "benign": "benign"}

# Unbounded repeats of "anything"-like atoms: quadratic on a long line without the
# literal that follows. `\s+` and `\d+` stay allowed (runs of those are short in logs).
_UNBOUNDED = re.compile(r"(?<!\\)(?:\.|\\S|\\w|\\W|\\D|\])(?:[*+]|\{\d+,\})")
# `\s` (not `\\s`) in a single-line pattern becomes "whitespace but not a newline".
_WHITESPACE = re.compile(r"(?<!\\)((?:\\\\)*)\\s")


@dataclass(frozen=True)
class Signature:
    """One catalogue entry, compiled: what to look for, what it means, how to fix it."""

    id: str
    pattern: re.Pattern[str]
    severity: str  # fail | warn | benign
    meaning: str
    fix: str  # safe on every target: destructive commands are only described
    sources: tuple[str, ...]
    lines: int = 1  # how many consecutive lines one match may cover
    requires: re.Pattern[str] | None = None  # another line of the log must match this
    needles: tuple[str, ...] | None = None  # one literal per alternative: a cheap prefilter
    requires_needles: tuple[str, ...] = ()  # the same for ``requires``
    fixes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Which of several failures in one log is the cause: the highest rank wins (facts
    # the log states 30, a diagnosis family 20, a catalogue entry 10 unless it says).
    rank: int = 10

    def fix_for(self, target: str | None) -> str:
        """The fix for ``target`` (wsl2, linux, windows), or the context-free one."""
        if target is not None and target in self.fixes:
            return self.fixes[target]
        return self.fix


@dataclass(frozen=True)
class Match:
    """One recognised signature in a log: which, where (1-based line) and the text."""

    signature: Signature
    line: int
    excerpt: str

    def as_json(self, target: str | None = None) -> dict[str, object]:
        s = self.signature
        return {
            "id": s.id,
            "severity": s.severity,
            "line": self.line,
            "excerpt": self.excerpt,
            "meaning": s.meaning,
            "fix": s.fix_for(target),
            "sources": list(s.sources),
        }


class CatalogueError(ValueError):
    """signatures.yaml is malformed (a bug in the shipped data)."""


def _compile(sid: str, source: str, lines: int) -> re.Pattern[str]:
    if _UNBOUNDED.search(source):
        raise CatalogueError(
            f"signature {sid}: unbounded repeat in {source!r}; write .{{0,200}} instead"
        )
    if lines == 1:
        source = _WHITESPACE.sub(lambda m: m.group(1) + r"[^\S\n]", source)
    return re.compile(_lowercase_literals(source), re.MULTILINE)


def _lowercase_literals(source: str) -> str:
    """The pattern with every character lowercased except the one after a backslash
    (``\\S`` must stay ``\\S``), to be matched against lowercased text.

    Matching lowercased text without IGNORECASE lets ``re`` use its fast literal-prefix
    search; with IGNORECASE a 5 MB log took seconds per signature.
    """
    out: list[str] = []
    escaped = False
    for ch in source:
        out.append(ch if escaped else ch.lower())
        escaped = not escaped and ch == "\\"
    return "".join(out)


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-:'\",=@/ ")
_QUANTIFIERS = frozenset("?*+{")


def _needles(source: str) -> tuple[str, ...] | None:
    """For each top-level alternative of ``source``, its longest run of literal
    characters (outside groups and classes, not under a quantifier): a line can only
    match if it contains one of them. None when some alternative has no run of 3+."""
    alternatives: list[list[str]] = [[""]]
    depth = 0
    i = 0
    while i < len(source):
        ch = source[i]
        runs = alternatives[-1]
        nxt = source[i + 1] if i + 1 < len(source) else ""
        if ch == "\\":
            lit = nxt if nxt and not nxt.isalnum() else None
            after = source[i + 2] if i + 2 < len(source) else ""
            if depth == 0 and lit is not None and after not in _QUANTIFIERS:
                runs[-1] += lit
            elif depth == 0:
                runs.append("")
            i += 2
            continue
        if ch == "[":
            close = source.find("]", i + 2)
            i = len(source) if close < 0 else close + 1
            runs.append("")
            continue
        if ch in "()":
            depth += 1 if ch == "(" else -1
            runs.append("")
        elif ch == "|" and depth == 0:
            alternatives.append([""])
        elif depth == 0 and ch in _PLAIN and nxt not in _QUANTIFIERS:
            runs[-1] += ch
        elif depth == 0:
            runs.append("")
        i += 1
    best = [max(runs, key=len) for runs in alternatives]
    return tuple(best) if all(len(b) >= 3 for b in best) else None


def _signature(e: Mapping[str, object]) -> Signature:
    sid = str(e["id"])
    severity = str(e["severity"])
    if severity not in SEVERITIES:
        raise CatalogueError(f"signature {sid}: bad severity {severity!r}")
    raw_sources = e.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise CatalogueError(f"signature {sid}: no sources (the URL of a real capture)")
    fixes = e.get("fixes") or {}
    if not isinstance(fixes, dict) or not set(fixes) <= set(TARGETS):
        raise CatalogueError(f"signature {sid}: fixes must map {'/'.join(TARGETS)} to text")
    requires = e.get("requires")
    lines = e.get("lines", 1)
    if not isinstance(lines, int) or not 1 <= lines <= 5:
        raise CatalogueError(f"signature {sid}: lines must be 1 to 5")
    pattern = _compile(sid, str(e["pattern"]), lines)
    needles = _needles(_lowercase_literals(str(e["pattern"])))
    if needles is None:
        raise CatalogueError(
            f"signature {sid}: every alternative needs a literal of 3+ characters "
            "(explain reads only the lines that hold one)"
        )
    requires_needles: tuple[str, ...] = ()
    if requires is not None:
        found = _needles(_lowercase_literals(str(requires)))
        if found is None:
            raise CatalogueError(f"signature {sid}: requires needs a literal of 3+ characters")
        requires_needles = found
    rank = e.get("rank", 10)
    if not isinstance(rank, int):
        raise CatalogueError(f"signature {sid}: rank must be a number")
    return Signature(
        id=sid,
        pattern=pattern,
        severity=severity,
        meaning=str(e["meaning"]),
        fix=str(e["fix"]),
        sources=tuple(str(u) for u in raw_sources),
        lines=lines,
        needles=needles,
        requires=None if requires is None else _compile(sid, str(requires), 1),
        fixes=MappingProxyType({str(k): str(v) for k, v in fixes.items()}),
        rank=rank,
        requires_needles=requires_needles,
    )


@cache
def catalogue() -> tuple[Signature, ...]:
    text = resources.files("provisioner").joinpath("data/signatures.yaml").read_text("utf-8")
    sigs = tuple(_signature(e) for e in yamlfast.safe_load(text))
    ids = [s.id for s in sigs]
    if len(ids) != len(set(ids)):
        raise CatalogueError(
            f"duplicate signature ids: {sorted(i for i in ids if ids.count(i) > 1)}"
        )
    return sigs


def _normalise(text: str) -> str:
    """One newline per line: CRLF and lone CR (progress bars) both end a line."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _lowered(text: str) -> str:
    """``text`` lowercased without changing any offset (ASCII rules where Unicode's
    lower() would change the length, e.g. for a dotted capital I)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _first(pattern: re.Pattern[str], text: str, lines: int = 1) -> re.Match[str] | None:
    """The first match covering at most ``lines`` lines."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        if m.group(0).count("\n") < lines:
            return m
        pos = text.find("\n", m.start()) + 1  # too many lines: retry from the next line
        if pos == 0:
            return None
    return None


def verdict_class(matches: list[Match]) -> str:
    """failure (a fail signature), else warning, else benign (only known noise), else none."""
    severities = {m.signature.severity for m in matches}
    for severity in SEVERITIES:
        if severity in severities:
            return _CLASS_OF[severity]
    return "none"
