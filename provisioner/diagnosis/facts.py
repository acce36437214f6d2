"""Facts the log states about Windows, WSL and the driver, compared with the floors GPU
use needs.

A kernel string "4.4.0-19041-Microsoft" means the distro runs as WSL 1 (no GPU at all);
"4.19.104-microsoft-standard" is a WSL 2 kernel older than 4.19.121, the first with GPU
paravirtualisation; "Microsoft Windows [Version 10.0.18363...]" is a Windows build
older than 19044 (21H2), the first released build with GPU support in WSL. Each gets
its own cause and fix, ranked above the symptoms they explain ("couldn't communicate
with the NVIDIA driver", "Found no NVIDIA driver"). PyTorch's "The NVIDIA driver on your
system is too old (found version 11040)" states the CUDA version the driver supports
(1000 * major + 10 * minor: 11.4); the fix names it and the driver floors of the newer
CUDA majors (``data/nvidia.yaml``).
"""

from __future__ import annotations

import re

from provisioner.diagnosis.base import FACT_RANK, FAMILY_RANK, finding
from provisioner.logscan import Hit
from provisioner.signatures import Match

ANCHORS = (
    "-microsoft",
    "[version 10.0.",
    "version: 10.0.",
    "number: 10.0.",
    "build 1",
    "build 2",
    "too old (found version",
)

WSL_GPU_SOURCES = (
    "https://learn.microsoft.com/windows/wsl/tutorials/gpu-compute",
    "https://docs.nvidia.com/cuda/wsl-user-guide/index.html",
)
DRIVER_VERSION_SOURCE = (
    "https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__VERSION.html"
    " (cudaDriverGetVersion: 1000 * major + 10 * minor)"
)
KERNEL_FLOOR = (4, 19, 121)
BUILD_FLOOR = 19044

_WSL1 = re.compile(r"\b(\d+\.\d+\.\d+)-(\d{5})-Microsoft\b", re.I)
_WSL2 = re.compile(r"\b(\d+\.\d+\.\d+(?:\.\d+)?)-microsoft-(?:standard|wsl2)", re.I)
_BUILD = re.compile(
    r"(?:\[Version|Version:|version|number:|build(?:\s+number)?:?)\s*10\.0\.(\d{5})"
    r"|\bbuild\s+(\d{5})\b",
    re.I,
)


_DRIVER = re.compile(
    r"driver\s+on\s+your\s+system\s+is\s+too\s+old\s+\(found\s+version\s+(\d{4,6})\)", re.I
)
_PLATFORMS = {"linux": ("linux",), "windows": ("windows",), "wsl2": ("windows",)}


def _tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _driver_fix(cuda: str, found: str, platforms: tuple[str, ...]) -> tuple[str, list[str]]:
    """Update the driver: what it supports, and the floors of the newer CUDA majors."""
    from provisioner.compatdata.nvidia import driver_floor

    major = int(cuda.split(".")[0])
    floors = []
    sources: list[str] = []
    for newer in ("11", "12", "13"):
        if int(newer) <= major:
            continue
        rows = [driver_floor(newer, p) for p in platforms]
        if any(r is None for r in rows):
            continue
        parts = [f"{r.driver}+" for r in rows if r is not None]
        floors.append(f"CUDA {newer}.x builds need {' / '.join(parts)}")
        sources.extend(r.source for r in rows if r is not None)
    where = {"linux": "Linux", "windows": "Windows"}
    on = " / ".join(where[p] for p in platforms)
    need = f" (on {on}: {', '.join(floors)})" if floors else ""
    fix = (
        f"Update the NVIDIA driver: it supports CUDA {cuda} at most (found version {found}), "
        f"older than the CUDA the framework was built for{need}; or install the framework "
        f"build for CUDA {cuda} or older."
    )
    return fix, sources[:3]


