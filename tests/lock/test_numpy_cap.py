"""The compatibility data's numpy<2 reaches the lock: next to a build made against NumPy
1.x (tensorflow-cpu 2.10.0, per its PyPI metadata) an unbounded numpy locks to 1.x, in
the pip part (uv) and in the conda part (rattler), and the cap is a lock input.

STAND-INS: tiny wheels named tensorflow-cpu 2.10.0 and numpy 1.26.4 / 2.1.0 in a
``file://`` index, and numpy conda packages in a local channel; the cap comes from the
real compatibility data (PyPI's tensorflow-cpu 2.10.0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.lock.conda import solve_conda
from provisioner.lock.inputs import lock_constraints, lock_inputs
from provisioner.lock.pip_part import resolve_pip
from provisioner.profile import load_profile
from tests.channels import PackageSpec, build_channel, python_standin
from tests.lock.conftest import ProfileWriter
from tests.pypi_index import Wheel, build_simple_index

TF = "tensorflow-cpu==2.10.0"


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    return build_simple_index(
        tmp_path / "index",
        [
            Wheel("tensorflow-cpu", "2.10.0", requires=("numpy>=1.20",)),
            Wheel("numpy", "1.26.4"),
            Wheel("numpy", "2.1.0"),
        ],
    )


@pytest.mark.parametrize(("pip", "numpy"), [([TF, "numpy"], "1.26.4"), (["numpy"], "2.1.0")])
def test_pip_part_caps_numpy_next_to_a_numpy_1_build(
    index: Path, write_profile: ProfileWriter, pip: list[str], numpy: str
) -> None:
    resolved = load_profile(
        write_profile(
            [], manager="venv", conda=[], python="3.10", pip=pip, index_url=index.as_uri()
        )
    )
    locked = {p.name: p.version for p in resolve_pip(resolved, "linux-64")}
    assert locked["numpy"] == numpy


def test_conda_part_caps_numpy_without_adding_it(
    index: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    channel = build_channel(
        tmp_path / "chan",
        [
            python_standin("3.10.14"),
            PackageSpec("numpy", "1.26.4", depends=("python >=3.10",)),
            PackageSpec("numpy", "2.1.0", depends=("python >=3.10",)),
            PackageSpec("tool", "1.0"),
        ],
    )
    capped = load_profile(
        write_profile(
            [channel.as_uri()], conda=["numpy"], python="3.10", pip=[TF], index_url=index.as_uri()
        )
    )
    assert {p.name: p.version for p in solve_conda(capped, "linux-64")}["numpy"] == "1.26.4"
    # a constraint, not a spec: a conda part without numpy does not gain one
    other = load_profile(
        write_profile(
            [channel.as_uri()], conda=["tool"], python="3.10", pip=[TF], index_url=index.as_uri()
        )
    )
    assert "numpy" not in {p.name for p in solve_conda(other, "linux-64")}
    free = load_profile(
        write_profile([channel.as_uri()], conda=["numpy"], python="3.10", pip=["six"])
    )
    assert {p.name: p.version for p in solve_conda(free, "linux-64")}["numpy"] == "2.1.0"


def test_the_cap_is_a_lock_input_only_where_it_applies(write_profile: ProfileWriter) -> None:
    capped = load_profile(write_profile([], manager="venv", conda=[], python="3.10", pip=[TF]))
    assert lock_constraints(capped) == ("numpy<2",)
    assert lock_inputs(capped)["constraints"] == ["numpy<2"]
    plain = load_profile(write_profile([], manager="venv", conda=[], pip=["six"]))
    assert "constraints" not in lock_inputs(plain)  # older locks of such profiles stay fresh
