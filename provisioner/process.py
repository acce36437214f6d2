"""The single subprocess wrapper: every external command goes through :func:`run`.

It logs the command (``shlex.join``), applies a timeout, and raises
:class:`CommandFailed` showing the command, the exit code and the tail of the
output. Timeouts kill the whole process group, so a hung child never hangs us.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError

log = logging.getLogger("provisioner.process")

TAIL_CHARS = 2000


@dataclass(frozen=True)
class Completed:
    """What a finished command left behind."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool = False

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def tail(self, chars: int = TAIL_CHARS) -> str:
        text = (self.out + ("\n" if self.out and self.err else "") + self.err).strip()
        return text[-chars:]


class CommandFailed(ProvisionError):
    """A command exited non-zero or timed out."""

    exit_code = ExitCode.NOT_READY

    def __init__(self, result: Completed, *, hint: str | None = None) -> None:
        self.result = result
        what = "timed out" if result.timed_out else f"exited {result.returncode}"
        tail = result.tail(400).replace("\n", " | ")
        super().__init__(f"`{shlex.join(result.argv)}` {what}: {tail}", hint=hint)


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    stdin: bytes | None = None,
    hint: str | None = None,
) -> Completed:
    """Run ``argv`` to completion with a timeout, capturing stdout and stderr.

    With ``check=True`` a non-zero exit or a timeout raises :class:`CommandFailed`.
    A missing executable raises :class:`FileNotFoundError` so callers (the host probe)
    can tell "absent" from "failed".
    """
    args = tuple(os.fspath(a) for a in argv)
    log.debug("run: %s", shlex.join(args))
    start = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,  # own process group: a timeout kills grandchildren too
    )
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
    result = Completed(
        args, proc.returncode, out, err, time.monotonic() - start, timed_out=timed_out
    )
    log.debug("exit %s after %.2fs: %s", result.returncode, result.duration_s, shlex.join(args))
    if check and (timed_out or result.returncode != 0):
        raise CommandFailed(result, hint=hint)
    return result


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
