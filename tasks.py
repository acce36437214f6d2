"""Every routine command of the project (invoke). `invoke --list` shows them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from invoke import Context, Exit, task

PY = sys.executable


@task(help={"k": "only tests matching this expression", "fast": "skip tests marked slow"})
def test(c: Context, k: str = "", fast: bool = False) -> None:
    """Run the whole test suite (what .ci/run runs)."""
    args = ["-q"]
    if k:
        args += ["-k", repr(k)]
    if fast:
        args += ["-m", "'not slow'"]
    c.run(f"{PY} -m pytest {' '.join(args)}", pty=False)


@task
def lint(c: Context) -> None:
    """ruff check and format check."""
    c.run(f"{PY} -m ruff check provisioner tests benchmarks tasks.py")
    c.run(f"{PY} -m ruff format --check provisioner tests benchmarks tasks.py")


# Folders a test folder imports from besides its own and tests/ (its sys.path.insert).
EXTRA_TEST_PATHS = {Path("tests/host"): [Path("tests/checks")]}


def test_folders() -> list[Path]:
    """Every folder under tests/ that holds Python files (tests/ itself first)."""
    return sorted(
        {p.parent for p in Path("tests").rglob("*.py")}, key=lambda p: (p != Path("tests"), p)
    )


@task
def typecheck(c: Context) -> None:
    """mypy --strict with the pydantic plugin: the package, then tests/ one folder at a time.

    pytest imports test modules by their folder (no __init__.py: ``from apply_e2e import``,
    one ``conftest`` per folder), so each folder is checked as its own set of top-level
    modules, with tests/ (channels, pypi_index, support) and the folder on MYPYPATH."""
    failed = [] if c.run(f"{PY} -m mypy", warn=True).ok else ["provisioner"]
    for folder in test_folders():
        files = " ".join(str(p) for p in sorted(folder.glob("*.py")))
        cache = Path(".mypy_cache") / "tests" / folder.as_posix().replace("/", "-")
        extra = EXTRA_TEST_PATHS.get(folder, [])
        done = c.run(
            f"{PY} -m mypy --cache-dir {cache} {files}",
            env={"MYPYPATH": os.pathsep.join(map(str, [Path("tests"), folder, *extra]))},
            warn=True,
        )
        if not done.ok:
            failed.append(str(folder))
    if failed:
        raise Exit(f"mypy found errors in: {', '.join(failed)}", code=1)


@task
def schema(c: Context) -> None:
    """Regenerate schema/profile.schema.json from the models."""
    c.run(f"{PY} -m provisioner schema -o schema/profile.schema.json")


@task(name="render-examples")
def render_examples(c: Context) -> None:
    """Render every shipped profile into out/<name>/."""
    c.run(
        f"for p in profiles/*.yaml profiles/examples/*.yaml; do "
        f'n=$(basename "$p" .yaml); {PY} -m provisioner render "$p" -o "out/$n" || exit 1; done'
    )


@task
def golden(c: Context) -> None:
    """Rewrite the golden files (environment.yml, check.ps1, bootstrap.ps1); review the diff."""
    c.run(
        f"PROVISION_UPDATE_GOLDEN=1 {PY} -m pytest -q "
        "tests/render/test_environment_yml.py tests/checks/test_ps1_golden.py"
    )


@task
def bench(c: Context, only: str = "") -> None:
    """Run every benchmark in benchmarks/ and print ratios against same-run baselines.

    Installs the ``bench`` extra first (ansible-core, the fact-gathering baseline).
    """
    c.run(f"{PY} -m pip install -q -e '.[bench]'")
    c.run(f"{PY} -m benchmarks {only}")
