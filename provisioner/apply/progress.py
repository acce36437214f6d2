"""What plan and apply show while they run: one line per step on stderr, with a
spinner while a step changes something. Quiet with ``--quiet``, when ``CI=true`` or
when stderr is not a terminal; rich honours ``NO_COLOR``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from provisioner.apply.run import StepRecord

SYMBOLS = {"ok": "ok", "change": "change", "fail": "FAIL", "skipped": "skipped"}


def want_quiet(quiet: bool) -> bool:
    """``--quiet``, ``CI=true`` or a non-terminal stderr all mean quiet."""
    return quiet or os.environ.get("CI", "").lower() in {"1", "true"} or not sys.stderr.isatty()


class Progress:
    """Step lines and a spinner (rich) unless quiet; failures are printed even when quiet."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self._console: Any = None
        self._status: Any = None
        if not quiet:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)

    def start(self, step: str) -> None:
        pass

    def changing(self, step: str, reason: str) -> None:
        if self._console is not None:
            self._status = self._console.status(f"{step}: {reason}", spinner="dots")
            self._status.start()

    def done(self, record: StepRecord, *, planned: bool) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        status = record.outcome.status
        if status == "change" and planned:
            label = "will change"
        elif status == "change":
            label = "changed"
        else:
            label = SYMBOLS[status]
        line = f"{record.name:<12} {label:<12} {record.outcome.reason} ({record.duration_s:.2f}s)"
        if self._console is not None:
            style = {"fail": "bold red", "change": "yellow", "ok": "green"}.get(status, "")
            self._console.print(line, style=style, markup=False)
        elif status == "fail":
            print(f"provision: {record.name}: {record.outcome.reason}", file=sys.stderr)