class Facts:
    """WSL 1, an old WSL kernel, an old Windows build."""

    anchors: tuple[str, ...] = ANCHORS

    def __init__(self) -> None:
        self._found: dict[str, Match] = {}

    def observe(self, hit: Hit, low: str) -> None:
        text = hit.text
        m = _WSL1.search(text) if "wsl.wsl1" not in self._found else None
        if m is not None and m.group(1).startswith("4.4."):
            self._found["wsl.wsl1"] = finding(
                id="wsl.wsl1",
                line=hit.number,
                excerpt=text,
                meaning=f"The kernel string {m.group(0)} is WSL 1's: this distro runs "
                "under WSL 1, which has no GPU access at all (no /dev/dxg, no "
                "/usr/lib/wsl/lib), whatever driver Windows has.",
                fix="Convert the distro to WSL 2: in Windows run `wsl -l -v` (the VERSION "
                "column), then `wsl --set-version <distro> 2` and "
                "`wsl --set-default-version 2`; inside, `uname -r` must then end in "
                "-microsoft-standard-WSL2.",
                sources=WSL_GPU_SOURCES,
                rank=FACT_RANK,
            )
        if "wsl.kernel-too-old" not in self._found and (m := _WSL2.search(text)):
            version = m.group(1)
            if _tuple(version)[:3] < KERNEL_FLOOR:
                self._found["wsl.kernel-too-old"] = finding(
                    id="wsl.kernel-too-old",
                    line=hit.number,
                    excerpt=text,
                    meaning=f"The WSL 2 kernel {version} is older than 4.19.121, the first "
                    "with GPU paravirtualisation (/dev/dxg): CUDA and DirectML cannot reach "
                    "the GPU.",
                    fix="Update the WSL kernel: run `wsl --update` in Windows, then "
                    "`wsl --shutdown` and reopen the distro (`uname -r` must show 4.19.121 "
                    "or newer; current WSL ships 5.15 or newer).",
                    sources=WSL_GPU_SOURCES,
                    rank=FACT_RANK,
                )
        if "windows.build-too-old" not in self._found and (m := _BUILD.search(text)):
            build = int(m.group(1) or m.group(2))
            if 10240 <= build < BUILD_FLOOR:
                self._found["windows.build-too-old"] = finding(
                    id="windows.build-too-old",
                    line=hit.number,
                    excerpt=text,
                    meaning=f"Windows build {build} is older than 19044 (Windows 10 21H2), "
                    "the first released build whose WSL 2 reaches the GPU: inside WSL no "
                    "CUDA or DirectML device can work, whatever the driver.",
                    fix="Update Windows to Windows 10 21H2 (build 19044) or newer, or "
                    "Windows 11, then run `wsl --update`; native Windows DirectML needs "
                    "build 16299 or newer.",
                    sources=WSL_GPU_SOURCES,
                    rank=FACT_RANK,
                )

        if "cuda.insufficient-driver" not in self._found and (m := _DRIVER.search(text)):
            found = m.group(1)
            n = int(found)
            cuda = f"{n // 1000}.{(n % 1000) // 10}"
            fix, sources = _driver_fix(cuda, found, ("linux", "windows"))
            fixes = {t: _driver_fix(cuda, found, p)[0] for t, p in _PLATFORMS.items()}
            fixes["wsl2"] = fixes["wsl2"].replace(
                "Update the NVIDIA driver", "Update the NVIDIA driver in Windows", 1
            )
            self._found["cuda.insufficient-driver"] = finding(
                id="cuda.insufficient-driver",
                line=hit.number,
                excerpt=text,
                meaning=f"The NVIDIA driver supports CUDA {cuda} at most (PyTorch's found "
                f"version {found}), older than the CUDA runtime the framework was built with.",
                fix=fix,
                fixes=fixes,
                sources=[DRIVER_VERSION_SOURCE, *sources],
                rank=FAMILY_RANK,
            )

    def findings(self) -> list[Match]:
        return list(self._found.values())
