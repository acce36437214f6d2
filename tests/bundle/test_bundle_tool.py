"""The tool a bundle carries: provision's own wheel, built from this installation, is
the same bytes every time, installs into a real venv without a network and imports
there with every file matching its RECORD; and which host Pythons the carried tool
supports follows the profile and ``--tool-python``."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from provisioner.bundle.tool import (
    TOOL_PYTHONS,
    build_self_wheel,
    requirements_text,
    runtime_requirements,
    tool_pythons,
)
from provisioner.env.installed_files import files_at
from provisioner.errors import ProvisionError
from provisioner.profile import ResolvedProfile, load_profile
from provisioner.uvbin import uv_executable
from tests.support.profiles import profile_document, write_profile


def test_the_self_wheel_is_reproducible_and_complete(tmp_path: Path) -> None:
    one = build_self_wheel(tmp_path / "a")
    two = build_self_wheel(tmp_path / "b")
    assert one.name == two.name and one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as zf:
        names = zf.namelist()
        infos = zf.infolist()
    assert "provisioner/__init__.py" in names and "provisioner/cli.py" in names
    assert any(n.startswith("provisioner/templates/") for n in names)  # data files too
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert names[-1].endswith(".dist-info/RECORD")


def test_the_self_wheel_installs_offline_and_every_file_matches_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    wheel = build_self_wheel(tmp_path / "wheels")
    uv = str(uv_executable())
    prefix = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", str(prefix)], check=True)
    python = prefix / "bin" / "python"
    install = [uv, "pip", "install", "-q", "--offline", "--no-deps", "--python", str(python)]
    subprocess.run([*install, str(wheel)], check=True)
    checked, altered = files_at(prefix, python, "venv")
    assert altered == [] and checked > 50
    site = next((prefix / "lib").glob("python3*/site-packages"))
    out = subprocess.run(
        [str(python), "-c", "import provisioner, sys; print(provisioner.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == str(site / "provisioner" / "__init__.py")


def test_the_carried_requirements_leave_out_what_only_locking_needs() -> None:
    names = [canonicalize_name(Requirement(r).name) for r in runtime_requirements()]
    assert "conda-lock" not in names
    assert {"pydantic", "pyyaml"} <= set(names)


def test_requirements_are_pinned_with_hashes_in_a_stable_order() -> None:
    text = requirements_text([("uv", "0.5.1", "b" * 64), ("pydantic", "2.9.0", "a" * 64)])
    assert text == (
        f"pydantic==2.9.0 --hash=sha256:{'a' * 64}\nuv==0.5.1 --hash=sha256:{'b' * 64}\n"
    )


def profile(tmp_path: Path, manager: str, python: str) -> ResolvedProfile:
    env: dict[str, object] = {"manager": manager, "python": python, "pip": ["six"]}
    if manager == "conda":
        env["channels"] = ["conda-forge"]
        env["conda"] = ["numpy"]
    return load_profile(write_profile(tmp_path / "p.yaml", profile_document("p", env)))


@pytest.mark.parametrize(
    ("manager", "python", "wanted", "pythons"),
    [
        ("venv", "3.11", (), ("3.11",)),  # the target has the profile's Python anyway
        ("venv", "3.8", (), TOOL_PYTHONS),  # too old to run provision: any supported one
        ("conda", "3.11", (), TOOL_PYTHONS),  # conda brings its own: the host's is unknown
        ("conda", "3.11", ("3.12", "3.10", "3.12"), ("3.12", "3.10")),
    ],
)
def test_the_host_pythons_the_tool_supports(
    tmp_path: Path, manager: str, python: str, wanted: tuple[str, ...], pythons: tuple[str, ...]
) -> None:
    assert tool_pythons(profile(tmp_path, manager, python), wanted) == pythons


@pytest.mark.parametrize("wanted", ["3.9", "3.14", "3", "py3.11"])
def test_a_tool_python_provision_cannot_run_on_is_exit_2(tmp_path: Path, wanted: str) -> None:
    with pytest.raises(ProvisionError) as e:
        tool_pythons(profile(tmp_path, "venv", "3.11"), ("3.11", wanted))
    assert e.value.exit_code == 2
    assert e.value.message == (
        f"--tool-python {wanted}: provision runs on Python {', '.join(TOOL_PYTHONS)}"
    )
