"""The import contracts (pyproject.toml's [tool.importlinter], docs/architecture.md) see
imports inside functions: a copy of the package with one such import that points up the
layers, or closes a loop, breaks them, naming the import.

The real package keeping them is CI's ``invoke contracts``; these tests show the
contracts would catch what they are for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.is_file(), reason="import-linter is not installed (the dev extra has it)"
)


def lint_copy(tmp_path: Path, module: str, added: str) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of the package with ``added`` appended to ``module``."""
    shutil.copytree(
        REPO / "provisioner",
        tmp_path / "provisioner",
        ignore=shutil.ignore_patterns("__pycache__", "data", "templates"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "provisioner" / module
    path.write_text(path.read_text(encoding="utf-8") + added, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_contracts(tmp_path: Path) -> None:
    done = lint_copy(tmp_path, "errors.py", "")
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_engine_module_importing_a_command_inside_a_function_breaks_them(
    tmp_path: Path,
) -> None:
    added = "\n\ndef _up() -> None:\n    from provisioner.commands import apply  # noqa\n"
    done = lint_copy(tmp_path, "env/venv.py", added)
    assert done.returncode == 1
    assert "The engine never imports the CLI" in done.stdout
    assert "provisioner.env.venv -> provisioner.commands.apply" in done.stdout


def test_a_loop_made_inside_a_function_breaks_them(tmp_path: Path) -> None:
    added = "\n\ndef _loop() -> None:\n    from provisioner.lock import lockfile  # noqa\n"
    done = lint_copy(tmp_path, "lock/inputs.py", added)
    assert done.returncode == 1
    assert "No import loops" in done.stdout and "BROKEN" in done.stdout
    assert "provisioner.lock" in done.stdout
    # import-linter names the import it would remove to break the loop: either one
    assert ".lockfile -> .inputs" in done.stdout or ".inputs -> .lockfile" in done.stdout
