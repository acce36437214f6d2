"""``provision run`` and ``provision shell`` on a real venv environment; after every
apply, one line says how to enter it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.enter import Ready, shell_command
from tests.daily.conftest import WHEELS, Team
from tests.pypi_index import build_wheel
from tests.support.powershell import parse_errors

SHOW = (
    "import os, sys; print(sys.prefix); print(os.environ.get('VIRTUAL_ENV')); "
    "print(os.environ.get('TEAM_DEVICE')); sys.exit(int(sys.argv[1]))"
)


def test_run_before_apply_says_to_apply(team: Team) -> None:
    done = team("run", "team.yaml", "--", "python", "-V")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"provision: error: environment team not found at {team.home / 'envs' / 'team'} "
        "(fix: run `provision apply team.yaml` to build it)"
    )


def test_apply_says_how_to_enter_and_run_uses_the_environment(team: Team) -> None:
    applied = team.apply(team.team)
    lines = applied.stdout.splitlines()
    assert lines[-2] == "enter it: provision shell " + str(team.team) + (
        f"  (or: provision run {team.team} -- CMD)"
    )
    assert lines[-1].startswith("report: ")
    done = team("run", "team.yaml", "--", "python", "-c", SHOW, "7")
    assert done.returncode == 7, done.stderr  # the exit code passes through
    prefix = str(team.home / "envs" / "team")
    assert done.stdout.splitlines() == [prefix, prefix, "cpu:0"]
    assert done.stderr == ""
    tabulate = team("run", "team.yaml", "--", "python", "-c", "import tabulate")
    assert tabulate.returncode == 0, tabulate.stderr


def test_run_arguments_pass_through_untouched(team: Team) -> None:
    team.apply(team.team)
    argv = ["--", "-x", "a b", "$HOME", "--", "'q'"]
    code = "import sys, json; print(json.dumps(sys.argv[1:]))"
    done = team("run", "team.yaml", "--", "python", "-c", code, *argv)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == argv


def test_run_errors_are_one_line(team: Team) -> None:
    no_dashes = team("run", "team.yaml", "python")
    assert no_dashes.returncode == 2
    assert no_dashes.stderr.startswith("provision: error: no command: put it after `--`")
    team.apply(team.team)
    missing = team("run", "team.yaml", "--", "no-such-tool-xyz")
    assert missing.returncode == 127
    assert missing.stderr.strip().splitlines() == [
        "provision: error: no-such-tool-xyz: command not found in environment team or on "
        "PATH (fix: add the package that provides it: provision add -p PROFILE NAME)"
    ]
    killed = team("run", "team.yaml", "--", "python", "-c", "import os; os.kill(os.getpid(), 15)")
    assert killed.returncode == 128 + 15


def test_an_unverified_environment_is_refused_with_the_fix(team: Team) -> None:
    team.apply(team.team)
    path = team.home / "state" / "team.json"
    state = json.loads(path.read_text())
    path.write_text(json.dumps({**state, "phase": "built", "verification": None}))
    done = team("run", "team.yaml", "--", "python", "-V")
    assert done.returncode == 1
    assert "environment team at" in done.stderr and "is not verified (state: built)" in done.stderr
    assert "(fix: run `provision apply team.yaml`: it finishes the build" in done.stderr


def test_pip_inside_the_environment_installs_into_it(team: Team, tmp_path: Path) -> None:
    """The venv has its own pip (seeded from the interpreter's ensurepip), so `pip
    install` inside it never goes to a global Python; the next diff ignores the seed."""
    team.apply(team.team)
    version = team("run", "team.yaml", "--", "python", "-m", "pip", "--version")
    assert version.returncode == 0, version.stderr
    assert str(team.home / "envs" / "team") in version.stdout
    wheel = build_wheel(next(w for w in WHEELS if w.name == "six"), tmp_path / "w")
    done = team("run", "team.yaml", "--", "pip", "install", "-q", "--no-index", str(wheel))
    assert done.returncode == 0, done.stderr
    site = next((team.home / "envs" / "team").glob("lib/python3*/site-packages"))
    assert (site / "six.py").is_file()
    plan = team("plan", "team.yaml", "--json", "--skip-checks")
    env_step = next(s for s in json.loads(plan.stdout)["steps"] if s["name"] == "environment")
    assert "pip:pip" not in json.dumps(env_step)


def shell_env(team: Team, home: Path) -> dict[str, str]:
    """The test's environment with a HOME whose startup files put a fake `python` first
    on PATH, as pyenv's or conda's init does."""
    fake = home / "fake-bin"
    fake.mkdir(parents=True)
    (fake / "python").write_text("#!/bin/sh\necho fake-python\n")
    (fake / "python").chmod(0o755)
    line = f'export PATH="{fake}:$PATH"\n'
    (home / ".bashrc").write_text(line)
    (home / ".zshrc").write_text(line)
    (home / ".config" / "fish").mkdir(parents=True)
    (home / ".config" / "fish" / "config.fish").write_text(f"set -gx PATH {fake} $PATH\n")
    env = dict(team.env)
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    return env


SCRIPT = {
    "bash": 'echo "env=$VIRTUAL_ENV dev=$TEAM_DEVICE"; python -c "import sys; print(sys.prefix)"; '
    "exit 3\n",
    "zsh": 'echo "env=$VIRTUAL_ENV dev=$TEAM_DEVICE"; python -c "import sys; print(sys.prefix)"; '
    "exit 3\n",
    "fish": 'echo "env=$VIRTUAL_ENV dev=$TEAM_DEVICE"; python -c "import sys; print(sys.prefix)"; '
    "exit 3\n",
}


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_shell_starts_the_users_shell_activated_after_its_startup_files(
    team: Team, tmp_path: Path, kind: str
) -> None:
    executable = shutil.which(kind)
    if executable is None:
        pytest.skip(f"needs {kind} on PATH (Debian: apt install {kind})")
    team.apply(team.team)
    env = shell_env(team, tmp_path / "home")
    env["SHELL"] = executable
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "shell", "team.yaml"],
        input=SCRIPT[kind],
        capture_output=True,
        text=True,
        env=env,
        cwd=team.folder,
        timeout=120,
    )
    prefix = team.home / "envs" / "team"
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert f"env={prefix} dev=cpu:0" in done.stdout, done.stdout
    assert str(prefix) in done.stdout.splitlines() and "fake-python" not in done.stdout
    assert f"entering environment team ({prefix})" in done.stderr


def test_powershell_activation_parses_and_sets_the_environment(tmp_path: Path) -> None:
    """PowerShell cannot run here: the -Command that `provision shell` gives it is parsed
    with tree-sitter-powershell (a stand-in for running it) and read."""
    ready = Ready("team", Path("C:/envs/team's"), "venv", {"TEAM_DEVICE": "cpu:0"})
    launch = shell_command(ready, "powershell", "pwsh", {"Path": "C:/Windows"}, tmp_path)
    assert launch.argv[:4] == ["pwsh", "-NoExit", "-NoLogo", "-Command"]
    init = launch.argv[4]
    assert parse_errors(init) == []
    assert "$env:VIRTUAL_ENV = 'C:/envs/team''s'" in init
    assert "$env:TEAM_DEVICE = 'cpu:0'" in init
    assert "$env:Path = 'C:/envs/team''s" in init


def test_run_default_profile_names_the_embedded_one(team: Team) -> None:
    """Without a profile, run enters the embedded default's environment (cpu)."""
    env = dict(team.env)
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "run", "--", "python", "-V"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert "environment cpu not found" in done.stderr
    assert "(fix: run `provision apply` to build it)" in done.stderr
    assert os.environ.get("VIRTUAL_ENV") != str(team.home / "envs" / "cpu")
