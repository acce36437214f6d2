"""CI runs what the README says, and that includes every static check.

``.ci/run`` ends in exactly the README's second Quick-start command, and that command's
``invoke ci`` runs ruff, the format check, mypy --strict and the import contracts before
the tests (asked of invoke itself, with ``--dry``: the commands it would run, in order).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_ci_runs_exactly_the_readmes_second_quick_start_command() -> None:
    run = (REPO / ".ci" / "run").read_text(encoding="utf-8").rstrip("\n").splitlines()
    assert run[-1] == quick_start_commands()[1]
    assert quick_start_commands()[1].endswith(".venv/bin/invoke ci")


def invoke_ci_commands() -> list[str]:
    """The commands ``invoke ci`` would run, in order (invoke's ``--dry``)."""
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "--dry", "ci"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).splitlines()


def test_invoke_ci_runs_the_static_checks_before_the_tests() -> None:
    lines = invoke_ci_commands()
    plain = "\n".join(lines)
    wanted = [
        " -m ruff check provisioner tests benchmarks tasks.py",
        " -m ruff format --check provisioner tests benchmarks tasks.py",
        " -m mypy",
        "/lint-imports",
        " -m pytest -q",
    ]
    found = [next((i for i, line in enumerate(lines) if w in line), -1) for w in wanted]
    assert -1 not in found, plain
    assert found == sorted(found), plain


def test_pre_commit_runs_the_same_static_checks() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    tools = [
        hook["entry"].removeprefix(".venv/bin/")
        for repo in config["repos"]
        for hook in repo["hooks"]
    ]
    assert tools == ["ruff check", "ruff format --check", "mypy", "lint-imports"]
    lines = invoke_ci_commands()
    for tool in tools:
        assert any(f" -m {tool}" in line or line.endswith(f"/{tool}") for line in lines), tool
