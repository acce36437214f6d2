"""Dotted versions: one reading for doctor, check.sh and the compatibility table.

The cases pin the edge semantics (4-field versions, trailing text, pre-release tags,
missing fields, leading zeros); the parity test runs check.sh's own ``version_ge`` and
``driver_at_least`` under bash on the same cases, so the Python judge and the script
cannot drift apart."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from provisioner.checks.judge import driver_at_least
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import render_check_sh
from provisioner.versions import at_least, minor_between, numbers

REPO = Path(__file__).resolve().parents[1]

AT_LEAST = [
    # (have, need, have >= need)
    ("5.15.153.1", "5.10.16", True),  # WSL 2 kernel, four fields against three
    ("5.10.16", "5.10.16.3", False),  # a fourth field counts
    ("5.10.16.3", "5.10.16.3", True),
    ("5.10", "5.10.0", True),  # a missing field is 0
    ("5.10.0", "5.10", True),
    ("5.9", "5.10", False),  # numbers, not strings
    ("546.33", "546.4", True),
    ("546.4", "546.33", False),
    ("31.0.101.4502", "31.0.101.4503", False),  # Windows DriverVersion, four fields
    ("31.0.101.4502", "31.0.101.4502", True),
    ("007", "7", True),  # leading zeros are decimal, not octal
    ("7", "007", True),
    ("19045", "22000", False),  # Windows builds
    # Trailing text and pre-release tags: a field that is not all digits reads as 0,
    # so text never makes a version larger.
    ("5.15.153.1-microsoft-standard-WSL2", "5.15.153", True),
    ("5.15.153.1-microsoft-standard-WSL2", "5.15.153.1", False),
    ("2.0.0rc1", "2.0.0", True),  # reads as 2.0.0
    ("2.1rc1", "2.1", False),  # reads as 2.0
    ("2.1rc1", "2.0.5", False),
    ("", "0", True),
    ("abc", "0", True),
    ("0", "abc", True),
    ("1", "", True),
    ("\u0663", "1", False),  # a non-ASCII digit is not a digit here (as in bash)
]


@pytest.mark.parametrize(("have", "need", "expected"), AT_LEAST)
def test_at_least(have: str, need: str, expected: bool) -> None:
    assert at_least(have, need) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5.15.153.1-microsoft-standard-WSL2", (5, 15, 153, 0)),
        ("31.0.101.4502", (31, 0, 101, 4502)),
        ("546.33", (546, 33)),
        ("2.0.0rc1", (2, 0, 0)),
        ("3.10", (3, 10)),
        ("", (0,)),
        (19045, (19045,)),  # ints (min_build) read as their digits
    ],
)
def test_numbers(text: object, expected: tuple[int, ...]) -> None:
    assert numbers(text) == expected


@pytest.mark.parametrize(
    ("version", "low", "high", "expected"),
    [
        ("3.10", "3.8", "3.10", True),
        ("3.10.4", "3.8", "3.10", True),  # fields after the minor one are not compared
        ("3.11", "3.8", "3.10", False),
        ("3.9", "3.10", "3.12", False),  # numbers: 9 < 10
        ("3.7", "3.5", "3.7", True),
        ("3", "3.5", "3.7", False),  # 3 reads as 3.0
        ("3.5", "3", "3.6", True),
    ],
)
def test_minor_between(version: str, low: str, high: str, expected: bool) -> None:
    assert minor_between(version, low, high) is expected


DRIVERS = [
    # (vendor, driver, floor, meets: True, False or None for cannot be compared)
    ("nvidia", "546.33", "527.41", True),
    ("nvidia", "527.41", "546.33", False),
    ("intel", "31.0.101.4502", "27.20.100.9999", True),  # only the build orders Intel's
    ("intel", "27.20.100.9999", "31.0.101.4502", False),
    ("amd", "31.0.24033.1003", "0", True),
    ("amd", "31.0.24033.1003", "0.0", True),  # 0.0 is 0, as check.sh and check.ps1 read it
    ("amd", "31.0.24033.1003", "20.20.01.05", None),
]


@pytest.mark.parametrize(("vendor", "driver", "floor", "expected"), DRIVERS)
def test_driver_at_least(vendor: str, driver: str, floor: str, expected: bool | None) -> None:
    assert driver_at_least(vendor, driver, floor) is expected


def _check_sh_functions(*names: str) -> str:
    text = render_check_sh(RenderContext(load_profile(REPO / "profiles" / "cpu.yaml"), "test"))
    parts = []
    for name in names:
        found = re.search(rf"^{name}\(\) \{{(?:[^\n]*\}}$|.*?^\}}$)", text, re.M | re.S)
        assert found, f"check.sh has no {name}()"
        parts.append(found.group(0))
    return "\n".join(parts)


def test_check_sh_reads_versions_as_python_does() -> None:
    functions = _check_sh_functions("version_ge", "intel_build", "driver_at_least")
    lines = [functions]
    for have, need, _ in AT_LEAST:
        lines.append(f'version_ge {shlex.quote(have)} {shlex.quote(need)}; echo "ge $?"')
    for vendor, driver, floor, _ in DRIVERS:
        lines.append(f'driver_at_least {vendor} {driver} {floor}; echo "driver $?"')
    done = subprocess.run(
        ["bash", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=60, check=True
    )
    codes = done.stdout.split("\n")
    bash_ge = [line == "ge 0" for line in codes if line.startswith("ge ")]
    bash_driver = [
        {"driver 0": True, "driver 1": False, "driver 2": None}[line]
        for line in codes
        if line.startswith("driver ")
    ]
    assert bash_ge == [at_least(have, need) for have, need, _ in AT_LEAST]
    assert bash_driver == [driver_at_least(v, d, f) for v, d, f, _ in DRIVERS]
