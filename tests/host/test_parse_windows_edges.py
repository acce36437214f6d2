"""The Windows-side parsers at their edges: every ``py -0p`` layout, NVIDIA driver
strings that are not NVIDIA's four parts, vendors without a PCI id, odd query rows.

``py -0p`` layouts: the 3.11+ launcher prints ``-V:X.Y`` with the default marked ``*``
before the path (uv documents this output in crates/uv-python/src/py_launcher.rs,
https://github.com/astral-sh/uv); the launcher of Python 3.7-3.10 prints ``-X.Y-64``
with the ``*`` after the path (https://docs.python.org/3.10/using/windows.html#launcher).
"""

from __future__ import annotations

import pytest

from provisioner.host.parse_windows import (
    nvidia_driver_number,
    parse_inventory,
    py_launcher_interpreters,
    vendor_of,
)

PY312 = r"C:\Users\Ferris\AppData\Local\Programs\Python\Python312\python.exe"
PY38 = r"C:\Users\Ferris\AppData\Local\Programs\Python\Python38\python.exe"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param(
            f" -V:3.12 *        {PY312}\r\n -V:3.8           {PY38}\r\n",
            [("3.12", PY312), ("3.8", PY38)],
            id="new-default-before-path",
        ),
        pytest.param(
            "Installed Pythons found by py Launcher for Windows\r\n"
            r" -3.8-64        C:\Python38\python.exe *" + "\r\n"
            r" -3.7-32        C:\Python37-32\python.exe" + "\r\n",
            [("3.8", r"C:\Python38\python.exe")],  # 32-bit: not for a win-64 lock
            id="old-default-after-path",  # was "...python.exe *": apply skipped it
        ),
        pytest.param(
            r" -V:3.11         C:\Program Files\Python311\python.exe" + "\n",
            [("3.11", r"C:\Program Files\Python311\python.exe")],
            id="path-with-a-space",
        ),
        pytest.param(
            r" -V:3.12-arm64 * C:\Python312-arm64\python.exe" + "\n"
            r" -V:3.11-32        C:\Python311-32\python.exe" + "\n",
            [],  # ARM64 and 32-bit interpreters cannot run a win-64 lock's x64 wheels
            id="arm64-tag",
        ),
        pytest.param(
            r" -V:3.13t        C:\Python313\python3.13t.exe" + "\n",
            [],  # free-threaded: its own ABI (cp313t wheels)
            id="free-threaded-tag",
        ),
        pytest.param(
            r" -V:ContinuumAnalytics/Anaconda39-64 C:\Anaconda3\python.exe" + "\n"
            r" -V:Astral/CPython3.12 C:\uv\python.exe" + "\n",
            [],
            id="company-tags-are-not-versions",
        ),
        pytest.param(
            "No installed Pythons found!\r\n",
            [],
            id="none-installed",
        ),
        pytest.param("", [], id="empty"),
    ],
)
def test_py_launcher_list(output: str, expected: list[tuple[str, str]]) -> None:
    assert py_launcher_interpreters(output) == expected


@pytest.mark.parametrize(
    ("windows", "familiar"),
    [
        ("31.0.15.2686", "526.86"),
        ("30.0.14.7141", "471.41"),  # R470, the last for Kepler
        ("27.21.14.5671", "456.71"),
        ("32.0.15.6094", "560.94"),
        (" 32.0.15.5599 ", "555.99"),  # padded as WMI prints it
        ("31.0.15.0302", "503.02"),  # a last part under 1000 keeps its zeros
    ],
)
def test_nvidia_windows_driver_numbers(windows: str, familiar: str) -> None:
    assert nvidia_driver_number(windows) == familiar


@pytest.mark.parametrize(
    "raw", ["", "555.99", "31.0.15", "31.0.15.2686.1", "31.0.x.2686", "a.b.c.d"]
)
def test_strings_that_are_not_windows_driver_versions_map_to_nothing(raw: str) -> None:
    assert nvidia_driver_number(raw) is None


@pytest.mark.parametrize(
    ("pnp", "name", "compatibility", "vendor"),
    [
        (r"PCI\VEN_10DE&DEV_2786&SUBSYS_51721458", "NVIDIA GeForce RTX 4070", "NVIDIA", "nvidia"),
        (
            r"PCI\VEN_1002&DEV_15D8",
            "AMD Radeon(TM) Vega 8 Graphics",
            "Advanced Micro Devices",
            "amd",
        ),
        (r"PCI\VEN_8086&DEV_56A0", "Intel(R) Arc(TM) A770 Graphics", "Intel Corporation", "intel"),
        (r"PCI\VEN_1AF4&DEV_1050", "Red Hat VirtIO GPU DOD controller", "Red Hat, Inc.", "other"),
        ("", "Radeon RX 580 Series", "", "amd"),  # no PCI id: the name decides
        (r"ROOT\DISPLAY\0000", "Parsec Virtual Display Adapter", "Parsec Cloud, Inc.", "other"),
        ("", "", "Intel Corporation", "intel"),
    ],
)
def test_vendor_from_pci_id_then_name(pnp: str, name: str, compatibility: str, vendor: str) -> None:
    assert vendor_of(pnp, name, compatibility) == vendor


def test_inventory_rows_that_are_short_or_unknown_are_ignored() -> None:
    text = (
        "os\tMicrosoft Windows 10 Pro\t1\t19045\r\n"
        "gpu\tonly a name\r\n"  # too few columns
        "something else\tx\ty\r\n"
        "gpu\tMicrosoft Basic Render Driver\t10.0.19041.1\tMicrosoft\tROOT\\BasicRender\r\n"
        "gpu\tNVIDIA GeForce GTX 1060 6GB\t31.0.15.2686\tNVIDIA\tPCI\\VEN_10DE&DEV_1C03\r\n"
    )
    inv = parse_inventory(text)
    assert (inv.caption, inv.server) == ("Microsoft Windows 10 Pro", False)
    assert [(a.vendor, a.driver_raw, a.driver) for a in inv.adapters] == [
        ("nvidia", "31.0.15.2686", "526.86")
    ]


@pytest.mark.parametrize(
    ("row", "caption", "server"),
    [
        (
            "os\tMicrosoft Windows Server 2019 Standard\t3\t17763",
            "Microsoft Windows Server 2019 Standard",
            True,
        ),
        (
            "os\tMicrosoft Windows Server 2022 Datacenter\t2\t20348",
            "Microsoft Windows Server 2022 Datacenter",
            True,
        ),
        ("os\tMicrosoft Windows 11 Enterprise\t1\t22631", "Microsoft Windows 11 Enterprise", False),
        ("os\t\t1\t22631", None, False),  # an empty caption is unknown, not ""
    ],
)
def test_server_sku_from_product_type_or_caption(
    row: str, caption: str | None, server: bool
) -> None:
    inv = parse_inventory(row + "\r\n")
    assert (inv.caption, inv.server) == (caption, server)


def test_no_os_row_leaves_caption_and_sku_unknown() -> None:
    inv = parse_inventory(
        "gpu\tIntel(R) UHD Graphics 620\t31.0.101.2115\tIntel Corporation\tPCI\\VEN_8086\n"
    )
    assert (inv.caption, inv.server) == (None, None)
    assert inv.adapters[0].driver == "31.0.101.2115"  # non-NVIDIA drivers stay four parts
