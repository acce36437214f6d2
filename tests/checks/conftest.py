"""Fixtures for replayed hosts: the POSIX tools folder and a helper to diagnose a host."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.checks.host_replay import ReplayedHost, make_tools_dir, replayed


@pytest.fixture(scope="session")
def tools_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tools_dir(tmp_path_factory.mktemp("posix-tools"))


@pytest.fixture
def host(tools_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ReplayedHost]:
    def load(name: str) -> ReplayedHost:
        h = replayed(name, tools_dir)
        monkeypatch.delenv("PYENV_ROOT", raising=False)
        for k, v in h.env.items():
            monkeypatch.setenv(k, v)
        return h

    return load
