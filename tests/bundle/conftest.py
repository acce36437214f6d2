"""Fixtures for bundle tests: offline bootstrap runs inside ``unshare -n``.

MACHINE RESOURCES (until tests/support/machine.py exists, reached only here): the cpu
profile is locked from this machine's pip configuration (find-links /opt/wheels with
the CPU torch wheel, the file:// mirrors), and the host Python 3.11 runs provision
from the bundle. Bundling also fetches provision's own dependency wheels (uv,
py-rattler, ...) from PyPI once: those tests are marked ``network``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCAL_TORCH = Path("/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
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
def pip_config_env(child_env: dict[str, str]) -> dict[str, str]:
    """MACHINE RESOURCE: lock from this machine's pip configuration (its local CPU torch
    wheel), offline: PIP_NO_INDEX is lifted, UV_OFFLINE stays."""
    if not LOCAL_TORCH.is_file():
        pytest.skip(f"this machine has no local torch 2.13.0+cpu wheel ({LOCAL_TORCH})")
    env = dict(child_env)
    env.pop("PIP_NO_INDEX", None)
    env["XDG_CONFIG_HOME"] = str(Path(pwd.getpwuid(os.getuid()).pw_dir) / ".config")
    return env


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
        "PYENV_ROOT": os.environ.get("PYENV_ROOT", ""),
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
    }
