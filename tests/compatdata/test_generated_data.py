"""The compatibility data is what the committed PyPI snapshot generates, row for row,
and says what the packages' own metadata says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provisioner.compatdata import releases
from provisioner.compatdata.generate import generate, rows
from provisioner.compatdata.pypi import SCOPES

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO / "tests" / "data" / "compat" / "pypi_snapshot.json"


def snapshot() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return data


def test_data_regenerates_byte_identical_from_the_snapshot() -> None:
    """CI's check: `invoke compat-data` would change nothing."""
    assert generate(snapshot()) == releases.DATA.read_text(encoding="utf-8"), (
        "provisioner/data/compat_pypi.json is not what the snapshot generates: "
        "run `invoke compat-data` (or `invoke refresh-compat` to read PyPI again)"
    )


def test_every_row_has_its_source_and_the_day_it_was_read() -> None:
    read = snapshot()["read"]
    for package in releases.known_packages():
        for r in releases.releases(package):
            assert r.source == f"https://pypi.org/project/{package}/{r.version}/#files"
            assert r.read == read
    metadata = [r for s in SCOPES for r in releases.releases(s.name) if s.reads_metadata(r.version)]
    assert metadata and all(r.metadata and r.metadata.endswith(".whl") for r in metadata)


def test_snapshot_covers_each_framework_the_profiles_use() -> None:
    assert (
        set(snapshot()["packages"])
        == {s.name for s in SCOPES}
        == {
            "torch",
            "tensorflow",
            "tensorflow-gpu",
            "tensorflow-cpu",
            "tensorflow-directml",
            "tensorflow-directml-plugin",
            "torch-directml",
            "numpy",
        }
    )


# --- what the metadata says (DOMAIN.md section 5, re-read from the sources) ---------------


@pytest.mark.parametrize(
    ("torch", "cuda"),
    [
        ("2.0.1", "11.7"),
        ("2.4.1", "12.1"),
        ("2.6.0", "12.4"),
        ("2.7.0", "12.6"),
        ("2.8.0", "12.8"),
        ("2.10.0", "12.8"),
        ("2.11.0", "13.0"),
        ("2.13.0", "13.0"),
    ],
)
def test_torch_cuda_build_from_its_linux_wheel_requires_dist(torch: str, cuda: str) -> None:
    row = releases.release("torch", torch)
    assert row is not None and row.cuda == cuda, row
    assert row.cuda_from is not None and ("cuda-toolkit" in row.cuda_from) == (cuda >= "13")


def test_torch_2_11_0_names_cuda_toolkit_13_0_2() -> None:
    row = releases.release("torch", "2.11.0")
    assert row is not None and row.cuda_from is not None
    assert row.cuda_from.split(";")[0].endswith("==13.0.2")
    assert row.pins["cuda-toolkit"] == "13.0.2"


def test_tensorflow_directml_1_15_5_publishes_cp36_and_cp37_only() -> None:
    found = releases.published("tensorflow-directml", "1.15.5")
    assert found is not None
    assert found.pythons == ("3.6", "3.7")
    assert found.platforms == ("linux-64", "win-64")
    earlier = releases.published("tensorflow-directml", "1.15.5.dev210429")
    assert earlier is not None and earlier.pythons == ("3.5", "3.6", "3.7")


def test_frameworks_built_against_numpy_1() -> None:
    """tensorflow-cpu 2.10 asks only numpy>=1.20 but was built before NumPy 2.0.0."""
    tf_cpu = releases.release("tensorflow-cpu", "2.10.0")
    assert tf_cpu is not None and tf_cpu.numpy == ">=1.20" and tf_cpu.numpy_abi == "1"
    tfdml = releases.release("tensorflow-directml", "1.15.8")
    assert tfdml is not None and tfdml.numpy_abi == "1"
    newest_tf = releases.releases("tensorflow")[-1]
    assert newest_tf.numpy_abi is None, newest_tf  # built against NumPy 2
    assert releases.numpy2_released() == "2024-06-16"


def test_directml_releases_pin_their_partner() -> None:
    plugin = releases.release("tensorflow-directml-plugin", "0.4.0.dev230202")
    assert plugin is not None and plugin.pins == {"tensorflow-cpu": "2.10.0"}
    torch_dml = releases.release("torch-directml", "0.2.5.dev240914")
    assert torch_dml is not None and torch_dml.pins["torch"] == "2.4.1"
    last = releases.releases("torch-directml")[-1]
    assert last.version == "0.2.5.dev240914"  # no release after it (DOMAIN.md section 5)


def test_pins_select_releases_as_pip_does() -> None:
    assert releases.release("torch", "2.4.*") == releases.release("torch", "2.4.1")
    four = releases.release("torch", "2.4")  # PEP 440: ==2.4 is 2.4.0
    assert four is not None and four.version == "2.4.0"
    assert releases.release("tensorflow-directml-plugin", "0.4.0") is None  # a dev != final
    assert releases.published("no-such-package") is None


def test_rows_are_in_version_order() -> None:
    from packaging.version import Version

    for package, table in rows(snapshot()).items():
        versions = list(table)
        assert versions == sorted(versions, key=Version), package


def test_a_release_says_which_pythons_each_platform_got() -> None:
    """torch 1.13.1 published CPython 3.11 wheels for Linux x86_64 only; the 1.x releases
    are kept (file names only) for what `explain` says of "no matching distribution"."""
    r = releases.release("torch", "1.13.1")
    assert r is not None and "3.11" in r.pythons and r.metadata is None
    assert "3.11" in r.pythons_for("linux-64") and "3.11" not in r.pythons_for("win-64")
    assert r.pythons_for(None) == r.pythons == r.pythons_for("linux-ppc64le")
    gpu = releases.release("tensorflow-gpu", "1.15.0")
    assert gpu is not None and gpu.pythons == ("3.5", "3.6", "3.7")
