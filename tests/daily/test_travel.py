"""Locks that travel: files outside the profile's folder are a warning at lock time, files
inside it are recorded relative to the lock (the folder can move), and apply on a machine
without the files says where the lock was made. Real uv resolutions and venv applies."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from tests.daily.conftest import WHEELS, Team
from tests.pypi_index import build_wheel

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def wheel_profile(folder: Path, links: str) -> Path:
    """A venv profile whose packages come only from the find-links folder ``links``."""
    data = {
        "name": "travel",
        "target": {"os": "linux"},
        "environment": {
            "manager": "venv",
            "name": "travel",
            "python": PY,
            "pip": ["torch==2.13.0", "six"],
            "find_links": [links],
            "index_url": (folder / "no-index").as_uri(),  # nothing there: links only
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    (folder / "no-index").mkdir(parents=True, exist_ok=True)
    path = folder / "travel.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def wheels_in(folder: Path) -> Path:
    for wheel in WHEELS:
        if wheel.name in ("torch", "six"):
            build_wheel(wheel, folder)
    return folder


def test_a_local_folder_outside_the_profile_is_a_warning_naming_it(
    team: Team, tmp_path: Path
) -> None:
    outside = wheels_in(tmp_path / "laptop-wheels")
    profile = wheel_profile(tmp_path / "repo", str(outside))
    done = team("lock", str(profile))
    assert done.returncode == 0, done.stderr
    assert f"provision: warning: the lock names files in {outside}, outside the profile's" in (
        done.stderr
    )
    assert "shared index" in done.stderr and "--allow-local" in done.stderr
    quiet = team("lock", str(profile), "--allow-local")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_files_inside_the_profile_folder_are_relative_and_the_folder_can_move(
    team: Team, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    wheels_in(repo / "wheels")
    profile = wheel_profile(repo, "wheels")
    done = team("lock", str(profile))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    text = (repo / "travel.conda-lock.yml").read_text()
    assert "url: wheels/torch-2.13.0-py3-none-any.whl" in text
    assert str(repo) not in text.split("package:", 1)[1]  # no absolute path of this machine
    moved = tmp_path / "clone"
    shutil.move(str(repo), moved)  # a teammate's clone, somewhere else
    applied = team("apply", str(moved / "travel.yaml"), "--verify", "import", "--locked")
    assert applied.returncode == 0, applied.stderr
    assert (moved / "travel.conda-lock.yml").read_text() == text  # used as it is


def test_apply_without_the_lock_makers_folder_says_where_it_was_made(
    team: Team, tmp_path: Path
) -> None:
    outside = wheels_in(tmp_path / "laptop-wheels")
    profile = wheel_profile(tmp_path / "repo", str(outside))
    assert team("lock", str(profile), "--allow-local").returncode == 0
    shutil.rmtree(outside)  # another machine: the folder is not there
    done = team("apply", str(profile), "--verify", "import", "--frozen")
    assert done.returncode == 1, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"provision: error: this lock was made from {outside} on another machine: "
    ), line
    assert "is not here (fix: copy those files to the same folder here" in line
    assert not (team.home / "envs" / "travel").exists()
