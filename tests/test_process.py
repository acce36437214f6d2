"""process.run never leaves a child behind: a program that uses it is interrupted
(SIGINT), killed (SIGKILL) or exits while another thread waits on a child, and the
child (and, where promised, its own children) must be gone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.process import run
from tests.support.processes import as_foreground_job, gone_within
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and uses PR_SET_PDEATHSIG"
)


def wait_for_pids(*files: Path, seconds: float = 30.0) -> list[int]:
    def pids() -> list[int] | None:
        texts = [f.read_text().strip() if f.exists() else "" for f in files]
        return [int(t) for t in texts] if all(texts) else None

    return wait_until(pids, seconds=seconds, what=f"the child to write {files}")


STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_program_outlives_its_test() -> Iterator[None]:
    """Each program a test started is killed (by PID) when the test ends, whether it
    passed, failed or timed out waiting for the program's children."""
    yield
    while STARTED:
        prog = STARTED.pop()
        if prog.poll() is None:
            prog.kill()
        prog.wait(timeout=30)
        for stream in (prog.stdout, prog.stderr):
            if stream is not None:
                stream.close()


def start_program(body: str) -> subprocess.Popen[str]:
    """A Python program that uses provisioner.process.run, in its own session (as a
    terminal's foreground job is), so signals reach only what we aim them at."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    prog = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(body)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_foreground_job,
    )
    STARTED.append(prog)
    return prog


def cleanup(*pids: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_sigint_kills_the_child_and_its_children(tmp_path: Path) -> None:
    child, grand = tmp_path / "child.pid", tmp_path / "grand.pid"
    prog = start_program(
        f"""
        import sys
        from provisioner.process import run
        script = "sleep 300 & echo $! > {grand}; echo $$ > {child}; wait"
        try:
            run(["sh", "-c", script], timeout=600)
        except KeyboardInterrupt:
            sys.exit(130)
        """
    )
    pids = wait_for_pids(child, grand)
    try:
        prog.send_signal(signal.SIGINT)  # the child is in its own session: not reached
        assert prog.wait(timeout=30) == 130, prog.stderr.read() if prog.stderr else ""
        assert gone_within(pids[0]), "the shell run by process.run outlived Ctrl-C"
        assert gone_within(pids[1]), "the shell's own child outlived Ctrl-C"
    finally:
        cleanup(*pids)


def test_sigkill_of_the_parent_takes_the_child(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    prog = start_program(
        f"""
        from provisioner.process import run
        run(["sh", "-c", "echo $$ > {child}; exec sleep 300"], timeout=600)
        """
    )
    (pid,) = wait_for_pids(child)
    try:
        prog.kill()  # SIGKILL: no Python code runs, only the kernel's PR_SET_PDEATHSIG
        assert prog.wait(timeout=30) == -signal.SIGKILL
        assert gone_within(pid), "the child outlived a SIGKILLed parent"
    finally:
        cleanup(pid)


def test_exit_while_another_thread_waits_kills_that_group(tmp_path: Path) -> None:
    """The installer runs in a worker thread beside the progress bar; Ctrl-C ends the
    main thread and the interpreter: the installer's whole group must go too."""
    child, grand = tmp_path / "child.pid", tmp_path / "grand.pid"
    prog = start_program(
        f"""
        import sys, threading, time
        from provisioner.process import run
        script = "sleep 300 & echo $! > {grand}; echo $$ > {child}; wait"
        threading.Thread(
            target=lambda: run(["sh", "-c", script], timeout=600), daemon=True
        ).start()
        try:
            while True:
                time.sleep(0.1)
        except KeyboardInterrupt:
            sys.exit(130)
        """
    )
    pids = wait_for_pids(child, grand)
    try:
        prog.send_signal(signal.SIGINT)
        assert prog.wait(timeout=30) == 130
        assert gone_within(pids[0])
        assert gone_within(pids[1]), "the grandchild outlived the interpreter's exit"
    finally:
        cleanup(*pids)


def test_a_normal_run_still_returns_output_and_code() -> None:
    done = run([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"], check=False)
    assert (done.returncode, done.out.strip()) == (3, "hi")
