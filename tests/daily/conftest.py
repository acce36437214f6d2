"""Fixtures for the everyday commands: a real venv environment built in seconds.

``base.yaml`` has the shape of the shipped cpu profile (venv, host Python, ``torch`` and
``numpy`` from pip), but its packages come from a ``file://`` index of small wheels built
here: ``torch`` and ``numpy`` are STAND-INS (a module with ``__version__`` only), so
``apply --verify import`` builds and verifies a real venv with no download and no
training. The real cpu profile with the real torch 2.13.0 wheel runs in
``test_team_profile_e2e.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.pypi_index import Wheel, build_simple_index

REPO = Path(__file__).resolve().parents[2]
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
WHEELS = (
    Wheel("torch", "2.13.0"),  # stand-in
    Wheel("numpy", "2.0.0"),  # stand-in
    Wheel("six", "1.17.0", "py2.py3-none-any", single_module=True),
    Wheel("tabulate", "0.8.10"),
    Wheel("tabulate", "0.10.0"),
    Wheel("rich-standin", "1.0", requires=("six>=1",)),
)


@pytest.fixture(scope="session")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``file://`` simple index of :data:`WHEELS` (its ``simple`` folder)."""
    return build_simple_index(tmp_path_factory.mktemp("daily-index"), WHEELS)


def base_document(index: Path, name: str = "base") -> dict[str, object]:
    return {
        "name": name,
        "description": "cpu-shaped base profile from a local index",
        "target": {"os": "linux", "arch": "x86_64"},
        "requires": {"gpu": {"api": "none"}},
        "environment": {
            "manager": "venv",
            "name": name,
            "python": PY,
            "pip": ["torch==2.13.0", "numpy"],
            "index_url": index.as_uri(),
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }


@dataclass
class Team:
    """A base profile and a team profile that extends it, in ``folder``, with a
    ``PROVISION_HOME`` of their own and ``python -m provisioner`` as a child."""

    folder: Path
    home: Path
    env: dict[str, str]
    base: Path
    team: Path
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def __call__(
        self, *args: str, timeout: float = 300, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "provisioner", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or self.folder,
            stdin=subprocess.DEVNULL,
        )
        self.runs.append(done)
        return done

    def apply(self, profile: Path, *more: str) -> subprocess.CompletedProcess[str]:
        done = self("apply", str(profile), "--verify", "import", "--quiet", *more)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    def state(self, env: str) -> dict[str, Any] | None:
        import json

        path = self.home / "state" / f"{env}.json"
        data: dict[str, Any] | None = json.loads(path.read_text()) if path.exists() else None
        return data


TEAM_TEXT = """\
# The vision team's profile: the base plus what we use.
extends: base.yaml   # our base, beside this file
name: team
environment:
  name: team         # our own environment
  pip:
    - tabulate==0.8.10   # tables in the reports
  variables:
    TEAM_DEVICE: "cpu:0"
"""


@pytest.fixture
def team(tmp_path: Path, index: Path) -> Iterator[Team]:
    folder = tmp_path / "profiles"
    folder.mkdir()
    base = folder / "base.yaml"
    base.write_text(yaml.safe_dump(base_document(index), sort_keys=False), encoding="utf-8")
    team_path = folder / "team.yaml"
    team_path.write_text(TEAM_TEXT, encoding="utf-8")
    env = dict(os.environ)
    env["PROVISION_HOME"] = str(tmp_path / "home")
    env.pop("PROVISION_ENVS_DIR", None)
    env.pop("PIP_NO_INDEX", None)  # the profile's only index is the local one; uv stays offline
    # provision's own cache (artifact store) for this test only: `clean` empties it
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = str(REPO)
    yield Team(folder, tmp_path / "home", env, base, team_path)
