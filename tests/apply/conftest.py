"""Fixtures for plan/apply end-to-end tests (helpers and the stand-ins: apply_e2e.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apply.apply_e2e import Provision, make_provision, stand_in_packages
from tests.channels import build_channel, demo_packages


@pytest.fixture(scope="session")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real local channel: the demo packages plus the two named stand-ins."""
    root = tmp_path_factory.mktemp("apply-channel") / "chan"
    return build_channel(root, [*demo_packages(), *stand_in_packages()])


@pytest.fixture
def provision(tmp_path: Path) -> Iterator[Provision]:
    """``python -m provisioner`` as a child, with PROVISION_HOME under tmp_path; the
    children it started are killed, by PID, when the test ends."""
    runner = make_provision(tmp_path)
    try:
        yield runner
    finally:
        runner.close()
