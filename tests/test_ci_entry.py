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


def test_invoke_ci_runs_the_static_checks_before_the_tests() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "--dry", "ci"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    plain = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    lines = plain.splitlines()
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
