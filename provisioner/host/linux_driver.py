"""Evidence of a Linux NVIDIA driver installed in a distro, from every source there is.

Package databases (dpkg status, ``rpm -qa``, pacman's local folders) name the driver
packages; the files a driver installs (libcuda/libnvidia-ml outside /usr/lib/wsl/lib,
``nvidia.ko`` kernel modules, the ``.run`` installer's uninstaller) catch what no package
manager knows. Inside WSL any of it is the most common breakage (DOMAIN.md §2). Each
source is reduced to its NVIDIA lines before it is recorded, so a saved snapshot holds
what the check read, not the whole package database.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.host import parse_linux, patterns
from provisioner.host.probe import Probe

FILES_SOURCE = "libraries and kernel modules"


@dataclass(frozen=True)
class LinuxDriverEvidence:
    """What was found (package names and file paths, sorted) and which sources were read."""

    found: tuple[str, ...]
    sources: tuple[str, ...]


def _rpm_names(stdout: bytes) -> bytes:
    return parse_linux.nvidia_name_lines(stdout.decode("utf-8", "replace")).encode("utf-8")


def module_paths(probe: Probe) -> list[str]:
    """nvidia.ko (compressed or not) under /lib/modules/<kernel>/ for every kernel."""
    found: list[str] = []
    for kernel in probe.listdir(patterns.MODULES_DIR) or []:
        for rel in patterns.NVIDIA_MODULES:
            for suffix in patterns.MODULE_SUFFIXES:
                path = f"{patterns.MODULES_DIR}/{kernel}/{rel}{suffix}"
                if probe.exists(path):
                    found.append(path)
    return found


def gather_linux_driver(probe: Probe) -> LinuxDriverEvidence:
    """Every sign of a Linux NVIDIA driver, and the sources that were read."""
    found: set[str] = set()
    sources: list[str] = []
    dpkg = probe.read("/var/lib/dpkg/status", keep=parse_linux.nvidia_dpkg_stanzas)
    if dpkg is not None:
        found.update(parse_linux.linux_nvidia_driver_packages(dpkg))
        sources.append("dpkg")
    rpm = probe.command(*patterns.RPM_QUERY, keep=_rpm_names)
    if rpm is not None and not rpm.timed_out and rpm.returncode == 0:
        found.update(parse_linux.nvidia_driver_names(rpm.out.split()))
        sources.append("rpm")
    pacman = probe.listdir(patterns.PACMAN_LOCAL, keep=parse_linux.is_nvidia_pacman_entry)
    if pacman is not None:
        found.update(parse_linux.nvidia_driver_names([parse_linux.pacman_name(e) for e in pacman]))
        sources.append("pacman")
    for folder in patterns.NVIDIA_LIB_DIRS:
        for name in probe.listdir(folder, keep=parse_linux.is_nvidia_library) or []:
            found.add(f"{folder}/{name}")
    found.update(module_paths(probe))
    if probe.exists(patterns.RUN_INSTALLER_MARK):
        found.add(patterns.RUN_INSTALLER_MARK)
    sources.append(FILES_SOURCE)
    return LinuxDriverEvidence(tuple(sorted(found)), tuple(sources))
