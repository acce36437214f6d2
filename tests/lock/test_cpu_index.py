"""The embedded default locks CPU torch: from PyTorch's CPU index on an ordinary machine
(uv's explicit index, for torch alone), and from pip's own find-links where they hold the
CPU wheel, as on CI, where that index is never asked (download.pytorch.org is not
reachable there).

STAND-INS: a ``file://`` index for PyPI (a "CUDA" torch 2.13.0 that needs nvidia-*
stand-ins, as PyPI's Linux torch does, and numpy), one for PyTorch's CPU index (torch
2.13.0+cpu, and a numpy that an index serving torch alone must not hand out), and
``http://127.0.0.1:9/`` (nothing listens there) for an unreachable download.pytorch.org.
The profile is the shipped ``profiles/cpu.yaml`` with the two URLs replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import ExternalFailure
from provisioner.lock.pip_part import resolve_pip
from provisioner.profile import load_profile
from tests.pypi_index import Wheel, build_simple_index, build_wheel

REPO = Path(__file__).resolve().parents[2]
CPU_INDEX = 'torch: "https://download.pytorch.org/whl/cpu"'
UNREACHABLE = "http://127.0.0.1:9/simple"


@pytest.fixture
def stand_ins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    pypi = build_simple_index(
        tmp_path / "pypi",
        [
            Wheel("torch", "2.13.0", requires=("nvidia-cublas-fake==13.1", "filelock")),
            Wheel("nvidia-cublas-fake", "13.1"),
            Wheel("filelock", "3.20.0"),
            Wheel("numpy", "2.3.5"),
        ],
    )
    cpu = build_simple_index(
        tmp_path / "cpu",
        [Wheel("torch", "2.13.0+cpu", requires=("filelock",)), Wheel("numpy", "1.0.0")],
    )
    return pypi, cpu


def cpu_profile(tmp_path: Path, torch_index: str | None, pypi: Path) -> Path:
    """profiles/cpu.yaml with its PyPI and CPU-index URLs pointed at the stand-ins (or, with
    ``torch_index`` None, without package_indexes: what the profile did before)."""
    text = (REPO / "profiles" / "cpu.yaml").read_text("utf-8")
    assert CPU_INDEX in text
    if torch_index is None:
        text = text.replace("  package_indexes:\n    " + CPU_INDEX + "\n", "")
    else:
        text = text.replace(CPU_INDEX, f'torch: "{torch_index}"')
    text = text.replace('  python: "3.11"\n', f'  python: "3.11"\n  index_url: "{pypi.as_uri()}"\n')
    path = tmp_path / "cpu.yaml"
    path.write_text(text, "utf-8")
    return path


def locked(path: Path) -> dict[str, str]:
    return {p.name: p.url for p in resolve_pip(load_profile(path), "linux-64")}


def test_ordinary_machine_takes_cpu_torch_from_the_cpu_index(
    stand_ins: tuple[Path, Path], tmp_path: Path
) -> None:
    pypi, cpu = stand_ins  # pip's config hidden (conftest): an ordinary machine
    found = locked(cpu_profile(tmp_path, cpu.as_uri(), pypi))
    assert set(found) == {"torch", "filelock", "numpy"}  # no nvidia-*
    assert found["torch"].startswith(cpu.parent.as_uri()) and "2.13.0+cpu" in found["torch"]
    assert found["numpy"].startswith(pypi.parent.as_uri())  # the CPU index serves torch only
    assert "numpy-2.3.5" in found["numpy"]


def test_without_it_pypi_gives_the_cuda_build(stand_ins: tuple[Path, Path], tmp_path: Path) -> None:
    """What issue 19 saw: plain PyPI's torch drags in the nvidia-* wheels."""
    pypi, _cpu = stand_ins
    assert "nvidia-cublas-fake" in locked(cpu_profile(tmp_path, None, pypi))


def test_ci_find_links_win_and_the_cpu_index_is_never_asked(
    stand_ins: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pypi, _cpu = stand_ins
    wheels = tmp_path / "opt-wheels"
    wheel = build_wheel(Wheel("torch", "2.13.0+cpu", requires=("filelock",)), wheels)
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {wheels}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.delenv("UV_OFFLINE")  # uv would fail if it asked 127.0.0.1:9
    found = locked(cpu_profile(tmp_path, UNREACHABLE, pypi))
    assert found["torch"] == wheel.as_uri().replace("%2B", "+")
    assert set(found) == {"torch", "filelock", "numpy"}


def test_find_links_that_do_not_fit_the_pin_leave_torch_to_its_index(
    stand_ins: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pypi, _cpu = stand_ins
    wheels = tmp_path / "opt-wheels"
    build_wheel(Wheel("torch", "2.12.0+cpu"), wheels)  # another release than the pin
    (tmp_path / "pip.conf").write_text(f"[global]\nfind-links = {wheels}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "pip.conf"))
    monkeypatch.delenv("UV_OFFLINE")
    with pytest.raises(ExternalFailure, match="cannot reach the pip index"):
        locked(cpu_profile(tmp_path, UNREACHABLE, pypi))
