"""Every command the README and docs/ show runs here, as written, in a shell.

Commands are the lines of ``bash``/``sh``/``console`` blocks (``$ `` lines of a console
block that has them) and ``provision``/``$`` lines of plain blocks. A usage synopsis
(``[OPTION]``, ``PROFILE``, ``...``) is not a command. Every other line either runs, in
document order, in a sandbox folder (a copy of ``profiles/`` and the files the docs name,
its own ``PROVISION_HOME``; the cpu profile locked from this machine's pip sources,
offline) with the exit codes the doc implies, or is listed in :data:`NOT_RUN` with the
reason. A command added to a doc that neither runs nor is listed fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import machine

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SYNOPSIS = re.compile(r"\[|\b[A-Z]{2,}(?:\.\.\.)?\b|\.\.\.|\bX\.Y\b|<[a-z]")
NOT_RUN = {
    # installing the tool, or running the whole suite, from inside the suite
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/provision apply": (
        "installs the tool into .venv (the fresh-clone check the lead runs)"
    ),
    "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/invoke ci": (
        "installs the tool and runs the whole suite (CI)"
    ),
    "invoke refresh-compat": "reads PyPI for minutes and rewrites files in the repository",
    "invoke compat-data": "rewrites a file in the repository (its test regenerates it)",
    ".venv/bin/pytest tests/lock tests/env/test_conda_backend.py -q": "runs tests in a test",
    ".venv/bin/pytest tests/lock -q -m network": "runs tests in a test",
    ".venv/bin/python -m benchmarks lock_install": "a benchmark (invoke bench runs it)",
    "provision verify profiles/cpu.yaml --python /path/to/env/bin/python": (
        "a placeholder path (tests/smoke/test_verify.py runs --python)"
    ),
}
# Exit codes a doc's command may end with; 0 otherwise.
CODES = {
    "provision doctor": (0, 1),  # depends on this host
    "provision explain": (0, 1),  # 1: a failure signature matched
    "provision report": (0, 1),  # 1: a host not verified
}


@dataclass(frozen=True)
class Line:
    doc: str
    command: str


def commands(doc: Path) -> Iterator[Line]:
    text = doc.read_text("utf-8")
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        lang, body = m.group(1), m.group(2)
        if lang in ("yaml", "json", "ini", "toml", "hcl", "text", "powershell"):
            continue
        lines = [ln.strip() for ln in body.splitlines()]
        dollar = any(ln.startswith("$ ") for ln in lines)
        for ln in lines:
            if not ln or ln.startswith("#"):
                continue
            if lang in ("bash", "sh", "console") and not dollar:
                command = ln
            elif ln.startswith("$ "):
                command = ln[2:]
            elif ln.startswith("provision ") and lang in ("", "bash", "sh"):
                command = ln
            else:
                continue  # output shown in the block
            command = re.split(r"\s{2,}#", command, maxsplit=1)[0].strip()
            yield Line(str(doc.relative_to(REPO)), command)


ALL = [line for doc in DOCS for line in commands(doc)]


def runnable(line: Line) -> bool:
    return line.command not in NOT_RUN and not SYNOPSIS.search(line.command)


def test_every_doc_command_is_run_or_listed_with_a_reason() -> None:
    docs = {line.doc for line in ALL}
    assert {"README.md", "docs/everyday.md", "docs/lock.md", "docs/checks.md"} <= docs
    run = [line for line in ALL if runnable(line)]
    assert len(run) >= 30, run
    unused = set(NOT_RUN) - {line.command for line in ALL}
    assert not unused, f"NOT_RUN lists commands no doc has any more: {sorted(unused)}"


def sandbox(root: Path) -> Path:
    """A folder with what the docs name: profiles/, the log they explain, and the team
    profile docs/lock.md locks (extends cpu, its own environment)."""
    work = root / "work"
    shutil.copytree(REPO / "profiles", work / "profiles")
    logs = work / "tests" / "data" / "logs"
    logs.mkdir(parents=True)
    for line in ALL:
        for word in line.command.split():
            if word.startswith("tests/data/logs/"):
                shutil.copy(REPO / word, logs)
    (work / "profiles" / "team.yaml").write_text(
        "extends: cpu.yaml\nname: team\nenvironment:\n  name: lock-team\n", encoding="utf-8"
    )
    return work


def before(line: Line, work: Path, home: Path) -> None:
    """What a doc's reader has done before this command."""
    if line.command == "provision report fleet/reports":
        shutil.copytree(home / "reports", work / "fleet" / "reports", dirs_exist_ok=True)


@pytest.mark.slow
def test_every_runnable_doc_command_runs_as_written(tmp_path: Path) -> None:
    machine.cpu_profile_offline()  # the cpu profile locks from this machine's sources
    work = sandbox(tmp_path)
    home = tmp_path / "provision-home"
    env = dict(os.environ)
    machine.with_pip_config(env, tmp_path / "pip")
    env["PROVISION_HOME"] = str(home)
    env.pop("PROVISION_ENVS_DIR", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(REPO)
    failures = []
    for line in [line for line in ALL if runnable(line)]:
        before(line, work, home)
        done = subprocess.run(
            ["bash", "-c", line.command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            stdin=subprocess.DEVNULL,
        )
        allowed = next((c for p, c in CODES.items() if line.command.startswith(p)), (0,))
        if "--check" in line.command:
            allowed = (0, 1)  # fresh or stale: the doc shows both
        if done.returncode not in allowed or "Traceback" in done.stderr:
            failures.append(
                f"{line.doc}: {line.command} -> {done.returncode}: {done.stderr[-600:]}"
            )
    assert not failures, "\n".join(failures)
