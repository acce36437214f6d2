"""Helpers for the smoke-test tests: real framework venvs (cached), captured logs, and
the rendered script.

The venvs are real: ``python -m venv`` plus ``pip install`` from this machine's pip
sources (its local wheel folder and mirrors) under pyenv's Pythons, all reached through
``tests/support/machine.py``, which skips naming what is missing. Each is cached
under ``<repo>/.cache/tests/venvs/<key>``, keyed by the interpreter's version and the
requirements, built in a ``.partial`` folder and renamed when complete, so an
interrupted build is never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioner.profile import ResolvedProfile
from provisioner.render import RenderContext
from provisioner.render.artifacts_smoke import render_smoke_test
from tests.support import machine

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "tests"
VENVS = CACHE / "venvs"
LOGS = REPO / "tests" / "data" / "logs"
LOG_INDEX = LOGS / "INDEX.md"  # a verbatim copy of the shared fixtures' INDEX.md
PROFILES = Path(__file__).resolve().parent / "profiles"

# What each framework path needs. tensorflow-directml 1.15.8 wants numpy < 1.19 and
# protobuf < 4 (TF 1.15's generated code breaks on protobuf 4); pip picks these
# versions by itself today, pinned so a new release cannot change the test.
TF_CPU = ("tensorflow-cpu==2.21.0",)
TF_DIRECTML = ("tensorflow-directml==1.15.8", "numpy==1.18.5", "protobuf==3.20.3")
TORCH_CPU = ("torch==2.13.0",)


def venv_key(python: Path, requirements: tuple[str, ...]) -> str:
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    blob = json.dumps({"python": version, "requirements": sorted(requirements)})
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build_venv(version: str, requirements: tuple[str, ...], *, from_pypi: bool = False) -> Path:
    """A cached venv of pyenv's Python ``version`` with ``requirements`` installed from
    this machine's pip sources (``from_pypi``: from PyPI alone); returns its interpreter."""
    python = machine.pyenv_python(version)
    pip_config = os.devnull if from_pypi else str(machine.pip_config_file(CACHE / "machine-pip"))
    target = VENVS / venv_key(python, requirements)
    interpreter = target / "bin" / "python"
    if interpreter.exists():
        return interpreter
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    env["PIP_CONFIG_FILE"] = pip_config
    env["PIP_CACHE_DIR"] = str(CACHE / "pip")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    subprocess.run([str(python), "-m", "venv", str(partial)], check=True, env=env)
    done = subprocess.run(
        [str(partial / "bin" / "python"), "-m", "pip", "install", "-q", *requirements],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        pytest.fail(f"pip install {' '.join(requirements)} failed:\n{done.stdout}\n{done.stderr}")
    (partial / "provision-test-venv.json").write_text(
        json.dumps({"python": str(python), "requirements": list(requirements)}), "utf-8"
    )
    partial.rename(target)
    return interpreter


def render_script(resolved: ResolvedProfile, folder: Path) -> Path:
    path = folder / "smoke_test.py"
    path.write_text(render_smoke_test(RenderContext(resolved, "0.0.0-test")), "utf-8")
    return path


def read_log(name: str) -> str:
    return (LOGS / name).read_text("utf-8")


def index_verdicts() -> dict[str, str]:
    """INDEX.md's last column ("a correct diagnosis") by file name, from its table rows."""
    verdicts: dict[str, str] = {}
    for line in LOG_INDEX.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 4 and cells[0].endswith(".txt"):
            verdicts[cells[0]] = cells[-1]
    return verdicts
