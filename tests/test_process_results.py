"""What process.run hands back and raises: output, exit codes, timeouts, stdin, env, cwd,
and the one-line failure a user reads (command, exit code, tail of the output, fix)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from provisioner.errors import ExitCode
from provisioner.process import CommandFailed, Completed, run
from tests.support.processes import gone_within

PY = sys.executable


def python(code: str) -> list[str]:
    return [PY, "-c", code]


@pytest.mark.parametrize(
    ("code", "returncode", "out", "err"),
    [
        ("print('hi')", 0, "hi\n", ""),
        ("import sys; sys.stderr.write('warn\\n'); sys.exit(4)", 4, "", "warn\n"),
        ("import os; os.write(1, b'caf\\xe9\\n')", 0, "caf\ufffd\n", ""),  # not UTF-8
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", -15, "", ""),
    ],
    ids=["ok", "exit-4", "bad-bytes", "killed"],
)
def test_run_returns_code_and_both_streams(code: str, returncode: int, out: str, err: str) -> None:
    done = run(python(code), check=False)
    assert (done.returncode, done.out, done.err, done.timed_out) == (returncode, out, err, False)
    assert done.argv == (PY, "-c", code)


def test_stdin_env_and_cwd_reach_the_child(tmp_path: Path) -> None:
    code = "import os, sys; print(sys.stdin.read().upper(), os.environ['ONLY'], os.getcwd())"
    done = run(python(code), stdin=b"data", env={"ONLY": "this"}, cwd=tmp_path)
    assert done.out.split() == ["DATA", "this", str(tmp_path)]


def test_env_replaces_the_environment_rather_than_adding_to_it() -> None:
    os.environ.setdefault("PROVISION_TEST_MARKER", "1")
    done = run(python("import os; print(sorted(os.environ))"), env={"A": "1"})
    assert "PROVISION_TEST_MARKER" not in done.out and "'A'" in done.out


def test_paths_are_accepted_as_arguments(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("print('from a Path')", encoding="utf-8")
    assert run([Path(PY), script]).out == "from a Path\n"


def test_a_missing_executable_is_file_not_found_not_a_failure(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run([str(tmp_path / "no-such-tool"), "--version"])


def test_a_failure_is_one_line_with_command_code_tail_and_fix() -> None:
    code = "import sys; print('step 1'); print('step 2'); sys.stderr.write('boom\\n'); sys.exit(2)"
    with pytest.raises(CommandFailed) as info:
        run(python(code), hint="install the missing package")
    error = info.value
    assert error.exit_code == ExitCode.NOT_READY
    (line,) = error.printed()
    assert line.startswith(f"provision: error: `{PY} -c ")
    assert "` exited 2: step 1 | step 2 | boom (fix: install the missing package)" in line
    assert error.result.returncode == 2


def test_a_failure_shows_only_the_end_of_a_long_output() -> None:
    with pytest.raises(CommandFailed) as info:
        run(python("import sys; print('x' * 5000); print('the cause'); sys.exit(1)"))
    message = info.value.message
    assert message.endswith("the cause") and len(message) < 600


@pytest.mark.timeout(60)
def test_a_timeout_kills_the_child_and_its_children(tmp_path: Path) -> None:
    """The child starts a grandchild and both would sleep for a minute; the timeout
    kills the whole group, and the result says it timed out."""
    pid_file = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    done = run(["sh", "-c", script], timeout=1.0, check=False)
    assert done.timed_out and done.returncode == -9
    assert gone_within(int(pid_file.read_text())), "the grandchild outlived the timeout"


@pytest.mark.timeout(60)
def test_a_timeout_with_check_raises_timed_out_with_what_was_printed() -> None:
    code = "import time; print('started', flush=True); time.sleep(60)"
    with pytest.raises(CommandFailed) as info:
        run(python(code), timeout=1.0)
    assert "` timed out: started" in info.value.message
    assert info.value.result.timed_out


@pytest.mark.parametrize(
    ("stdout", "stderr", "chars", "tail"),
    [
        (b"out\n", b"err\n", 100, "out\nerr"),  # no blank line between the streams
        (b"a\n\nb\n", b"", 100, "a\n\nb"),  # the output's own lines are kept
        (b"", b"only err\n", 100, "only err"),
        (b"only out\n", b"", 100, "only out"),
        (b"abcdef", b"", 3, "def"),
        (b"  \n", b"\n", 100, ""),
    ],
)
def test_tail_joins_both_streams_and_keeps_the_end(
    stdout: bytes, stderr: bytes, chars: int, tail: str
) -> None:
    done = Completed(("x",), 1, stdout, stderr, 0.0)
    assert done.tail(chars) == tail
