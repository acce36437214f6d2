"""The CLI edge: exit codes, the single error boundary, and no tracebacks."""

from __future__ import annotations

import argparse
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
    has no module) fails here; there is no silent skip at start-up."""
    folder = Path(cli.__file__).parent / "commands"
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    listed = [c.name for c in cli.COMMANDS]
    assert sorted(listed) == sorted(modules)
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == listed  # type: ignore[arg-type]  # --help order


def _command_help(parser: argparse.ArgumentParser, name: str) -> str:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    chosen: argparse.ArgumentParser = sub.choices[name]
    return chosen.format_help()


@pytest.mark.parametrize("command", [c.name for c in cli.COMMANDS])
def test_a_command_parsed_alone_has_the_arguments_of_the_whole_parser(command: str) -> None:
    """Only the command that runs is loaded (cli.build_parser(command)); its own help,
    and so its arguments, are those the whole parser (completion's) gives it."""
    assert _command_help(cli.build_parser(command), command) == _command_help(
        cli.build_parser(), command
    )


def test_the_command_word_skips_the_global_options() -> None:
    assert cli.command_word(["-v", "apply", "x.yaml", "--verify", "import"]) == "apply"
    assert cli.command_word(["--verbose", "--help"]) == ""
    assert cli.command_word(["--", "apply"]) == ""


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


@pytest.mark.parametrize("command", ["validate", "show", "doctor", "lock", "plan", "verify"])
def test_every_profile_command_defaults_to_the_embedded_profile(command: str) -> None:
    args = cli.build_parser().parse_args([command])
    assert args.profile in (None, [])


def test_validate_and_show_without_a_profile_use_the_embedded_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["validate"]) == 0
    assert cli.main(["show", "--json"]) == 0
    assert '"name": "cpu"' in capsys.readouterr().out


def test_verify_with_a_missing_python_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["verify", "--python", "/nonexistent/python"]) == ExitCode.INVALID
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("provision: error: --python /nonexistent/python: no such interpreter")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["apply", "--junit", "{missing_parent}/deeper/r.xml"], "is not a folder"),
        (["apply", "--junit", "{folder}"], "--junit {folder}: is a folder"),
        (["verify", "--junit", "{folder}"], "--junit {folder}: is a folder"),
        (["lock", "-o", "{folder}"], "-o {folder}: is a folder"),
        (["render", "-o", "{file}"], "exists and is not a folder"),
        (["render", "-o", "{file}/sub"], "is not a folder"),
    ],
)
def test_output_paths_are_checked_before_any_work(
    argv: list[str], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    names = {
        "folder": str(tmp_path),
        "file": str(tmp_path / "file"),
        "missing_parent": str(tmp_path / "file"),
    }
    argv = [a.format(**names) for a in argv]
    assert cli.main(argv) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment.format(**names) in err, err


def test_plan_refuses_an_unusable_provision_home_as_apply_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("", encoding="utf-8")
    monkeypatch.setenv("PROVISION_HOME", str(home))
    assert cli.main(["plan", "--skip-checks"]) == ExitCode.NOT_READY
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"provision: error: cannot use {home}: {home} is not a folder")


def test_quiet_means_no_step_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --quiet, plan prints one line per step (stdout is not a terminal here);
    with --quiet only the result line is left."""
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    assert cli.main(["plan", "--skip-checks"]) == 0
    loud = capsys.readouterr()
    assert [ln.split()[0] for ln in loud.out.splitlines()] == [
        "checks",
        "lock",
        "environment",
        "verify",
        "packages:",  # the package diff: shown once a lock exists
        "result:",
    ]
    assert cli.main(["plan", "--skip-checks", "--quiet"]) == 0
    quiet = capsys.readouterr()
    (only,) = quiet.out.splitlines()
    assert only.startswith("result: planned (")
    assert quiet.err == ""


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["aply"], "provision: error: unknown command 'aply' (did you mean 'apply'?)"),
        (["envz"], "provision: error: unknown command 'envz' (did you mean 'envs'?)"),
        (
            ["apply", "--verify", "smok"],
            "provision apply: error: unknown choice 'smok' (did you mean 'smoke'?)",
        ),
    ],
)
def test_a_mistyped_command_or_choice_gets_did_you_mean(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.splitlines()[-1] == line
