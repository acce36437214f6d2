"""Shared fixtures and guards.

Guards (after nox's ``prevent_conda`` and pre-commit's
``dont_write_to_home_directory``): no test writes to the real ``$HOME``, and no
test reaches the network unless it is marked ``network``.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import machine

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REAL_HOME = Path.home()
# Package caches shared across the run (and across runs on the same machine); never $HOME.
CACHE = REPO / ".cache" / "tests"
# pip settings that say where packages come from (pip.conf's keys as PIP_* variables).
PIP_SOURCE_VARIABLES = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_CONSTRAINT",
    "PIP_NO_INDEX",
)


@pytest.fixture(autouse=True)
def _no_home_writes(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(CACHE / "xdg"))
    monkeypatch.setenv("UV_CACHE_DIR", str(CACHE / "uv"))
    monkeypatch.setenv("PIP_CACHE_DIR", str(CACHE / "pip"))
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(CACHE / "rattler"))
    # pyenv lives in the real home; reading it is fine (tests/support/machine.py).
    monkeypatch.setenv("PYENV_ROOT", str(machine.pyenv_root()))
    # pip's config on this machine (find-links, local mirrors) is hidden; a test that
    # wants it asks tests/support/machine.py.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for var in PIP_SOURCE_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(autouse=True)
def _same_working_folder() -> Iterator[None]:
    """Every test ends in the folder it started in. A passing test's tmp_path is removed
    when it ends (pyproject.toml): a test that stayed in it would leave every later test
    in a deleted folder (bash: "getcwd: cannot access parent directories", Python's
    ``os.getcwd()`` raising), as one ``os.chdir(tmp_path)`` once did to 126 tests."""
    before = os.getcwd()
    yield
    os.chdir(before)


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_network(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _no_home_writes: None
) -> None:
    if request.node.get_closest_marker("network"):
        return
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family == socket.AF_UNIX or str(host) in {"127.0.0.1", "::1", "localhost"}:
            return real_connect(self, address)  # type: ignore[arg-type]
        raise NetworkBlocked(f"test tried to reach {address!r}; mark it @pytest.mark.network")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    # Subprocesses: tell pip and uv to stay offline too; uv with a cache no online run
    # writes (tests/support/machine.py: OFFLINE_UV_CACHE says why).
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(machine.OFFLINE_UV_CACHE))
    monkeypatch.setenv("PIP_NO_INDEX", "1")


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def data_dir() -> Path:
    return DATA


def pytest_unconfigure(config: pytest.Config) -> None:
    # py-rattler can crash the interpreter at exit after its work is done
    # (SIGABRT/SIGSEGV). When it was loaded in-process, leave with the real status.
    if "rattler" in sys.modules:
        status = getattr(config, "_provisioner_exitstatus", 0)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(status))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._provisioner_exitstatus = exitstatus  # type: ignore[attr-defined]


@pytest.fixture
def home_untouched() -> Iterator[None]:
    before = set(REAL_HOME.iterdir()) if REAL_HOME.exists() else set()
    yield
    after = set(REAL_HOME.iterdir()) if REAL_HOME.exists() else set()
    assert after <= before, f"test wrote to the real home: {sorted(after - before)}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the test order's seed at the end too (``-q`` hides the header that names it),
    so a failure that depends on order can be replayed: ``invoke test --seed N``."""
    seed = getattr(terminalreporter.config.option, "randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(
            f"test order: random, seed {seed} (replay it: invoke test --seed {seed}, "
            f"or pytest --randomly-seed={seed})"
        )
