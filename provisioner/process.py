"""The single subprocess wrapper: every external command goes through :func:`run`.

It logs the command (``shlex.join``), applies a timeout, and raises
:class:`CommandFailed` showing the command, the exit code and the tail of the
output. Timeouts kill the whole process group, so a hung child never hangs us.

A child never outlives us: an interrupt (Ctrl-C, ``SystemExit``) while we wait kills
its process group before re-raising, and on Linux the child gets ``SIGKILL`` when
we die, even by ``SIGKILL`` (``PR_SET_PDEATHSIG``), so an installer cannot keep
writing into a prefix that the next apply removes.
"""

from __future__ import annotations

import atexit
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import ExitCode, ProvisionError


def _debug(message: str, *args: object) -> None:
    """Log at debug level when logging is in use (``--verbose`` configures it): a run
    that never imported logging has no handler that would show it, so importing it here
    (~5 ms a run) would buy nothing."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("provisioner.process").debug(message, *args)


TAIL_CHARS = 2000
REAP_WAIT_S = 5.0  # how long an interrupted run waits for its killed children to go

_running: set[subprocess.Popen[bytes]] = set()  # children still running, for atexit
_running_guard = threading.Lock()


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
        """The last ``chars`` characters of stdout then stderr, one newline between them
        (no blank line: a failure's message joins the lines with " | ")."""
        text = "\n".join(part.strip() for part in (self.out, self.err) if part.strip())
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
    return start(argv, env=env, cwd=cwd, stdin=stdin is not None).finish(
        timeout=timeout, check=check, stdin=stdin, hint=hint
    )


def start(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bool = False,
) -> Running:
    """Start ``argv`` and return at once: :meth:`Running.finish` waits for it (with a
    timeout) as :func:`run` does, :meth:`Running.stop` kills it. Work that runs beside
    ours (the drift check's stat scan) starts here."""
    args = tuple(os.fspath(a) for a in argv)
    _debug("start: %s", shlex.join(args))
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,  # own process group: a timeout kills grandchildren too
        preexec_fn=_die_with_parent(),
    )
    with _running_guard:
        _running.add(proc)
    return Running(args, proc, time.monotonic())


@dataclass(frozen=True, eq=False)
class Running:
    """A command started by :func:`start` and not yet waited for."""

    argv: tuple[str, ...]
    proc: subprocess.Popen[bytes]
    started: float

    def finish(
        self,
        *,
        timeout: float = 60.0,
        check: bool = True,
        stdin: bytes | None = None,
        hint: str | None = None,
    ) -> Completed:
        """Wait for the command (killed, with its group, after ``timeout`` seconds from
        now); ``check`` as :func:`run`."""
        proc, args = self.proc, self.argv
        timed_out = False
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        except BaseException:  # Ctrl-C or SystemExit while waiting: take the children along
            _kill_group(proc)
            _reap(proc)
            raise
        finally:
            with _running_guard:
                _running.discard(proc)
        result = Completed(
            args, proc.returncode, out, err, time.monotonic() - self.started, timed_out=timed_out
        )
        _debug("exit %s after %.2fs: %s", result.returncode, result.duration_s, shlex.join(args))
        if check and (timed_out or result.returncode != 0):
            raise CommandFailed(result, hint=hint)
        return result

    def stop(self) -> None:
        """Kill the command and its group if it still runs, and reap it (bounded)."""
        try:
            if self.proc.poll() is None:
                _kill_group(self.proc)
            _reap(self.proc)
            for pipe in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
                if pipe is not None:
                    pipe.close()
        finally:
            with _running_guard:
                _running.discard(self.proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            proc.kill()


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) until the killed child and the rest of its group are gone, so
    nothing of theirs still writes when the caller cleans up."""
    deadline = time.monotonic() + REAP_WAIT_S
    try:
        proc.wait(timeout=REAP_WAIT_S)
    except subprocess.TimeoutExpired:
        return
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # a member left (or a zombie not yet reaped by init)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a ``preexec_fn`` that has the kernel SIGKILL the child when the thread
    that started it dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = _libc_prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def in_child() -> None:
        prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return in_child


_prctl: list[Callable[[int, int], int] | None] = []


def _libc_prctl() -> Callable[[int, int], int] | None:
    """libc's ``prctl``, loaded once in the parent (never in the forked child)."""
    if not _prctl:
        try:
            import ctypes

            fn: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
            _prctl.append(fn)
        except (OSError, AttributeError):
            _prctl.append(None)
    return _prctl[0]


@atexit.register
def _kill_running() -> None:
    """At interpreter exit, kill the groups of children that other threads still wait
    on (an installer run beside a progress bar when Ctrl-C ended the main thread)."""
    with _running_guard:
        left = list(_running)
    for proc in left:
        _kill_group(proc)
