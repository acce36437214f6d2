"""Parsers for Linux-side host files: /proc/version, /etc/wsl.conf, dpkg status.

They read structure and number shapes only, never English labels, because the
same files look slightly different across distros and WSL releases.
"""

from __future__ import annotations

import re

_VERSION_IN_PROC = re.compile(r"(\d+(?:\.\d+)+)")
# WSL 1 reports the Windows build as a fake 4.4.0 kernel: "4.4.0-20236-Microsoft".
_WSL1 = re.compile(r"\d+\.\d+\.\d+-\d+-Microsoft\b")
_WSL2 = re.compile(r"-microsoft-|microsoft-standard|WSL2", re.IGNORECASE)

LINUX_NVIDIA_DRIVER_PACKAGES = re.compile(
    r"^(nvidia-driver-\S+|nvidia-utils-\S+|cuda-drivers(-\S+)?|libnvidia-compute-\S+)$"
)


def os_kind_from_proc_version(text: str) -> str:
    """``wsl1``, ``wsl2`` or ``linux`` from the text of /proc/version."""
    if _WSL1.search(text):
        return "wsl1"
    if _WSL2.search(text):
        return "wsl2"
    return "linux"


def kernel_from_proc_version(text: str) -> str | None:
    """The first dotted number: ``5.10.16.3`` (four parts on WSL 2), trusted over wsl --status."""
    m = _VERSION_IN_PROC.search(text)
    return m.group(1) if m else None


def parse_ini(text: str) -> dict[str, dict[str, str]]:
    """A lenient INI reader for /etc/wsl.conf: sections and keys lower-cased, values stripped.

    wsl.conf allows comments with ``#`` and ``;`` and values without quotes; a line that
    is neither a section nor ``key = value`` is ignored, as WSL itself does.
    """
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and "]" in line:
            current = sections.setdefault(line[1 : line.index("]")].strip().lower(), {})
            continue
        if current is not None and "=" in line:
            key, _, value = line.partition("=")
            value = value.split("#", 1)[0].strip().strip("\"'")
            current[key.strip().lower()] = value.lower()
    return sections


def installed_packages(dpkg_status: str) -> list[str]:
    """Names of packages whose dpkg ``Status`` ends in ``installed``."""
    names: list[str] = []
    for stanza in re.split(r"\n\s*\n", dpkg_status):
        name = status = ""
        for line in stanza.splitlines():
            if line.startswith("Package:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Status:"):
                status = line.split(":", 1)[1].strip()
        if name and status.endswith(" installed"):
            names.append(name)
    return names


def linux_nvidia_driver_packages(dpkg_status: str) -> list[str]:
    """The Linux NVIDIA driver packages that must not be installed inside WSL."""
    return sorted(
        p for p in installed_packages(dpkg_status) if LINUX_NVIDIA_DRIVER_PACKAGES.match(p)
    )
