"""``provision completion SHELL``: scripts generated from the parser, exercised in real
bash, zsh and fish; PowerShell's is parsed (a stand-in: PowerShell cannot run here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from provisioner.cli import build_parser, main
from provisioner.cli_completion import SHELLS, script
from tests.support.powershell import parse_errors


def needs(shell: str) -> str:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"needs {shell} on PATH (Debian: apt install {shell})")
    return path


def bash_complete(tmp_path: Path, *words: str) -> list[str]:
    source = tmp_path / "provision.bash"
    source.write_text(script("bash", build_parser()))
    line = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {source}\n"
        f"COMP_WORDS=({line}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n"
        '_provision; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        [needs("bash"), "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return [w for w in done.stdout.splitlines() if w]


def test_bash_completes_commands_options_choices_actions_and_profiles(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text("name: t\n")
    assert bash_complete(tmp_path, "provision", "ap") == ["apply"]
    assert bash_complete(tmp_path, "provision", "apply", "--ver") == ["--verify"]
    assert bash_complete(tmp_path, "provision", "apply", "--verify", "") == ["smoke", "import"]
    assert bash_complete(tmp_path, "provision", "apply", "te") == ["team.yaml"]
    assert bash_complete(tmp_path, "provision", "envs", "") == ["remove"]
    assert bash_complete(tmp_path, "provision", "completion", "") == list(SHELLS)
    assert "--upgrade-package" in bash_complete(tmp_path, "provision", "lock", "--")


def test_fish_completes_from_its_script(tmp_path: Path) -> None:
    fish = needs("fish")
    source = tmp_path / "provision.fish"
    source.write_text(script("fish", build_parser()))
    program = f"source {source}; complete -C 'provision ru'; complete -C 'provision shell --shell '"
    done = subprocess.run([fish, "-c", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    got = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert got[0] == "run" and {"bash", "zsh", "fish", "powershell"} <= set(got[1:])


def test_zsh_loads_the_script_and_registers_provision(tmp_path: Path) -> None:
    zsh = needs("zsh")
    source = tmp_path / "provision.zsh"
    source.write_text(script("zsh", build_parser()))
    program = f"source {source} && print -r -- ${{_comps[provision]}}"
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([zsh, "-f", "-c", program], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "_provision" in done.stdout


def test_powershell_script_parses_and_lists_every_command() -> None:
    text = script("powershell", build_parser())
    assert parse_errors(text) == []
    assert "Register-ArgumentCompleter -Native -CommandName provision" in text
    for command in ("apply", "run", "shell", "envs", "completion"):
        assert f"'{command}' = @(" in text


def test_a_new_command_and_option_appear_in_every_script() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    extra = sub.add_parser("frobnicate", help="a command added later")  # type: ignore[attr-defined]
    extra.add_argument("--zap-level", choices=("low", "high"))
    for shell in SHELLS:
        text = script(shell, parser)
        assert "frobnicate" in text and "zap-level" in text, shell


def test_the_command_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    assert capsys.readouterr().out == script("bash", build_parser())
    assert main(["completion", "tcsh"]) == 2
