"""``apply --verify import`` / ``provision verify`` without the smoke-test module: the
framework is imported in the environment's own interpreter, with the profile's
variables, and the result says which import ran and why it failed.

The interpreter is this test's real Python; the frameworks are STAND-IN modules
written here (no torch or tensorflow in this environment) that import, fail or print
the way the real ones do."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from provisioner.frameworks import FRAMEWORKS, Framework
from provisioner.profile import ResolvedProfile, load_profile
from provisioner.verify.run import import_check
from tests.support.profiles import CPU_SMOKE, profile_document, write_profile

CUDA_MISSING = (
    "raise ImportError('libcudart.so.12: cannot open shared object file: "
    "No such file or directory')\n"
)


def profile(tmp_path: Path, framework: str = "pytorch", **variables: str) -> ResolvedProfile:
    environment: dict[str, object] = {"manager": "venv", "python": "3.11", "pip": ["six"]}
    if variables:
        environment["variables"] = variables
    smoke = {**CPU_SMOKE, "framework": framework}
    document = profile_document("imports", environment, smoke=smoke)
    return load_profile(write_profile(tmp_path / "imports.yaml", document))


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on the interpreter's path for the stand-in framework modules."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return folder


def stand_in(folder: Path, module: str, code: str) -> None:
    package = folder / module
    package.mkdir()
    (package / "__init__.py").write_text(f'"""STAND-IN {module}."""\n{code}')


PYTHON = Path(sys.executable)


@pytest.mark.parametrize(
    ("code", "passed", "summary"),
    [
        ("__version__ = '2.3.1+cpu'\n", True, "import torch ok (2.3.1+cpu)"),
        ("print('a banner on import')\n__version__ = '2.1.0'\n", True, "import torch ok (2.1.0)"),
        ("", True, "import torch ok (?)"),  # no __version__: still imported
        (
            CUDA_MISSING,
            False,
            "import torch failed: ImportError: libcudart.so.12: cannot open shared object "
            "file: No such file or directory",
        ),
        ("import sys\nsys.exit(3)\n", False, "import torch failed: no output"),
        (
            "import os\nos.kill(os.getpid(), 9)\n",
            False,
            "import torch failed: no output",
        ),
    ],
    ids=["version", "banner", "no-version", "missing-cuda", "exits", "killed"],
)
def test_the_import_check_reports_what_the_import_did(
    tmp_path: Path, modules: Path, code: str, passed: bool, summary: str
) -> None:
    stand_in(modules, "torch", code)
    result = import_check(profile(tmp_path), PYTHON)
    assert (result.kind, result.passed, result.summary) == ("import", passed, summary)
    if code == CUDA_MISSING:  # the output the summary's last line came from
        assert "libcudart.so.12" in result.output and "Traceback" in result.output


def test_a_framework_that_is_not_installed_is_named(tmp_path: Path, modules: Path) -> None:
    result = import_check(profile(tmp_path), PYTHON)
    assert result.passed is False
    assert result.summary == "import torch failed: ModuleNotFoundError: No module named 'torch'"


def test_the_profiles_variables_reach_the_import(tmp_path: Path, modules: Path) -> None:
    stand_in(
        modules,
        "torch",
        "import os\nif os.environ.get('CUDA_VISIBLE_DEVICES') != '':\n"
        "    raise RuntimeError('CUDA_VISIBLE_DEVICES=' + repr(os.environ.get("
        "'CUDA_VISIBLE_DEVICES')))\n__version__ = os.environ['OMP_NUM_THREADS']\n",
    )
    resolved = profile(tmp_path, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="3")
    assert import_check(resolved, PYTHON).summary == "import torch ok (3)"


@pytest.mark.parametrize(
    ("framework", "module"),
    [("pytorch", "torch"), ("tensorflow", "tensorflow")],
)
def test_each_framework_is_imported_by_its_module_name(
    tmp_path: Path, modules: Path, framework: str, module: str
) -> None:
    assert FRAMEWORKS[Framework(framework)].module == module
    stand_in(modules, module, "__version__ = '9.9'\n")
    result = import_check(profile(tmp_path, framework), PYTHON)
    assert result.summary == f"import {module} ok (9.9)"


@pytest.mark.parametrize("python", ["missing/bin/python", "not-executable"])
def test_an_interpreter_that_cannot_run_is_a_failed_check(tmp_path: Path, python: str) -> None:
    path = tmp_path / python
    if python == "not-executable":
        path.write_text("#!/bin/sh\n")
        path.chmod(0o644)
    result = import_check(profile(tmp_path), path)
    assert result.passed is False
    assert result.summary.startswith(f"cannot run {path}: ")
