"""Read a log once, in bounded memory, and hand on only the lines that can matter.

A diagnosis rule (a catalogue signature, a diagnosis family) names literal anchors: a
line can only match the rule if it holds one of them. The log is read in chunks of
:data:`CHUNK` bytes; each chunk is lowercased (ASCII) and searched once for every
anchor together (Aho-Corasick, ``ahocorasick-rs``), and only the lines holding an anchor
are decoded and handed on, with up to :data:`CONTEXT` lines around them for rules whose
message a terminal folds over several lines. Regexes never see the other lines.

Lines end at LF, CRLF or a lone CR (progress bars), as everywhere else in explain; a
"line" longer than :data:`MAX_LINE` bytes is cut there, so memory stays bounded by the
chunk size whatever the input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

CHUNK = 8 << 20
CONTEXT = 4
MAX_LINE = 1 << 20


class NotText(ValueError):
    """The input holds NUL bytes: a binary file, not a captured log."""


@dataclass
class Hit:
    """A line that holds at least one anchor, with the lines around it."""

    number: int  # 1-based line number
    text: str
    before: tuple[str, ...]
    after: list[str] = field(default_factory=list)


class Prefilter:
    """Finds the lines of a lowercased chunk that hold any of ``anchors`` (lowercase)."""

    def __init__(self, anchors: Sequence[str]) -> None:
        self.anchors = tuple(dict.fromkeys(a for a in anchors if a))
        needles = [a.encode() for a in self.anchors]
        try:
            import ahocorasick_rs
        except ImportError:  # an environment installed before the dependency was added
            self._ac = None
            self._needles = needles
        else:
            self._ac = ahocorasick_rs.BytesAhoCorasick(needles)
            self._needles = []

    def positions(self, low: bytes) -> list[int]:
        """Offsets in ``low`` where some anchor starts (not all of them: one per
        occurrence region is enough to mark the line)."""
        if self._ac is not None:
            return [start for _, start, _ in self._ac.find_matches_as_indexes(low)]
        found: list[int] = []
        for needle in self._needles:
            at = low.find(needle)
            while at >= 0:
                found.append(at)
                at = low.find(needle, at + 1)
        found.sort()
        return found


def _split_tail(region: bytes, count: int) -> list[bytes]:
    """The last ``count`` lines of ``region`` (which ends with a newline)."""
    lines: list[bytes] = []
    end = len(region) - 1
    while end >= 0 and len(lines) < count:
        start = region.rfind(b"\n", 0, end) + 1
        lines.append(region[start:end])
        end = start - 1
    lines.reverse()
    return lines


def _decode(line: bytes) -> str:
    return line.decode("utf-8", "replace")


def _lines_after(region: bytes, pos: int, count: int) -> list[bytes]:
    out: list[bytes] = []
    while pos < len(region) and len(out) < count:
        end = region.find(b"\n", pos)
        end = len(region) if end < 0 else end
        out.append(region[pos:end])
        pos = end + 1
    return out


def _lines_before(region: bytes, start: int, count: int) -> list[bytes]:
    out: list[bytes] = []
    end = start - 1
    while end >= 0 and len(out) < count:
        begin = region.rfind(b"\n", 0, end) + 1
        out.append(region[begin:end])
        end = begin - 1
    out.reverse()
    return out


def _regions(stream: BinaryIO, chunk: int) -> Iterator[bytes]:
    """Runs of whole lines, newlines normalised to LF, each ending with LF."""
    carry = b""
    while True:
        data = stream.read(chunk)
        if data and b"\x00" in data:
            raise NotText("NUL bytes")
        buf = carry + data
        if not data:
            if buf:
                yield buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + b"\n"
            return
        tail = b""
        if buf.endswith(b"\r"):  # maybe the first half of a CRLF
            buf, tail = buf[:-1], b"\r"
        buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        cut = buf.rfind(b"\n") + 1
        if cut == 0 and len(buf) > MAX_LINE:  # one endless line: cut it
            buf, cut = buf + b"\n", len(buf) + 1
        carry = buf[cut:] + tail
        if cut:
            yield buf[:cut]


def scan(stream: BinaryIO, prefilter: Prefilter, chunk: int = CHUNK) -> Iterator[Hit]:
    """Every line of ``stream`` holding an anchor, in order, with its context lines."""
    first = 1  # number of the first line of the current region
    back: deque[bytes] = deque(maxlen=CONTEXT)
    pending: list[Hit] = []  # hits still waiting for lines after them
    for region in _regions(stream, chunk):
        if pending:
            head = [_decode(x) for x in _lines_after(region, 0, CONTEXT)]
            for hit in pending:
                hit.after.extend(head[: CONTEXT - len(hit.after)])
            ready = [h for h in pending if len(h.after) >= CONTEXT]
            pending = [h for h in pending if len(h.after) < CONTEXT]
            yield from ready
        low = region.lower()
        seen = -1
        counted, number = 0, first
        for pos in prefilter.positions(low):
            if pos <= seen:
                continue
            start = region.rfind(b"\n", 0, pos) + 1
            end = region.find(b"\n", pos)
            seen = end
            number += region.count(b"\n", counted, start)
            counted = start
            before = _lines_before(region, start, CONTEXT)
            if len(before) < CONTEXT:
                before = list(back)[len(back) - (CONTEXT - len(before)) :] + before
            after = _lines_after(region, end + 1, CONTEXT)
            hit = Hit(
                number,
                _decode(region[start:end]),
                tuple(_decode(x) for x in before),
                [_decode(x) for x in after],
            )
            if len(after) < CONTEXT:
                pending.append(hit)
            else:
                yield hit
        back.extend(_split_tail(region, CONTEXT))
        first += region.count(b"\n")
    yield from pending
