"""Parsers for Windows-side output: ``cmd /c ver``, the adapter/OS query, ``py -0p``.

``ver`` is localized (``[版本 10.0.18362.30]``), so only its bracketed numbers count.
The adapter query is our own PowerShell line format (see :data:`WINDOWS_QUERY`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provisioner.host.patterns import PY_LAUNCHER_LINE

# One PowerShell call for the OS and the video controllers, printed as tab-separated
# rows so that Python, bash and PowerShell read them the same way (no JSON parser in bash).
WINDOWS_QUERY = (
    "$o=Get-CimInstance Win32_OperatingSystem;"
    '"os`t$($o.Caption)`t$($o.ProductType)`t$($o.BuildNumber)";'
    "Get-CimInstance Win32_VideoController|ForEach-Object{"
    '"gpu`t$($_.Name)`t$($_.DriverVersion)`t$($_.AdapterCompatibility)`t$($_.PNPDeviceID)"}'
)
POWERSHELL_ARGS = ("-NoProfile", "-NonInteractive", "-Command", WINDOWS_QUERY)

_VER = re.compile(r"\[[^\]\d]*(\d+)\.(\d+)\.(\d+)(?:\.(\d+))?\s*\]")
SOFTWARE_ADAPTERS = ("Microsoft Basic Render Driver", "Microsoft Basic Display Adapter")
_PCI_VENDORS = {"10DE": "nvidia", "1002": "amd", "8086": "intel"}
_NAME_VENDORS = (("nvidia", "nvidia"), ("radeon", "amd"), ("amd", "amd"), ("intel", "intel"))


@dataclass(frozen=True)
class Adapter:
    """A hardware GPU: vendor (nvidia|amd|intel|other), name, raw and comparable driver."""

    vendor: str
    name: str
    driver_raw: str
    driver: str  # NVIDIA as 5xx.xx, others as the 4-part Windows version


def windows_version(ver_output: str) -> tuple[int, int] | None:
    """(build, UBR) from ``cmd /c ver``; UBR is 0 when the line has only three numbers."""
    m = _VER.search(ver_output)
    if not m:
        return None
    return int(m.group(3)), int(m.group(4) or 0)


def nvidia_driver_number(windows_driver: str) -> str | None:
    """NVIDIA's familiar number from its Windows driver string.

    The last five digits of the last two parts: ``31.0.15.2686`` -> ``526.86``,
    ``32.0.15.5599`` -> ``555.99``.
    """
    parts = windows_driver.strip().split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    digits = (parts[2] + parts[3].rjust(4, "0"))[-5:]
    return f"{int(digits[:3])}.{digits[3:]}"


def vendor_of(pnp_device_id: str, name: str, compatibility: str) -> str:
    m = re.search(r"VEN_([0-9A-Fa-f]{4})", pnp_device_id)
    if m and m.group(1).upper() in _PCI_VENDORS:
        return _PCI_VENDORS[m.group(1).upper()]
    text = f"{compatibility} {name}".lower()
    for needle, vendor in _NAME_VENDORS:
        if needle in text:
            return vendor
    return "other"


def make_adapter(name: str, driver_raw: str, compatibility: str, pnp: str) -> Adapter:
    vendor = vendor_of(pnp, name, compatibility)
    driver = driver_raw.strip()
    if vendor == "nvidia":
        driver = nvidia_driver_number(driver) or driver
    return Adapter(vendor, name.strip(), driver_raw.strip(), driver)


@dataclass(frozen=True)
class WindowsInventory:
    """What the PowerShell query printed: OS caption, whether it is a Server SKU, adapters."""

    caption: str | None
    server: bool | None
    adapters: tuple[Adapter, ...]


def parse_inventory(text: str) -> WindowsInventory:
    caption: str | None = None
    server: bool | None = None
    adapters: list[Adapter] = []
    for line in text.replace("\r", "").splitlines():
        cols = line.split("\t")
        if cols[0] == "os" and len(cols) >= 3:
            caption = cols[1].strip() or None
            # ProductType: 1 workstation, 2 domain controller, 3 server.
            server = cols[2].strip() in {"2", "3"} or "server" in cols[1].lower()
        elif cols[0] == "gpu" and len(cols) >= 5:
            if cols[1].strip() in SOFTWARE_ADAPTERS:
                continue
            adapters.append(make_adapter(cols[1], cols[2], cols[3], cols[4]))
    return WindowsInventory(caption, server, tuple(adapters))


_PY_LAUNCHER = re.compile(PY_LAUNCHER_LINE)


def py_launcher_interpreters(output: str) -> list[tuple[str, str]]:
    """(version, path) pairs of the 64-bit CPythons ``py -0p`` lists: old ``-3.8-64`` and
    new ``-V:3.12`` forms (:data:`~provisioner.host.patterns.PY_LAUNCHER_LINE`)."""
    found: list[tuple[str, str]] = []
    for line in output.replace("\r", "").splitlines():
        m = _PY_LAUNCHER.match(line)
        if m:
            found.append((m.group(1), m.group(2).strip()))
    return found
