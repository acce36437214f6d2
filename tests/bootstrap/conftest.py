"""Fixtures for the bootstrap-script tests (profiles and the stub: bootstrap_e2e.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.cli import main
from tests.bootstrap.bootstrap_e2e import Renderer


@pytest.fixture
def render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Renderer:
    """Lock a profile (unless ``lock=False``) and render it into a fresh folder.

    Locking reads only the profile's local index (file://): the offline guard's
    PIP_NO_INDEX is set aside for the lock (pip's own configuration stays hidden)."""
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)

    def go(profile: Path, *, lock: bool = True, out: Path | None = None) -> Path:
        if lock:
            assert main(["lock", str(profile)]) == 0
        folder = out or tmp_path / f"render-{profile.stem}"
        assert main(["render", str(profile), "-o", str(folder)]) == 0
        return folder

    return go


@pytest.fixture
def bootstrap_env(tmp_path: Path) -> dict[str, str]:
    """The environment a lab machine would have, with PROVISION_HOME in tmp."""
    env = dict(os.environ)
    env["PROVISION_HOME"] = str(tmp_path / "home")
    env.pop("PROVISION_ENVS_DIR", None)
    return env
