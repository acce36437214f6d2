"""The README's short tour runs as written: every file it names exists, every line
parses with the real CLI, and the commands that need no network, GPU or build
(validate, show, render, doctor, explain) run with the exit code the tour implies.
lock, plan, apply and verify build or download, so they are only parsed here; the
apply tests run them for real."""

from __future__ import annotations

import glob
import re
import shlex
from pathlib import Path

import pytest

from provisioner import cli

REPO = Path(__file__).resolve().parent.parent
RUNS = {"validate": (0,), "show": (0,), "render": (0,), "doctor": (0, 1), "explain": (0, 1)}


def tour() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("## A short tour", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [ln.split("  #", 1)[0].strip() for ln in block.splitlines() if ln.strip()]
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith("provision ")]


def expand(argv: list[str]) -> list[str]:
    out: list[str] = []
    for arg in argv:
        out += sorted(glob.glob(arg)) if any(c in arg for c in "*?[") else [arg]
    return out


def test_tour_names_only_files_that_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = tour()
    assert len(commands) >= 9
    monkeypatch.chdir(REPO)
    for argv in commands:
        for arg in argv:
            if re.search(r"\.(yaml|yml|txt|log)$", arg) or ("/" in arg and not arg.endswith("/")):
                assert expand([arg]), f"README tour names a missing file: {arg}"


@pytest.mark.parametrize("argv", tour(), ids=lambda a: a[0])
def test_tour_line_runs_as_written(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    argv = expand(argv)
    args = cli.build_parser().parse_args(argv)  # every line is a valid command line
    assert args.command == argv[0]
    if argv[0] not in RUNS:
        return
    if "-o" in argv:  # render into tmp, not into the repository
        argv[argv.index("-o") + 1] = str(tmp_path / "out")
    assert cli.main(argv) in RUNS[argv[0]]
