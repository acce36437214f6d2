"""Every routine command of the project (invoke). `invoke --list` shows them."""

from __future__ import annotations

import sys
from pathlib import Path

from invoke.context import Context
from invoke.tasks import task

PY = sys.executable
BIN = Path(PY).parent  # the venv's scripts (lint-imports)


@task(
    help={
        "k": "only tests matching this expression",
        "fast": "skip tests marked slow",
        "seed": "replay the test order of an earlier run (its printed seed)",
        "durations": "how many of the slowest tests to list at the end (0: none)",
    }
)
def test(c: Context, k: str = "", fast: bool = False, seed: str = "", durations: int = 25) -> None:
    """Run the whole test suite (``invoke ci`` runs it after the static checks), in a
    random order (pytest-randomly; the seed is printed at the start and the end),
    listing the slowest tests."""
    args = ["-q", f"--durations={durations}"]
    if k:
        args += ["-k", repr(k)]
    if fast:
        args += ["-m", "'not slow'"]
    if seed:
        args.append(f"--randomly-seed={seed}")
    c.run(f"{PY} -m pytest {' '.join(args)}", pty=False)


@task
def lint(c: Context) -> None:
    """ruff check and format check."""
    c.run(f"{PY} -m ruff check provisioner tests benchmarks tasks.py")
    c.run(f"{PY} -m ruff format --check provisioner tests benchmarks tasks.py")


@task
def typecheck(c: Context) -> None:
    """mypy --strict with the pydantic plugin over the package, tests/, benchmarks/ and tasks.py
    in one run (pyproject.toml's [tool.mypy] files)."""
    c.run(f"{PY} -m mypy")


@task
def contracts(c: Context) -> None:
    """The import contracts (import-linter): layers, no loops, the engine never imports the
    CLI (pyproject.toml's [tool.importlinter]; docs/architecture.md)."""
    c.run(f"{BIN / 'lint-imports'}")


@task(pre=[lint, typecheck, contracts])
def ci(c: Context) -> None:
    """What CI runs (.ci/run, the README's second Quick-start command): ruff, the format
    check, mypy --strict and the import contracts, then the whole test suite; the first
    failure stops it."""
    test(c)


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


COMPAT_SNAPSHOT = "tests/data/compat/pypi_snapshot.json"
COMPAT_DATA = "provisioner/data/compat_pypi.json"


@task(name="compat-data")
def compat_data(c: Context) -> None:
    """Regenerate provisioner/data/compat_pypi.json from the committed PyPI snapshot
    (offline; CI checks the committed file is exactly this)."""
    import json
    from pathlib import Path

    from provisioner.compatdata.generate import generate

    snapshot = json.loads(Path(COMPAT_SNAPSHOT).read_text(encoding="utf-8"))
    Path(COMPAT_DATA).write_text(generate(snapshot), encoding="utf-8")
    print(f"wrote {COMPAT_DATA} from {COMPAT_SNAPSHOT}")


@task(name="refresh-compat")
def refresh_compat(c: Context) -> None:
    """Read the frameworks' metadata from PyPI again (network, a few minutes: wheel
    METADATA by range requests), write the snapshot, regenerate the data; review the diff."""
    from pathlib import Path

    from provisioner.compatdata import pypi

    Path(COMPAT_SNAPSHOT).write_text(pypi.dumps(pypi.snapshot()), encoding="utf-8")
    print(f"wrote {COMPAT_SNAPSHOT}")
    compat_data(c)
