"""Small first-hour fixes in doctor and facts: rows for checks that do not apply are
hidden (``--all`` lists them), native Linux gets no WSL or powershell.exe fixes, the
interpreters are listed once per file, and doctor names the interpreter apply builds
with. Stand-in interpreters (shell scripts) on a PATH of the test's own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.env.venv import find_interpreter

REPO = Path(__file__).resolve().parents[2]


def stand_in_python(folder: Path, name: str, version: str) -> Path:
    """A STAND-IN interpreter: answers ``-V`` and apply's version probe, nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    major_minor = ".".join(version.split(".")[:2])
    exe.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -V ]; then echo "Python {version}"; exit 0; fi\n'
        f'echo {major_minor}; echo "{exe}"\n'
    )
    exe.chmod(0o755)
    return exe


@pytest.fixture
def two_pythons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    first = stand_in_python(tmp_path / "a", "python3.11", "3.11.2")
    second = stand_in_python(tmp_path / "b", "python3.11", "3.11.9")
    (tmp_path / "a" / "python3").symlink_to(first)  # the same file under another name
    pyenv = tmp_path / "pyenv"
    stand_in_python(pyenv / "versions" / "3.11.7" / "bin", "python3.11", "3.11.7")
    monkeypatch.setenv("PATH", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    monkeypatch.setenv("PYENV_ROOT", str(pyenv))
    return first, second


def test_doctor_names_the_interpreter_apply_builds_with(
    two_pythons: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = two_pythons
    main(["doctor", str(REPO / "profiles" / "cpu.yaml")])
    out = capsys.readouterr().out
    chosen = find_interpreter("3.11")
    assert chosen.executable == first
    note = next(line for line in out.splitlines() if line.startswith("note python.available"))
    assert f"apply builds the venv with {first.parent / 'python3'} (Python 3.11.2" in note or (
        f"apply builds the venv with {first} (Python 3.11.2" in note
    )


@pytest.mark.usefixtures("two_pythons")
def test_facts_lists_each_interpreter_file_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facts"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("3.11.2 ") == 1 and "(also" in out
    assert "3.11.9" in out and "3.11.7" in out
    assert '"version"' not in out  # no JSON blob


def test_doctor_hides_checks_that_do_not_apply(capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor", str(REPO / "profiles" / "cpu.yaml")])
    out = capsys.readouterr().out
    assert "os.windows" not in out and "wsl.kernel" not in out
    assert "checks do not apply to this profile (--all lists them)" in out
    main(["doctor", str(REPO / "profiles" / "cpu.yaml"), "--all"])
    everything = capsys.readouterr().out
    assert "os.windows" in everything and "not for target linux" in everything
    assert "do not apply" not in everything


def test_native_linux_fixes_say_nothing_of_wsl_or_powershell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi, no powershell.exe
    main(["doctor", str(REPO / "profiles" / "cuda-linux.yaml")])
    fixes = [
        ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(("unknown", "fail"))
    ]
    assert fixes, "the GPU checks should not pass here"
    text = " ".join(fixes)
    assert "powershell.exe" not in text and "WSL" not in text and "Windows" not in text
    assert "nvidia.smi: Install the NVIDIA driver" in text
    assert os.environ["PATH"] == str(tmp_path)
