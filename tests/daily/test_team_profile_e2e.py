"""Issue 21's "done means", end to end on the real cpu profile: a team profile that
extends cpu (torch 2.13.0 from this machine's CPU wheel, numpy from its local mirror,
offline), with run, add, list, envs, clean and envs remove."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import machine

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

CHECK = (
    "import os, sys, torch; print(torch.__version__, os.environ['TEAM_DEVICE'], sys.prefix); "
    "sys.exit(5)"
)


def test_team_profile_that_extends_cpu_day_to_day(tmp_path: Path) -> None:
    wheel = machine.cpu_profile_offline()
    env = dict(os.environ)
    machine.with_pip_config(env, tmp_path / "pip")
    env.update(
        PROVISION_HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),  # clean empties provision's store
        PYTHONPATH=str(REPO),
    )
    env.pop("PROVISION_ENVS_DIR", None)
    work = tmp_path / "repo"
    work.mkdir()

    def provision(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "provisioner", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    assert provision("init", "team", "--extends", "cpu").returncode == 0
    team = work / "team.yaml"
    team.write_text(
        team.read_text().replace(
            '  # variables: {MY_SETTING: "1"}   # set whenever the environment is activated',
            '  variables: {TEAM_DEVICE: "cpu:0"}   # ours',
        )
    )
    assert provision("lock", "team.yaml", "--allow-local").returncode == 0
    before = team.read_text()
    added = provision("add", "-p", "team.yaml", "tqdm")
    assert added.returncode == 0, added.stderr
    # comments kept, one line changed; the lock beside is fresh and has tqdm
    assert [ln for ln in team.read_text().splitlines() if ln not in before.splitlines()] == [
        "  pip: [tqdm]"
    ]
    assert "# this profile's own environment: never cpu's" in team.read_text()
    assert "+ tqdm==" in added.stdout
    assert provision("lock", "team.yaml", "--check").returncode == 0

    applied = provision("apply", "team.yaml")
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert "enter it: provision shell team.yaml" in applied.stdout

    ran = provision("run", "team.yaml", "--", "python", "-c", CHECK)
    assert ran.returncode == 5, ran.stderr
    assert ran.stdout.split() == ["2.13.0+cpu", "cpu:0", str(tmp_path / "home" / "envs" / "team")]

    listed = {p["name"]: p for p in json.loads(provision("list", "team.yaml", "--json").stdout)}
    assert listed["torch"]["version"] == "2.13.0+cpu"
    assert listed["torch"]["source"] == str(wheel.parent) and listed["torch"]["requested"]
    assert listed["tqdm"]["requested"] and not listed["filelock"]["requested"]

    envs = {e["name"]: e for e in json.loads(provision("envs", "--json").stdout)}
    assert envs["team"]["profile"] == "team" and envs["team"]["state"] == "verified"

    # tqdm out again: its wheel in provision's store is used by no environment now
    assert provision("remove", "-p", "team.yaml", "tqdm").returncode == 0
    assert provision("apply", "team.yaml", "--verify", "import").returncode == 0
    dry = provision("clean", "--dry-run")
    assert dry.returncode == 0
    assert any(ln.startswith("would remove artifact") for ln in dry.stdout.splitlines()), dry.stdout
    assert "would free " in dry.stdout

    removed = provision("envs", "remove", "team")
    assert removed.returncode == 0, removed.stderr
    assert not (tmp_path / "home" / "envs" / "team").exists()
    assert not (tmp_path / "home" / "state" / "team.json").exists()
    assert json.loads(provision("envs", "--json").stdout) == []
