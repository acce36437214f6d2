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
from typing import Protocol

CHUNK = 8 << 20
CONTEXT = 4
MAX_LINE = 1 << 20


class Readable(Protocol):
    """A byte stream: a binary file, stdin's buffer, io.BytesIO."""

    def read(self, size: int = -1, /) -> bytes: ...


class NotText(ValueError):
    """The input holds NUL bytes: a binary file, not a captured log."""


class Hit:
    """A line that holds at least one anchor: its number, text, which anchors it holds,
    and (decoded only when a rule asks) up to :data:`CONTEXT` lines around it."""

    __slots__ = ("_back", "_end", "_more", "_region", "_start", "anchors", "number", "text")

    def __init__(
        self,
        number: int,
        text: str,
        anchors: set[int],
        region: bytes,
        start: int,
        end: int,
        back: tuple[bytes, ...],
    ) -> None:
        self.number = number
        self.text = text
        self.anchors = anchors
        self._region = region
        self._start = start
        self._end = end
        self._back = back
        self._more: list[bytes] = []  # lines after it from the next region

    @property
    def before(self) -> tuple[str, ...]:
        lines = _lines_before(self._region, self._start, CONTEXT)
        if len(lines) < CONTEXT:
            lines = list(self._back[len(self._back) - (CONTEXT - len(lines)) :]) + lines
        return tuple(_decode(x) for x in lines)

    @property
    def after(self) -> list[str]:
        lines = _lines_after(self._region, self._end + 1, CONTEXT) + self._more
        return [_decode(x) for x in lines[:CONTEXT]]

    def _missing_after(self) -> int:
        have = len(_lines_after(self._region, self._end + 1, CONTEXT)) + len(self._more)
        return max(0, CONTEXT - have)


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

    def matches(self, low: bytes) -> list[tuple[int, int]]:
        """``(offset, anchor index)`` of every anchor occurrence in ``low``, by offset."""
        if self._ac is not None:
            found = [
                (start, i)
                for i, start, _ in self._ac.find_matches_as_indexes(low, overlapping=True)
            ]
        else:
            found = []
            for i, needle in enumerate(self._needles):
                at = low.find(needle)
                while at >= 0:
                    found.append((at, i))
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


def _regions(stream: Readable, chunk: int) -> Iterator[bytes]:
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


def scan(stream: Readable, prefilter: Prefilter, chunk: int = CHUNK) -> Iterator[Hit]:
    """Every line of ``stream`` holding an anchor, in order."""
    first = 1  # number of the first line of the current region
    back: deque[bytes] = deque(maxlen=CONTEXT)
    pending: list[Hit] = []  # hits still waiting for lines after them
    for region in _regions(stream, chunk):
        if pending:
            head = _lines_after(region, 0, CONTEXT)
            for hit in pending:
                hit._more.extend(head[: hit._missing_after()])
            yield from (h for h in pending if not h._missing_after())
            pending = [h for h in pending if h._missing_after()]
        low = region.lower()
        tail = tuple(back)
        current: Hit | None = None
        counted, number = 0, first
        for pos, anchor in prefilter.matches(low):
            if current is not None and pos < current._end:
                current.anchors.add(anchor)
                continue
            if current is not None:
                if current._missing_after():
                    pending.append(current)
                else:
                    yield current
            start = region.rfind(b"\n", 0, pos) + 1
            end = region.find(b"\n", pos)
            number += region.count(b"\n", counted, start)
            counted = start
            current = Hit(number, _decode(region[start:end]), {anchor}, region, start, end, tail)
        if current is not None:
            if current._missing_after():
                pending.append(current)
            else:
                yield current
        back.extend(_split_tail(region, CONTEXT))
        first += region.count(b"\n")
    yield from pending
