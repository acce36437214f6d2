"""The error types a user can act on, and the exit codes of the CLI.

Every user-fixable failure is a :class:`ProvisionError`. It is caught once, at the
CLI edge (``provisioner.cli``), and printed as one line per diagnostic: a
positioned one as ``FILE:LINE:COL: error: ...`` at the start of the line, one
without a position as ``provision: error: ...``. Anything
else is a bug: exit 3 with a log file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class ExitCode(enum.IntEnum):
    OK = 0
    NOT_READY = 1  # host not ready, or verification failed
    INVALID = 2  # invalid input or usage
    INTERNAL = 3  # a bug: one line plus a log path


@dataclass(frozen=True)
class Position:
    """A place in a file: 1-based line and column, as editors and compilers count."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem, printed like a compiler does: ``file:line:col: error: path: message``."""

    message: str
    position: Position | None = None
    path: str = ""  # dotted location in the profile, e.g. ``environment.python``
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        what = f"{self.path}: " if self.path else ""
        return f"{where}{self.severity}: {what}{self.message}"

    def printed(self) -> str:
        """The line the CLI prints: ``FILE:LINE:COL: error: ...`` at the start of the line
        (as gcc, ruff and mypy do, so editors' problem matchers pick it up), or
        ``provision: error: ...`` when there is no position."""
        return str(self) if self.position else f"provision: {self}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.position.file if self.position else None,
            "line": self.position.line if self.position else None,
            "col": self.position.col if self.position else None,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


class ProvisionError(Exception):
    """An error the user can fix: a message, an optional position and a hint."""

    exit_code: ExitCode = ExitCode.INVALID

    def __init__(
        self,
        message: str,
        *,
        position: Position | None = None,
        hint: str | None = None,
        exit_code: ExitCode | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def lines(self) -> list[str]:
        where = f"{self.position}: " if self.position else ""
        hint = f" (fix: {self.hint})" if self.hint else ""
        return [f"{where}error: {self.message}{hint}"]

    def printed(self) -> list[str]:
        """The lines the CLI prints (see :meth:`Diagnostic.printed`)."""
        return [line if self.position else f"provision: {line}" for line in self.lines()]


class ValidationFailed(ProvisionError):
    """One or more profile diagnostics; all of them are reported, not only the first."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(
            diagnostics,
            key=lambda d: (
                d.position.file if d.position else "",
                d.position.line if d.position else 0,
                d.position.col if d.position else 0,
            ),
        )
        first = str(self.diagnostics[0]) if self.diagnostics else "invalid profile"
        super().__init__(first, exit_code=ExitCode.INVALID)

    def lines(self) -> list[str]:
        return [str(d) for d in self.diagnostics]

    def printed(self) -> list[str]:
        return [d.printed() for d in self.diagnostics]


class HostNotReady(ProvisionError):
    """The host fails a check, or the smoke test failed: exit 1."""

    exit_code = ExitCode.NOT_READY


class ExternalFailure(ProvisionError):
    """A tool or network step failed for a reason outside the profile (offline, disk full,
    hash mismatch). Exit 1 with the cause and a fix."""

    exit_code = ExitCode.NOT_READY


def relpath(path: Path) -> str:
    """A path as the user typed it where possible: relative to the cwd if below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # not below the cwd; a symlink loop (3.10-3.12)
        return str(path)
