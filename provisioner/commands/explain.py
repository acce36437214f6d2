"""`provision explain FILE|-`: name the known failure signatures in a log, and its cause.

The log is streamed (a 120 MB training log is read in 8 MB chunks, never whole) and
diagnosed in one pass (:mod:`provisioner.diagnosis`): catalogue signatures and the
diagnosis families. With several findings, ``cause:`` names the one that explains
the others (a WSL 1 kernel string over "no NVIDIA driver").

The log's verdict class is the worst severity among its matches: ``failure`` (a fail
signature), ``warning``, ``benign`` (only known harmless noise) or ``none``. Exit 1 for
a failure, 0 otherwise, so a CI step can gate on it.

Fixes depend on where the log came from: ``--target wsl2|linux|windows`` (or
``--profile P``, whose ``target.os`` is used) prints the fix for that target, commands
included. Without either, a fix that would damage some target (removing a driver
package, which on native Linux removes the driver the host needs) is only described.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from provisioner.logscan import Readable

TARGET_CHOICES = ("wsl2", "linux", "windows")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("log", help="log file, or - to read stdin")
    p.add_argument("--json", action="store_true", help="print the matches as JSON")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--target", choices=TARGET_CHOICES, help="where the log came from: picks the fix"
    )
    where.add_argument("--profile", help="a profile whose target.os picks the fix")
    p.set_defaults(
        run=lambda a: explain(log=a.log, json_out=a.json, target=a.target, profile=a.profile)
    )


# UTF-16 logs (what wsl.exe writes) are small; they are read whole up to this size.
_UTF16_MAX = 64 << 20
_SNIFF = 64 << 10


class _Chained:
    """The bytes already read to sniff the encoding, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            return out
        return self._rest.read(size)


def _not_text(name: str) -> Exception:
    from provisioner.errors import ProvisionError

    return ProvisionError(
        f"{name}: not a text log (NUL or binary bytes)",
        hint="pass the captured text output (a .txt or .log file), not a binary file",
    )


def _open(log: str, stack: contextlib.ExitStack[bool | None]) -> Readable:
    """The log as a byte stream (UTF-8 or a legacy code page), read lazily through the
    bounded input reader (a regular file or stdin, at most ``inputs.LOG.cap`` bytes: a
    FIFO or /dev/zero is one line and exit 2). UTF-16 input is decoded and re-encoded."""
    from provisioner.inputs import LOG, open_input

    name = "stdin" if log == "-" else log
    stream = stack.enter_context(open_input(log, LOG, stdin=True))
    head = stream.read(_SNIFF)
    wide = head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        b"\x00" in head and head.count(b"\x00") * 3 >= len(head)
    )
    if wide:
        data = head + stream.read(_UTF16_MAX)
        text = log_text(data)
        if text is None:
            raise _not_text(name)
        return io.BytesIO(text.encode("utf-8", "surrogatepass"))
    if log_text(head) is None:
        raise _not_text(name)
    return _Chained(head, stream)


def explain(
    *,
    log: str,
    json_out: bool = False,
    target: str | None = None,
    profile: str | Path | None = None,
) -> int:
    """Print each recognised signature with its meaning and fix; 1 if one is a failure."""
    from provisioner.diagnosis import diagnose
    from provisioner.logscan import NotText
    from provisioner.signatures import verdict_class

    if profile is not None:
        from provisioner.profile import load_profile

        target = load_profile(profile).profile.target.os.value
    with contextlib.ExitStack() as stack:
        stream = _open(log, stack)
        try:
            result = diagnose(stream)
        except NotText:
            raise _not_text("stdin" if log == "-" else log) from None
    matches = list(result.matches)
    verdict = verdict_class(matches)
    cause = result.cause
    if json_out:
        out = {
            "verdict": verdict,
            "target": target,
            "cause": None if cause is None else cause.signature.id,
            "matches": [m.as_json(target) for m in matches],
        }
        print(json.dumps(out, indent=2))
    else:
        if not matches:
            print("no known signature found")
        for m in matches:
            s = m.signature
            print(f"line {m.line}: {s.severity}: {s.id}: {m.excerpt}")
            print(f"  meaning: {s.meaning}")
            label = f"fix ({target})" if target is not None and target in s.fixes else "fix"
            print(f"  {label}: {s.fix_for(target)}")
        if cause is not None and len(matches) > 1:
            print(f"cause: {cause.signature.id} (line {cause.line})")
        print(f"verdict: {verdict}")
    return 1 if verdict == "failure" else 0


# Control bytes a text log may hold: tab, newlines, form feed, backspace, ANSI escape.
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0b\x0c\x08\x1b")


def _mostly_text(text: str) -> bool:
    """No NUL, and (almost) no control characters beyond those logs carry."""
    if "\x00" in text:
        return False
    controls = sum(1 for c in text if ord(c) < 32 and ord(c) not in _TEXT_CONTROLS)
    return controls * 100 <= len(text)


def log_text(data: bytes) -> str | None:
    """The text of a captured log, or None when the bytes are not text.

    UTF-8 (with or without BOM) and UTF-16 (wsl.exe writes UTF-16LE, often without a
    BOM) are decoded strictly; a log in a legacy code page (no NUL, few control bytes)
    is decoded with replacement characters, as before. NUL bytes that are not UTF-16,
    or many control bytes, mean a binary file, which would only ever "match nothing".
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
        return text if _mostly_text(text) else None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
    if b"\x00" in data and len(data) % 2 == 0:
        try:
            wide = data.decode("utf-16-le")
        except UnicodeDecodeError:
            return None
        return wide if _mostly_text(wide) else None
    return text if _mostly_text(text) else None
