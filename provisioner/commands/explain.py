"""`provision explain FILE|-`: name the known failure signatures in a log.

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
import json
from pathlib import Path
from typing import Any

TARGET_CHOICES = ("wsl2", "linux", "windows")


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "explain", help="recognise known failure signatures in a log (FILE or - for stdin)"
    )
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


def _read(log: str) -> str:
    from provisioner.errors import ProvisionError
    from provisioner.inputs import LOG, read_input

    name = "stdin" if log == "-" else log
    # A regular file (or stdin) of at most LOG.cap bytes: a FIFO, /dev/zero or a
    # folder is one line and exit 2, never a hang or a MemoryError.
    raw = read_input(log, LOG, stdin=True)
    text = log_text(raw)
    if text is None:
        raise ProvisionError(
            f"{name}: not a text log (NUL or binary bytes)",
            hint="pass the captured text output (a .txt or .log file), not a binary file",
        )
    return text


def explain(
    *,
    log: str,
    json_out: bool = False,
    target: str | None = None,
    profile: str | Path | None = None,
) -> int:
    """Print each recognised signature with its meaning and fix; 1 if one is a failure."""
    from provisioner.signatures import match_log, verdict_class

    if profile is not None:
        from provisioner.profile import load_profile

        target = load_profile(profile).profile.target.os.value
    text = _read(log)
    matches = match_log(text)
    verdict = verdict_class(matches)
    if json_out:
        out = {
            "verdict": verdict,
            "target": target,
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
