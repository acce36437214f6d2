"""``provision add`` / ``remove`` edit a profile in place (comments, order, quoting and
indentation kept) and update the lock beside it keeping every other locked version;
``provision lock --upgrade-package NAME`` re-solves NAME only. Real uv resolutions from
local indexes; a real rattler solve for the conda part."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provisioner.lock.lockfile import read_lockfile
from provisioner.profile import load_profile
from tests.channels import build_channel, demo_packages
from tests.daily.conftest import TEAM_TEXT, WHEELS, Team
from tests.lock.conftest import profile_data
from tests.pypi_index import build_simple_index


def versions(lock_path: Path) -> dict[str, str]:
    return {p.name: p.version for p in read_lockfile(lock_path).packages}


def test_add_keeps_the_file_and_adds_one_line(team: Team) -> None:
    before = team.team.read_text()
    done = team("add", "-p", "team.yaml", "six")
    assert done.returncode == 0, done.stderr
    after = team.team.read_text()
    assert after.splitlines() == [*before.splitlines()[:7], "    - six", *before.splitlines()[7:]]
    assert "team.yaml: pip: add six" in done.stdout
    assert "no lockfile beside team.yaml" in done.stdout
    # re-pinning edits the entry where it is, its comment kept
    repin = team("add", "-p", "team.yaml", "tabulate==0.10.0")
    assert repin.returncode == 0, repin.stderr
    assert "    - tabulate==0.10.0   # tables in the reports" in team.team.read_text()
    # remove takes the file's own entry out again: the file is as it was, but the re-pin
    assert team("remove", "-p", "team.yaml", "six").returncode == 0
    assert team.team.read_text() == before.replace("tabulate==0.8.10", "tabulate==0.10.0")


def test_removing_an_inherited_package_writes_a_removal(team: Team) -> None:
    done = team("remove", "-p", "team.yaml", "numpy")
    assert done.returncode == 0, done.stderr
    assert 'pip: remove inherited numpy ("!numpy")' in done.stdout
    assert '    - "!numpy"' in team.team.read_text()
    assert "numpy" not in " ".join(load_profile(team.team).profile.environment.pip)
    unknown = team("remove", "-p", "team.yaml", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("provision: error: nope: not in team.yaml's environment")


def test_an_edit_that_breaks_the_profile_is_refused_and_undone(team: Team) -> None:
    before = team.team.read_text()
    bad = team("add", "-p", "team.yaml", "--conda", "numpy")
    assert bad.returncode == 2 and "a venv environment has no conda packages" in bad.stderr
    invalid = team("add", "-p", "team.yaml", "torch==0.0.0 ; python_version <")
    assert invalid.returncode == 2
    assert team.team.read_text() == before


def old_and_new_index(team: Team, tmp_path: Path, index: Path) -> Path:
    """An index with only tabulate 0.8.10 (what the lock was made from), and the team
    profile switched to the full index afterwards, so a free solve would pick 0.10.0."""
    old = build_simple_index(tmp_path / "old-index", [w for w in WHEELS if w.version != "0.10.0"])
    text = TEAM_TEXT.replace("tabulate==0.8.10", "tabulate")
    team.team.write_text(text + f"  index_url: {old.as_uri()}\n")
    assert team("lock", "team.yaml").returncode == 0
    lock = team.folder / "team.conda-lock.yml"
    assert versions(lock)["tabulate"] == "0.8.10"
    team.team.write_text(text + f"  index_url: {index.as_uri()}\n")
    return lock


def test_add_updates_the_lock_beside_keeping_every_other_version(
    team: Team, tmp_path: Path, index: Path
) -> None:
    lock = old_and_new_index(team, tmp_path, index)
    done = team("add", "-p", "team.yaml", "rich-standin")
    assert done.returncode == 0, done.stderr
    after = versions(lock)
    assert after["tabulate"] == "0.8.10"  # kept, though 0.10.0 is there now
    assert after["rich-standin"] == "1.0" and after["six"] == "1.17.0"
    assert "updated team.conda-lock.yml:" in done.stdout and "+ rich-standin==1.0" in done.stdout
    fresh = team("lock", "team.yaml", "--check")
    assert fresh.returncode == 0, fresh.stderr  # the lock beside is fresh afterwards


def test_upgrade_package_moves_only_that_package(team: Team, tmp_path: Path, index: Path) -> None:
    lock = old_and_new_index(team, tmp_path, index)
    team.team.write_text(team.team.read_text().replace("- tabulate", "- tabulate\n    - six"))
    done = team("lock", "team.yaml", "--upgrade-package", "six")
    assert done.returncode == 0, done.stderr
    assert versions(lock)["tabulate"] == "0.8.10"
    assert "+ six==1.17.0" in done.stdout
    up = team("lock", "team.yaml", "-P", "tabulate")
    assert up.returncode == 0, up.stderr
    assert "~ tabulate==0.8.10 -> tabulate==0.10.0" in up.stdout
    assert versions(lock)["tabulate"] == "0.10.0"
    typo = team("lock", "team.yaml", "--upgrade-package", "tabulat")
    assert typo.returncode == 2
    assert "--upgrade-package tabulat: no such package in the lock or the profile" in typo.stderr


@pytest.mark.slow
def test_conda_upgrade_package_keeps_the_other_conda_versions(team: Team, tmp_path: Path) -> None:
    """rattler solves with the earlier lock's records as locked (preferred) packages."""
    channel = build_channel(tmp_path / "chan", demo_packages())
    profile = tmp_path / "c" / "conda.yaml"
    profile.parent.mkdir()
    data = profile_data([channel.as_uri()], conda=["app", "tool=1.0"])
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    assert team("lock", str(profile)).returncode == 0
    data["environment"]["conda"] = ["app", "tool"]  # type: ignore[index]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    lock = profile.with_name("conda.conda-lock.yml")
    done = team("lock", str(profile), "--upgrade-package", "app")
    assert done.returncode == 0, done.stderr
    assert versions(lock)["tool"] == "1.0"  # kept: only app was to move
    free = team("lock", str(profile), "--upgrade-package", "tool")
    assert free.returncode == 0, free.stderr
    assert versions(lock)["tool"] == "2.0" and "~ tool=1.0=" in free.stdout
