"""Parsers for Linux-side host files: /proc/version, /etc/wsl.conf, dpkg status.

They read structure and number shapes only, never English labels, because the
same files look slightly different across distros and WSL releases.
"""

from __future__ import annotations

import re

from provisioner.host import patterns

_VERSION_IN_PROC = re.compile(f"({patterns.DOTTED})")
_WSL1 = re.compile(patterns.WSL1_KERNEL)
_WSL2 = re.compile(patterns.WSL2_KERNEL, re.IGNORECASE)


def _driver_package(name: str) -> bool:
    """Whether ``name`` is a Linux NVIDIA driver package. The pattern is compiled (~1 ms)
    on first use, by ``re``'s own cache: a host without NVIDIA packages never needs it."""
    return re.match(patterns.LINUX_NVIDIA_PACKAGES, name) is not None


_NVIDIA_LIB = re.compile(patterns.NVIDIA_LIB)


def os_kind_from_proc_version(text: str, wsl_marks: bool = False) -> str:
    """``wsl1``, ``wsl2`` or ``linux`` from the text of /proc/version.

    ``wsl_marks``: another sign of WSL was seen (/run/WSL, WSLInterop, WSL_DISTRO_NAME),
    so a custom kernel whose name lacks "microsoft" is still WSL 2."""
    if _WSL1.search(text):
        return "wsl1"
    if _WSL2.search(text) or wsl_marks:
        return "wsl2"
    return "linux"


def kernel_from_proc_version(text: str) -> str | None:
    """The first dotted number: ``5.10.16.3`` (four parts on WSL 2), trusted over wsl --status."""
    m = _VERSION_IN_PROC.search(text)
    return m.group(1) if m else None


def parse_ini(text: str, lower_values: bool = True) -> dict[str, dict[str, str]]:
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
            current[key.strip().lower()] = value.lower() if lower_values else value
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
    return nvidia_driver_names(installed_packages(dpkg_status))


def nvidia_driver_names(names: list[str]) -> list[str]:
    """The names (from dpkg, rpm or pacman) that are a Linux NVIDIA driver, sorted."""
    return sorted({n for n in names if _driver_package(n)})


def nvidia_dpkg_stanzas(dpkg_status: str) -> str:
    """dpkg status cut to the Package and Status lines of NVIDIA driver packages.

    This is what ``facts --save`` keeps instead of the whole database."""
    kept = []
    for stanza in re.split(r"\n\s*\n", dpkg_status):
        # Every name the pattern takes has "nvidia" or "cuda" in it: a stanza without
        # either is skipped unparsed (a 700 KB database in ~1 ms instead of ~5).
        if "nvidia" not in stanza and "cuda" not in stanza:
            continue
        lines = [ln for ln in stanza.splitlines() if ln.startswith(("Package:", "Status:"))]
        name = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Package:")), "")
        if _driver_package(name):
            kept.append("\n".join(lines))
    return "\n\n".join(kept) + ("\n" if kept else "")


def nvidia_name_lines(text: str) -> str:
    """Lines (package names) of a package listing that are NVIDIA driver names."""
    return "".join(f"{n}\n" for n in nvidia_driver_names(text.split()))


def pacman_name(entry: str) -> str:
    """``nvidia-utils-550.78-1`` (a pacman local folder) -> ``nvidia-utils``."""
    parts = entry.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else entry


def is_nvidia_pacman_entry(entry: str) -> bool:
    return _driver_package(pacman_name(entry))


def is_nvidia_library(name: str) -> bool:
    """``libcuda.so.1``, ``libnvidia-ml.so.550.78``: what a Linux driver installs."""
    return bool(_NVIDIA_LIB.match(name))
