"""Diagnose a log: the catalogue signatures and the diagnosis families, in one pass.

The log is streamed once (:mod:`provisioner.logscan`): every rule's literal anchors are
searched together, and only lines holding one reach a regex or a family. Catalogue
signatures (``data/signatures.yaml``) name known messages; families read the log's
own facts (:mod:`.libraries`, :mod:`.wheels`, :mod:`.facts`, :mod:`.runtime`). The
cause is the highest-ranked failure (facts the log states, then families, then
catalogue entries; the earliest line among equals), else the highest-ranked warning,
else benign noise; a log with none of them has no cause.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from provisioner.diagnosis.base import Family
from provisioner.diagnosis.facts import Facts
from provisioner.diagnosis.libraries import Libraries
from provisioner.diagnosis.runtime import Runtime
from provisioner.diagnosis.wheels import Wheels
from provisioner.logscan import CHUNK, Hit, Prefilter, Readable, scan
from provisioner.signatures import SEVERITIES, Match, Signature, _lowered, catalogue


@dataclass(frozen=True)
class Diagnosis:
    """Every finding in log order, and the one that is the cause (None: no cause)."""

    matches: tuple[Match, ...]
    cause: Match | None


def families() -> list[Family]:
    """A fresh instance of every family (they hold what one log said)."""
    return [Libraries(), Wheels(), Facts(), Runtime()]


def _anchors(sigs: Sequence[Signature], fams: Sequence[Family]) -> list[str]:
    out: list[str] = []
    for s in sigs:
        out.extend(s.needles or ())
        out.extend(s.requires_needles)
    for f in fams:
        out.extend(f.anchors)
    return out


_PREFILTERS: dict[tuple[str, ...], Prefilter] = {}


def _prefilter(anchors: list[str]) -> Prefilter:
    key = tuple(anchors)
    if key not in _PREFILTERS:
        _PREFILTERS[key] = Prefilter(anchors)
    return _PREFILTERS[key]


def _match_signature(sig: Signature, hit: Hit) -> Match | None:
    """``sig`` on the line of ``hit`` (and for an N-line entry, up to N-1 lines around
    it): the first match that covers the hit line and at most N lines."""
    span = sig.lines - 1
    before = list(hit.before[len(hit.before) - span :]) if span else []
    after = hit.after[:span]
    lines = [*before, hit.text, *after]
    text = "\n".join(lines)
    low = _lowered(text)
    start = sum(len(x) + 1 for x in before)
    end = start + len(hit.text)
    pos = 0
    while (m := sig.pattern.search(low, pos)) is not None:
        if m.group(0).count("\n") < sig.lines and m.start() <= end and m.end() >= start:
            first_line = hit.number - len(before) + text.count("\n", 0, m.start())
            excerpt = " ".join(text[m.start() : m.end()].split())[:200]
            return Match(sig, first_line, excerpt)
        pos = m.start() + 1
    return None


def diagnose(stream: Readable, chunk: int = CHUNK) -> Diagnosis:
    """Read ``stream`` (the log's bytes, UTF-8 or a legacy code page) once and diagnose it.

    Raises :class:`provisioner.logscan.NotText` for input with NUL bytes."""
    sigs = catalogue()
    fams = families()
    prefilter = _prefilter(_anchors(sigs, fams))
    # which rules each anchor can wake: a line runs only the rules whose anchors it holds
    index = {a: i for i, a in enumerate(prefilter.anchors)}
    wakes: list[list[tuple[int, Signature | Family]]] = [[] for _ in prefilter.anchors]
    for order, sig in enumerate(sigs):
        for n in sig.needles or ():
            wakes[index[n]].append((order, sig))
    req_by_anchor: list[list[Signature]] = [[] for _ in prefilter.anchors]
    for sig in sigs:
        for n in sig.requires_needles:
            req_by_anchor[index[n]].append(sig)
    for order, fam in enumerate(fams, start=len(sigs)):
        for a in fam.anchors:
            wakes[index[a]].append((order, fam))
    found: dict[str, Match] = {}
    required: set[str] = set()
    for hit in scan(stream, prefilter, chunk):
        low = _lowered(hit.text)
        rules: dict[int, Signature | Family] = {}
        for anchor in hit.anchors:
            rules.update(wakes[anchor])
            for sig in req_by_anchor[anchor]:
                if sig.id not in required and sig.requires is not None and sig.requires.search(low):
                    required.add(sig.id)
        for _, rule in sorted(rules.items()):
            if isinstance(rule, Signature):
                if rule.id not in found and (m := _match_signature(rule, hit)) is not None:
                    found[rule.id] = m
            else:
                rule.observe(hit, low)
    read = [f for fam in fams for f in fam.findings()]
    # a family's finding replaces the catalogue entry of the same id: it read the log's facts
    replaced = {f.signature.id for f in read}
    matches = [
        m
        for m in found.values()
        if (m.signature.requires is None or m.signature.id in required)
        and m.signature.id not in replaced
    ]
    matches.extend(read)
    matches.sort(key=lambda m: m.line)
    return Diagnosis(tuple(matches), cause_of(matches))


def diagnose_text(text: str) -> Diagnosis:
    """:func:`diagnose` for a log already in memory (the smoke test's)."""
    return diagnose(io.BytesIO(text.encode("utf-8", "surrogatepass")))


def match_log(text: str) -> list[Match]:
    """Every catalogue signature and diagnosis-family finding in ``text``, once each,
    in log order (see :func:`diagnose`)."""
    return list(diagnose_text(text).matches)


def cause_of(matches: Sequence[Match]) -> Match | None:
    """The worst severity's highest-ranked match, the earliest line among equals."""
    for severity in SEVERITIES:
        ranked = [m for m in matches if m.signature.severity == severity]
        if ranked:
            return max(ranked, key=lambda m: (m.signature.rank, -m.line))
    return None
