"""NVIDIA's tables (``data/nvidia.yaml``): the driver a CUDA build needs, and which GPU
architectures a torch build has kernels for. Every answer carries the row's source."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from provisioner import yamlfast

DATA = Path(__file__).resolve().parent.parent / "data" / "nvidia.yaml"


@dataclass(frozen=True)
class DriverFloor:
    cuda: str  # the CUDA major version
    driver: str
    platform: str  # "linux" or "windows" (wsl2 and windows targets compare the Windows driver)
    source: str


@dataclass(frozen=True)
class Kernels:
    """The GPU code a CUDA build carries: cubins per compute capability, and PTX."""

    sm: tuple[str, ...]
    ptx: tuple[str, ...]
    source: str
    exact: bool  # from the framework's own build list; False: only the toolkit's range

    def runs_on(self, capability: str) -> bool:
        """Whether a GPU of ``capability`` ("8.6") finds a kernel: a cubin of the same major
        version and the same or a lower minor one, or PTX of the same or a lower version."""
        major, minor = _cc(capability)
        if any(m == major and n <= minor for m, n in map(_cc, self.sm)):
            return True
        return any(_cc(p) <= (major, minor) for p in self.ptx)

    def oldest(self) -> str | None:
        return min(self.sm, key=_cc) if self.sm else None


def _cc(text: str) -> tuple[int, int]:
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


@cache
def _table() -> dict[str, Any]:
    data: dict[str, Any] = yamlfast.safe_load(DATA.read_text(encoding="utf-8"))
    return data


def driver_floor(cuda: str, platform: str) -> DriverFloor | None:
    """The minimum NVIDIA driver for a CUDA ``cuda`` ("13.0") build on ``platform``
    ("linux", or "windows" for Windows and WSL 2); None for a CUDA the table lacks."""
    major = str(cuda).split(".")[0]
    for row in _table()["driver_floors"]:
        if str(row["cuda"]) == major:
            return DriverFloor(major, str(row[platform]), platform, str(row["source"]))
    return None


def _in(spec: str, version: str) -> bool:
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _sm_range(low: str, high: str) -> tuple[str, ...]:
    """Every compute capability NVIDIA has shipped between ``low`` and ``high``."""
    known = sorted({str(r["cc"]) for r in _table()["gpu_names"]} | {low, high}, key=_cc)
    return tuple(c for c in known if _cc(low) <= _cc(c) <= _cc(high))


def torch_kernels(torch: str, cuda: str) -> Kernels | None:
    """The kernels torch ``torch`` ("2.11.0") built for CUDA ``cuda`` ("13.0") carries:
    PyTorch's own list where the table has one, else the CUDA toolkit's range."""
    base = torch.split("+")[0]
    for row in _table()["torch_builds"]:
        if _in(row["torch"], base) and cuda in row["cuda"]:
            return Kernels(tuple(row["sm"]), tuple(row.get("ptx", ())), row["source"], True)
    for row in _table()["toolkit_architectures"]:
        if _in(row["cuda"], cuda):
            sm = _sm_range(str(row["min"]), str(row["max"]))
            return Kernels(sm, (), row["source"], False)
    return None


def generation(capability: str) -> str:
    """The architecture's name for a compute capability ("6.1" -> "Pascal")."""
    major, minor = _cc(capability)
    for row in _table()["generations"]:
        if row["major"] == major and minor < int(row.get("minor_below", 99)):
            return str(row["name"])
    return f"compute capability {capability}"


def capability_of(gpu_name: str) -> str | None:
    """The compute capability of a GPU by its name; None for a name the table lacks."""
    for row in _table()["gpu_names"]:
        if re.search(row["match"], gpu_name, re.IGNORECASE):
            return str(row["cc"])
    return None


@dataclass(frozen=True)
class TensorflowBuild:
    tensorflow: str  # major.minor
    cuda: str
    cudnn: str
    source: str


def tensorflow_build(version: str) -> TensorflowBuild | None:
    """The CUDA and cuDNN TensorFlow ``version`` ("2.9.1" or "2.9") was built and tested
    with; None for a release the table lacks."""
    minor = ".".join(str(version).split(".")[:2])
    t = _table()
    for row in t.get("tensorflow_builds", ()):
        if str(row["tensorflow"]) == minor:
            source = str(t["tensorflow_builds_source"])
            return TensorflowBuild(minor, str(row["cuda"]), str(row["cudnn"]), source)
    return None


def sources() -> Mapping[str, str]:
    """Where each table comes from (for docs and the data test)."""
    t = _table()
    return {"generations": t["generations_source"], "gpu_names": t["gpu_names_source"]}
