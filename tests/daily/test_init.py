"""``provision init``: a new commented profile that validates, extending a shipped one
or imported from environment.yml (with its pip: part), requirements.txt or pixi.toml,
saying what it could not carry over. The imported environment.yml locks for real (a
local conda channel with a STAND-IN python package, a local pip index)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from provisioner.lock.lockfile import read_lockfile
from provisioner.profile import load_profile
from tests.channels import build_channel, demo_packages, python_standin
from tests.daily.conftest import Team

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_init_writes_a_commented_profile_that_extends_and_owns_its_environment(
    team: Team,
) -> None:
    done = team("init", "vision", "--extends", "cuda-wsl2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote vision.yaml (extends cuda-wsl2); it validates")
    text = (team.folder / "vision.yaml").read_text()
    assert text.startswith("# vision: a team profile.")
    assert "extends: cuda-wsl2" in text and "# this profile's own environment" in text
    resolved = load_profile(team.folder / "vision.yaml")
    assert resolved.profile.environment.name == "vision"
    assert resolved.profile.target.os.value == "wsl2"
    again = team("init", "vision")
    assert again.returncode == 2 and "vision.yaml exists; init never overwrites" in again.stderr
    default = team("init", "mine")
    assert default.returncode == 0 and "extends: cpu" in (team.folder / "mine.yaml").read_text()
    bad = team("init", "no/slash")
    assert bad.returncode == 2 and "cannot name a profile" in bad.stderr


ENVIRONMENT_YML = """\
name: legacy
channels:
  - {channel}
  - defaults
dependencies:
  - python={py}
  - app
  - tool=1.0
  - pip
  - pip:
    - six==1.17.0
    - --extra-index-url {index}
    - -e ./local-package
    - git+https://example.org/x.git
variables:
  LEGACY_MODE: "1"
prefix: /opt/conda/envs/legacy
"""


def test_init_from_a_conda_environment_yml_with_a_pip_part_validates_and_locks(
    team: Team, tmp_path: Path, index: Path
) -> None:
    channel = build_channel(tmp_path / "chan", [*demo_packages(), python_standin()])
    source = team.folder / "environment.yml"
    source.write_text(ENVIRONMENT_YML.format(channel=channel.as_uri(), py=PY, index=index.as_uri()))
    done = team("init", "--from", "environment.yml")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("wrote legacy.yaml (environment.yml); it validates")
    assert "not carried over:" in out
    for skipped in (
        "  channel defaults: Anaconda's defaults channel is not used",
        "  pip: provision installs the pip part itself",
        "  -e ./local-package: an editable install has no hash to lock",
        "  git+https://example.org/x.git: a local path or URL has no hash to lock",
        "  prefix: /opt/conda/envs/legacy: environments live in",
    ):
        assert skipped in out, (skipped, out)
    profile = load_profile(team.folder / "legacy.yaml").profile
    env = profile.environment
    assert (env.manager.value, env.name, env.python) == ("conda", "legacy", PY)
    assert env.channels == (channel.as_uri(),) and env.conda == ("app", "tool=1.0")
    assert env.pip == ("six==1.17.0",) and env.extra_index_urls == (index.as_uri(),)
    assert env.variables == {"LEGACY_MODE": "1"}
    locked = team("lock", "legacy.yaml")
    assert locked.returncode == 0, locked.stderr
    names = {
        p.name: p.version for p in read_lockfile(team.folder / "legacy.conda-lock.yml").packages
    }
    assert names["tool"] == "1.0" and names["six"] == "1.17.0" and names["python"].startswith(PY)


def test_init_from_requirements_txt(team: Team, index: Path) -> None:
    (team.folder / "requirements.txt").write_text(
        f"# ours\n--index-url {index.as_uri()}\ntorch==2.13.0  # the framework\nnumpy\n"
        "-r more.txt\n./wheels/x.whl\n"
    )
    done = team("init", "reqs", "--from", "requirements.txt")
    assert done.returncode == 0, done.stderr
    env = load_profile(team.folder / "reqs.yaml").profile.environment
    assert env.manager.value == "venv" and env.pip == ("torch==2.13.0", "numpy")
    assert env.index_url == index.as_uri()
    assert "-r more.txt: a nested requirements file" in done.stdout
    assert "./wheels/x.whl: a local path" in done.stdout
    assert 'python: the file names no Python X.Y: environment.python is "3.11"' in done.stdout


PIXI = """\
[workspace]
name = "pixi-team"
channels = ["conda-forge"]
platforms = ["linux-64", "win-64"]

[dependencies]
python = "3.11.*"
numpy = ">=1.26,<2"
pytorch = {version = "2.5.*", channel = "pytorch"}

[pypi-dependencies]
rich = ">=13"
mylib = {path = "./mylib", editable = true}

[activation.env]
TEAM = "pixi"

[tasks]
train = "python train.py"
"""


def test_init_from_pixi_toml(team: Team) -> None:
    (team.folder / "pixi.toml").write_text(PIXI)
    done = team("init", "--from", "pixi.toml")
    assert done.returncode == 0, done.stderr
    env = load_profile(team.folder / "pixi-team.yaml").profile.environment
    assert env.python == "3.11" and env.conda == ("numpy >=1.26,<2", "pytorch::pytorch 2.5.*")
    assert env.pip == ("rich>=13",) and env.variables == {"TEAM": "pixi"}
    for skipped in ("platforms linux-64, win-64", "pypi-dependencies.mylib", "[tasks]"):
        assert skipped in done.stdout


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("environment.yml", "- just a list\n", "not a conda environment file"),
        ("pixi.toml", "[workspace\n", "not TOML"),
        ("notes.md", "hello\n", "not a file init can read"),
    ],
)
def test_init_from_a_file_it_cannot_read_is_one_line_exit_2(
    team: Team, name: str, text: str, why: str
) -> None:
    (team.folder / name).write_text(text)
    done = team("init", "x", "--from", name)
    assert done.returncode == 2 and why in done.stderr
    assert done.stderr.count("\n") == 1 and not (team.folder / "x.yaml").exists()
