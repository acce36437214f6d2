"""Fixtures for bundle tests: offline bootstrap runs inside ``unshare -n``.

What this machine offers is reached through tests/support/machine.py: the cpu profile
is locked from its pip sources (the local CPU torch wheel folder, the file:// mirrors),
and the host Python 3.11 runs provision from the bundle. Bundling also fetches
provision's own dependency wheels (uv, py-rattler, ...) from PyPI once: those tests are
marked ``network``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import machine

REPO = Path(__file__).resolve().parents[2]
HOST_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def provision(
    *args: str, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``python -m provisioner ARGS`` as a child (py-rattler may crash at exit in-process)."""
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    """The test's environment (guards applied) with PROVISION_HOME in tmp_path."""
    env = dict(os.environ)
    env["PROVISION_HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.fixture
def pip_config_env(child_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """This machine's package sources (its local CPU torch wheel) in pip's config."""
    machine.cpu_profile_offline()
    return machine.with_pip_config(dict(child_env), tmp_path / "pip")


def lock_offline(profile: Path, env: dict[str, str]) -> None:
    """``provision lock`` from the local sources only (uv offline: PyPI's CUDA torch build
    must not win over the local CPU wheel); bundling itself may reach PyPI."""
    done = provision("lock", str(profile), env=dict(machine.offline(dict(env))))
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="session")
def offline_runner() -> list[str]:
    """``unshare -n``: a new network namespace with no network (loopback down)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare -n is not allowed here: {probe.stderr.strip()[:200]}")
    return [unshare, "-n"]


def bootstrap_env(home: Path) -> dict[str, str]:
    """A bare environment for a bootstrap run: no PYTHONPATH, no pip/uv settings."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "PYENV_ROOT": str(machine.pyenv_root()),
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
    }
