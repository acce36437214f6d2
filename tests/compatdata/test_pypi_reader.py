"""The snapshot reader: a wheel's METADATA by range requests (no 500 MB download), and
the committed snapshot against live PyPI (marked network)."""

from __future__ import annotations

import io
import json
import urllib.error
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from provisioner.compatdata import pypi

SNAPSHOT = Path(__file__).resolve().parents[2] / "tests" / "data" / "compat" / "pypi_snapshot.json"

METADATA = """Metadata-Version: 2.1
Name: fake-torch
Version: 9.0.0
Requires-Python: >=3.10
Requires-Dist: filelock
Requires-Dist: cuda-toolkit[cudart]==13.0.2; platform_system == "Linux"

A description that is not a header.
"""


def wheel_bytes() -> bytes:
    """A wheel with a large incompressible member before its METADATA, as torch's libs."""
    import os

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("torch/lib/libtorch_cuda.so", os.urandom(3 * 1024 * 1024))
        z.writestr("fake_torch-9.0.0.dist-info/METADATA", METADATA)
        z.writestr("fake_torch-9.0.0.dist-info/RECORD", "")
    return buffer.getvalue()


class Server:
    """Answers GETs from bytes in memory, ranges included; no PEP 658 file."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self.served = 0

    def __call__(self, url: str, headers: Mapping[str, str]) -> bytes:
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)  # type: ignore[arg-type]
        data = self.files[url]
        if "Range" in headers:
            start, end = (int(x) for x in headers["Range"].removeprefix("bytes=").split("-"))
            data = data[start : end + 1]
        self.served += len(data)
        return data


def test_wheel_metadata_by_range_requests_reads_a_fraction_of_the_wheel() -> None:
    wheel = wheel_bytes()
    server = Server({"https://files.example/fake.whl": wheel})
    text, via = pypi.wheel_metadata("https://files.example/fake.whl", len(wheel), server)
    assert via == "range"
    assert "cuda-toolkit[cudart]==13.0.2" in text
    assert server.served < len(wheel) // 4


def test_pep_658_metadata_is_preferred() -> None:
    server = Server({"https://files.example/fake.whl.metadata": METADATA.encode()})
    text, via = pypi.wheel_metadata("https://files.example/fake.whl", 10**9, server)
    assert (text, via) == (METADATA, "pep658")


def test_package_snapshot_keeps_raw_values_and_reads_the_linux_wheel() -> None:
    wheel = wheel_bytes()
    linux = "https://files.example/fake_torch-9.0.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    files = [
        {
            "filename": name,
            "url": url,
            "size": size,
            "requires_python": ">=3.10",
            "upload_time": "2026-01-01T00:00:00",
            "yanked": False,
        }
        for name, url, size in [
            ("fake_torch-9.0.0-cp312-cp312-win_amd64.whl", "https://files.example/w.whl", 1),
            (
                "fake_torch-9.0.0-cp311-cp311-manylinux_2_28_x86_64.whl",
                "https://files.example/o.whl",
                1,
            ),
            ("fake_torch-9.0.0-cp312-cp312-manylinux_2_28_x86_64.whl", linux, len(wheel)),
            (
                "fake_torch-9.0.0-cp313-cp313t-manylinux_2_28_x86_64.whl",
                "https://files.example/t.whl",
                1,
            ),
        ]
    ]
    index = {"releases": {"9.0.0": files, "9.1.0rc1": files, "1.0.0": files}}
    server = Server(
        {"https://pypi.org/pypi/fake-torch/json": json.dumps(index).encode(), linux: wheel}
    )
    snap = pypi.package_snapshot(pypi.Scope("fake-torch", since="2.0"), server)
    assert list(snap["releases"]) == ["9.0.0"]  # 1.0.0 is before `since`, 9.1.0rc1 a pre-release
    release = snap["releases"]["9.0.0"]
    assert release["metadata"] == {
        "wheel": linux,
        "read_via": "range",
        "Requires-Python": ">=3.10",
        "Requires-Dist": ["filelock", 'cuda-toolkit[cudart]==13.0.2; platform_system == "Linux"'],
    }
    assert [f["filename"] for f in release["files"]] == sorted(str(f["filename"]) for f in files)


def test_dumps_round_trips() -> None:
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert pypi.dumps(data) == SNAPSHOT.read_text(encoding="utf-8")


# --- live PyPI ------------------------------------------------------------------------------


def _files(records: list[Mapping[str, Any]]) -> list[tuple[str, Any, bool]]:
    return sorted((r["filename"], r["requires_python"], bool(r["yanked"])) for r in records)


@pytest.mark.network
@pytest.mark.parametrize("scope", pypi.SCOPES, ids=lambda s: s.name)
def test_snapshot_agrees_with_live_pypi(scope: pypi.Scope) -> None:
    """Every release the snapshot holds still has the same files on PyPI; a release PyPI
    added since is news (run `invoke refresh-compat`), not a disagreement."""
    snap = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["packages"][scope.name]
    live = json.loads(pypi.http_get(pypi.PYPI_JSON.format(name=scope.name), {}))["releases"]
    for version, release in snap["releases"].items():
        assert version in live, f"{scope.name} {version} is no longer on PyPI"
        assert _files(release["files"]) == _files(live[version]), f"{scope.name} {version}"


@pytest.mark.network
@pytest.mark.parametrize(
    ("name", "version"), [("torch", "2.11.0"), ("tensorflow-directml-plugin", "0.4.0.dev230202")]
)
def test_snapshot_metadata_agrees_with_the_live_wheel(name: str, version: str) -> None:
    release = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["packages"][name]["releases"][
        version
    ]
    recorded = release["metadata"]
    live = json.loads(pypi.http_get(pypi.PYPI_JSON.format(name=name), {}))["releases"][version]
    size = next(int(f["size"]) for f in live if recorded["wheel"].endswith(f["filename"]))
    text, _ = pypi.wheel_metadata(recorded["wheel"], size)
    fields = pypi.metadata_fields(text)
    assert fields["Requires-Dist"] == recorded["Requires-Dist"]
    assert fields["Requires-Python"] == recorded["Requires-Python"]
