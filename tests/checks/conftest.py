"""Fixtures for replayed hosts: the POSIX tools folder and a helper to diagnose a host."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from replay import ReplayedHost, make_tools_dir, replayed

from provisioner.checks.judge import judge
from provisioner.checks.observed import observe
from provisioner.checks.plan import plan_checks
from provisioner.doctor import Diagnosis, diagnose
from provisioner.host.facts import gather
from provisioner.host.probe import Probe
from provisioner.profile import load_profile


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


def diagnose_host(h: ReplayedHost, profile: Path, snapshot_dir: Path) -> Diagnosis:
    """Diagnose a replayed host. Native Windows hosts go through a saved snapshot
    (record on a win32-claiming probe, then ``diagnose(facts_file=...)``): the replay path."""
    resolved = load_profile(profile)
    if h.platform == "linux":
        return diagnose(resolved, root=h.root, path=h.path)
    probe = Probe(h.root, path=h.path, env=h.env, platform=h.platform)
    gather(probe)
    snap = snapshot_dir / f"{h.name}.json"
    probe.save(snap)
    return diagnose(resolved, facts_file=snap)


def statuses(d: Diagnosis) -> dict[str, object]:
    return {"ready": d.ready, **{v.id: v.status for v in d.verdicts if v.status != "skip"}}


__all__ = ["diagnose_host", "gather", "judge", "observe", "plan_checks", "statuses"]
