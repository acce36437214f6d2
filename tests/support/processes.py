"""Reading /proc in tests that check no child process outlives the one that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from tests.support.waiting import within


def alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it runs no code and counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone_within(pid: int, seconds: float = 10.0) -> bool:
    """Whether ``pid`` stops running within ``seconds`` (polled, bounded)."""
    return within(lambda: not alive(pid), seconds)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def kill_tree(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the child and every process it started (as a power cut or a cancelled CI
    job does): installers run in their own process groups, so walk /proc."""
    pids = [proc.pid]
    i = 0
    while i < len(pids):
        pids += children(pids[i])
        i += 1
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)


def as_foreground_job() -> None:
    """``preexec_fn``: SIGINT and SIGQUIT at their defaults in the child, as in a terminal's
    foreground job (what a Ctrl-C test stands for). A shell without job control starts
    background commands (``cmd &``, nohup, some CI wrappers) with both ignored, the child
    inherits that, and a Python started so never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
