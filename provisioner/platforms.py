"""Target platforms: the one home for os/arch -> conda subdir, uv's --python-platform,
and whether a host is Windows. Used by lock, render, apply and the environment backends.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # light to import: uvbin and the CLI's start-up path use this module
    from provisioner.profile.model import Target

# Profile arch spellings -> the CPU name conda and uv use.
_CPU = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
# (windows?, cpu) -> conda subdir.
_SUBDIR = {
    (False, "x86_64"): "linux-64",
    (False, "aarch64"): "linux-aarch64",
    (True, "x86_64"): "win-64",
    (True, "aarch64"): "win-arm64",
}
# conda subdir -> uv --python-platform. manylinux_2_31 matches the __glibc the conda
# part assumes (provisioner.lock.conda.DEFAULT_GLIBC).
PYTHON_PLATFORM: dict[str, str] = {
    "linux-64": "x86_64-manylinux_2_31",
    "linux-aarch64": "aarch64-manylinux_2_31",
    "win-64": "x86_64-pc-windows-msvc",
    "win-arm64": "aarch64-pc-windows-msvc",
}


def cpu(arch: str) -> str:
    """The CPU name (x86_64, aarch64) for a profile's ``target.arch`` (arm64 is aarch64)."""
    return _CPU.get(arch, arch)


def target_subdir(target: Target) -> str:
    """The conda subdir a target installs from: wsl2 and linux are Linux, by arch."""
    return _SUBDIR[(target.os.value == "windows", cpu(target.arch))]


def target_platforms(target: Target) -> tuple[str, ...]:
    """Every conda subdir a target's lock holds (one today)."""
    return (target_subdir(target),)


def python_platform(subdir: str) -> str | None:
    """uv's ``--python-platform`` for a conda subdir; None for one uv cannot target."""
    return PYTHON_PLATFORM.get(subdir)


def is_windows(platform: str | None = None) -> bool:
    """Whether ``platform`` (a ``sys.platform`` value; this host's when None) is Windows."""
    return (sys.platform if platform is None else platform) == "win32"


def host_subdir() -> str:
    """The conda subdir of the machine this runs on (apply runs on the target)."""
    if is_windows():
        return "win-64"
    machine = os.uname().machine
    if sys.platform == "darwin":
        return "osx-arm64" if machine == "arm64" else "osx-64"
    return {"x86_64": "linux-64", "aarch64": "linux-aarch64"}.get(machine, f"linux-{machine}")
