"""The CLI edge: exit codes, the single error boundary, and no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provisioner import cli
from provisioner.errors import ExitCode


def test_version_and_help_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert "provision" in capsys.readouterr().out
    assert cli.main(["--help"]) == 0


def test_usage_error_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["no-such-command"]) == ExitCode.INVALID
    assert cli.main([]) == ExitCode.INVALID


def test_every_command_module_is_registered_under_its_name() -> None:
    """A command module that is not listed in cli.COMMANDS (or a listed one that
    registers another name) fails here; there is no silent skip at start-up."""
    folder = Path(cli.__file__).parent / "commands"
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    listed = [m.__name__.rsplit(".", 1)[1] for m in cli.COMMANDS]
    assert sorted(listed) == sorted(modules)
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == listed  # type: ignore[arg-type]  # --help order


def test_a_bug_is_one_line_and_a_log_with_version_and_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Force an unexpected exception inside a real command to exercise the boundary.
    import provisioner.commands.validate as validate

    def boom(*_a: object, **_k: object) -> int:
        raise RuntimeError("kaboom\n  in line 2\n    ^ here")

    monkeypatch.setattr(validate, "validate", boom)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    code = cli.main(["validate", "whatever.yaml"])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERNAL
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "internal error: RuntimeError: kaboom" in lines[0]
    assert "Traceback" not in err
    log = Path(lines[0].rsplit("details in ", 1)[1].rstrip(")"))
    assert log.parent == tmp_path / "provision" / "logs"
    text = log.read_text()
    assert "provision 0." in text and "Traceback" in text and "kaboom" in text
    assert "in line 2" in text  # the whole message is in the log, only its first line on screen


def test_closed_pipe_is_not_an_internal_error(repo: Path) -> None:
    proc = subprocess.run(
        f"{sys.executable} -m provisioner show --origin "
        "profiles/examples/vision-team.yaml | head -1",
        shell=True,
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.count("\n") == 1
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_is_one_line_with_a_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import provisioner.commands.validate as validate

    def interrupted(*_a: object, **_k: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "validate", interrupted)
    assert cli.main(["validate", "x.yaml"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted" in err and "fix:" in err
