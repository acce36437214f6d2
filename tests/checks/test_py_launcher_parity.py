"""``py -0p`` read the same by provision doctor (Python) and check.ps1 (.NET regex, which
cannot run here: the pattern the script carries is applied with Python's ``re``, which
agrees with .NET on this subset, provisioner/host/patterns.py), for the launchers of
Python 3.7 to 3.13."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.host.parse_windows import py_launcher_interpreters
from tests.checks.test_python_discovery_parity import Host, check_ps1_found, doctor_replayed

REPO = Path(__file__).resolve().parents[2]
USER = "C:\\Users\\Zo\u00eb O'Brien\\AppData\\Local\\Programs\\Python"

# (launcher, what `py -0p` printed to stdout, the 64-bit CPython versions in it)
OUTPUTS = [
    # 3.7-3.10 (PC/launcher.c): "\n %-15ls%ls", the default's " *" on stderr, which a
    # console shows after the path; 32-bit interpreters as -X.Y-32.
    ("3.7", f"\n -3.7-64        {USER}\\Python37\\python.exe", ["3.7"]),
    (
        "3.10",
        f"\n -3.10-64       {USER}\\Python310\\python.exe *"
        "\n -3.9-32        C:\\Python39-32\\python.exe",
        ["3.10"],
    ),
    # 3.11+ (PC/launcher2.c): " %-16s %s", the default marked in the tag column.
    (
        "3.12",
        f" -V:3.12 *        {USER}\\Python312\\python.exe\r\n"
        " -V:3.11          C:\\Program Files\\Python311\\python.exe\r\n",
        ["3.12", "3.11"],
    ),
    (
        "3.13",
        " -V:3.13t         C:\\Python313\\python3.13t.exe\r\n"
        " -V:3.13 *        C:\\Python313\\python.exe\r\n"
        " -V:3.12-arm64    C:\\Python312-arm64\\python.exe\r\n"
        " -V:3.11-32       C:\\Python311-32\\python.exe\r\n"
        " -V:Astral/CPython3.12.4 C:\\uv\\python.exe\r\n",
        ["3.13"],
    ),
    ("none", "No installed Pythons found!\r\n", []),
]


@pytest.mark.parametrize(("launcher", "output", "versions"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_doctor_and_check_ps1_read_the_same_versions(
    launcher: str, output: str, versions: list[str], tmp_path: Path
) -> None:
    """check.ps1's own statements run by the interpreter (test_python_discovery_parity.py)
    on a host whose only Python source is the launcher."""
    host = Host([], {}, {}, {"py -0p": (0, output)})
    pairs = py_launcher_interpreters(output)
    assert [v for v, _ in pairs] == versions
    assert doctor_replayed(host, tmp_path) == pairs
    assert check_ps1_found(host) == pairs
