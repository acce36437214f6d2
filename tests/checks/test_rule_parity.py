"""Every rule kind, judged by ``provision doctor`` (Python) and by ``check.sh``'s own
``rule_*`` functions (bash) on the same observed values: the same outcome and the same
one-line detail, including the edges (an empty value with its note, a version that only
looks like a prefix, an adapter name holding ``|``, an AMD floor that cannot be compared).

check.ps1 cannot run here (no PowerShell); its rules are held by the golden file.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from provisioner.checks.judge import RULES
from provisioner.checks.observed import Observed
from provisioner.checks.plan import PlannedCheck
from provisioner.checks.records import DOCTOR_ONLY_KINDS, load_checks
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import render_check_sh, script_args

REPO = Path(__file__).resolve().parents[2]
RTX = "nvidia|555.99|NVIDIA GeForce RTX 4070"
UHD = "intel|31.0.101.4502|Intel(R) UHD Graphics 620"
ARC = "intel|27.20.100.9999|Intel(R) Arc(TM) A770 Graphics"
VEGA = "amd|31.0.24033.1003|AMD Radeon(TM) Vega 8 Graphics"
QUADRO = "nvidia|527.27|Quadro RTX 4000"

# (kind, observed value, note, rule parameters, outcome, detail)
Case = tuple[str, str | tuple[str, ...], str, dict[str, Any], bool | None, str]
CASES: list[Case] = [
    ("equals", "wsl2", "", {"value": "wsl2"}, True, "wsl2"),
    ("equals", "wsl1", "", {"value": "wsl2"}, False, "wsl1 (expected wsl2)"),
    ("equals", "", "not found", {"value": "wsl2"}, False, "not found (expected wsl2)"),
    ("equals", "WSL2", "", {"value": "wsl2"}, False, "WSL2 (expected wsl2)"),  # exact
    ("not_equals", "false", "", {"value": "true"}, True, "false"),
    ("not_equals", "true", "", {"value": "true"}, False, "true (must not be true)"),
    ("not_equals", "", "unset", {"value": "true"}, True, "unset"),
    ("one_of", "enabled", "", {"values": ["enabled", "on"]}, True, "enabled"),
    (
        "one_of",
        "disabled",
        "",
        {"values": ["enabled", "on"]},
        False,
        "disabled (expected one of enabled, on)",
    ),
    ("one_of", "", "unset", {"values": ["a"]}, False, "unset (expected one of a)"),
    ("version_at_least", "5.15.153.1", "", {"minimum": "5.10.43.3"}, True, ""),
    ("version_at_least", "4.19.104", "", {"minimum": "5.10.43.3"}, False, ""),
    ("version_at_least", "5.10.43", "", {"minimum": "5.10.43.3"}, False, ""),
    ("version_at_least", "22621", "", {"minimum": "19044"}, True, ""),
    ("version_at_least", "9999", "", {"minimum": "19044"}, False, ""),  # numbers, not text
    ("present", "546.33", "", {}, True, "546.33"),
    ("present", "", "failed: NVML blocked", {}, False, "failed: NVML blocked"),
    ("present", "", "", {}, False, "not found"),
    ("absent", (), "dpkg, rpm", {}, True, "none (checked: dpkg, rpm)"),
    ("absent", (), "", {}, True, "none"),
    (
        "absent",
        ("nvidia-driver-440", "nvidia-utils-440"),
        "dpkg",
        {},
        False,
        "nvidia-driver-440, nvidia-utils-440",
    ),
    (
        "contains_all",
        ("libcuda.so.1", "libd3d12.so", "libdxcore.so"),
        "",
        {"items": ["libd3d12.so", "libdxcore.so"]},
        True,
        "has libd3d12.so, libdxcore.so",
    ),
    (
        "contains_all",
        ("libdxcore.so",),
        "",
        {"items": ["libd3d12.so", "libdxcore.so"]},
        False,
        "missing libd3d12.so",
    ),
    (
        "contains_all",
        ("libd3d12.so.1",),  # a longer name is not the file
        "",
        {"items": ["libd3d12.so"]},
        False,
        "missing libd3d12.so",
    ),
    ("version_prefix", ("3.11.9", "3.7.17"), "", {"version": "3.7"}, True, "3.7.17"),
    ("version_prefix", ("3.7",), "", {"version": "3.7"}, True, "3.7"),
    ("version_prefix", ("3.70.1",), "", {"version": "3.7"}, False, "no 3.7 (found: 3.70.1)"),
    ("version_prefix", (), "", {"version": "3.11"}, False, "no 3.11 (found: none)"),
    (
        "adapter_vendor",
        (UHD, RTX),
        "nvidia-smi",
        {"vendors": ["nvidia"]},
        True,
        "NVIDIA GeForce RTX 4070 (nvidia) (reported by nvidia-smi)",
    ),
    (
        "adapter_vendor",
        (UHD,),
        "",
        {"vendors": ["amd", "nvidia"]},
        False,
        "no amd/nvidia adapter (found: Intel(R) UHD Graphics 620)",
    ),
    ("adapter_vendor", (), "", {"vendors": ["amd"]}, False, "no amd adapter (found: none)"),
    (
        "adapter_vendor",
        ("amd|1.0|Radeon | Pro",),  # a "|" inside the adapter's name stays in the name
        "",
        {"vendors": ["amd"]},
        True,
        "Radeon | Pro (amd)",
    ),
    (
        "adapter_driver",
        (QUADRO,),
        "",
        {"floors": {"nvidia": "527.41"}},
        False,
        "Quadro RTX 4000 driver 527.27 (need >= 527.41)",
    ),
    (
        "adapter_driver",
        (QUADRO, RTX),
        "dxdiag",
        {"floors": {"nvidia": "527.41"}},
        True,
        "NVIDIA GeForce RTX 4070 driver 555.99 (need >= 527.41) (reported by dxdiag)",
    ),
    (
        "adapter_driver",
        (ARC,),
        "",
        {"floors": {"intel": "31.0.101.4502"}},
        False,  # only the build orders Intel's numbers: 100.9999 < 101.4502
        "Intel(R) Arc(TM) A770 Graphics driver 27.20.100.9999 (need >= 31.0.101.4502)",
    ),
    (
        "adapter_driver",
        (UHD,),
        "",
        {"floors": {"intel": "28.20.100.8322"}},
        True,
        "Intel(R) UHD Graphics 620 driver 31.0.101.4502 (need >= 28.20.100.8322)",
    ),
    (
        "adapter_driver",
        (VEGA,),
        "",
        {"floors": {"amd": "20.20.01.05"}},
        None,
        "AMD Radeon(TM) Vega 8 Graphics driver 31.0.24033.1003: cannot compare with AMD's "
        "driver name 20.20.01.05; check manually (AMD Software > System > Driver Version) "
        "that it is 20.20.01.05 or newer",
    ),
    ("adapter_driver", (VEGA,), "", {"floors": {"amd": "0"}}, True, ""),
    (
        "adapter_driver",
        (UHD,),
        "",
        {"floors": {"nvidia": "527.41"}},
        False,
        "no supported adapter",
    ),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def record_of(kind: str) -> Any:
    """A real check record judged by ``kind`` (so its arguments take the real path)."""
    return next(r for r in load_checks() if r.rule.kind == kind)


@pytest.fixture(scope="module")
def rule_functions() -> str:
    """check.sh's rule section and the constants it reads, cut from a rendered script."""
    text = render_check_sh(RenderContext(load_profile(REPO / "profiles" / "cpu.yaml"), "t"))
    constants = [
        line
        for line in text.splitlines()
        if line.startswith(("CANNOT_COMPARE=", "P_LINUX_DRIVER_SOURCES_NOTE=", "set_fact()"))
    ]
    rules = re.search(r"^version_ge\(\) \{.*?(?=^# -- judging)", text, re.M | re.S)
    assert rules is not None and len(constants) == 3
    return "\n".join(constants) + "\n" + rules.group(0)


def as_shell_value(value: str | tuple[str, ...]) -> str:
    return value if isinstance(value, str) else "\n".join(value)


def test_every_rule_kind_has_cases() -> None:
    """Every kind the scripts judge too (the doctor-only ones: tests/checks/test_gpu_kernels)."""
    assert {c[0] for c in CASES} == set(RULES) - set(DOCTOR_ONLY_KINDS)


@pytest.mark.parametrize(("kind", "value", "note", "params", "outcome", "detail"), CASES, ids=IDS)
def test_python_rule(
    kind: str,
    value: str | tuple[str, ...],
    note: str,
    params: dict[str, Any],
    outcome: bool | None,
    detail: str,
) -> None:
    ok, got = RULES[kind](Observed(value, note), params)
    assert ok is outcome
    if kind == "version_at_least":
        assert got == f"{value} (need >= {params['minimum']})"
    elif detail:
        assert got == detail


def test_check_sh_rules_agree_with_python_on_every_case(rule_functions: str) -> None:
    """One bash run for the whole table: each case sets the fact, runs ``rule_<kind>``
    with the arguments the template would pass, and prints its exit code and DETAIL."""
    lines = [rule_functions]
    for kind, value, note, params, _, _ in CASES:
        planned = PlannedCheck(record_of(kind), True, "", params)
        args = " ".join(shlex.quote(a) for a in script_args(planned))
        lines.append(f"set_fact x {shlex.quote(as_shell_value(value))} {shlex.quote(note)}")
        lines.append(f'DETAIL=""; rule_{kind} x {args}; printf "%s\\t%s\\n" "$?" "$DETAIL"')
    done = subprocess.run(
        ["bash", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    got = [line.split("\t", 1) for line in done.stdout.splitlines()]
    assert len(got) == len(CASES)
    codes = {"0": True, "1": False, "2": None}
    for (kind, value, note, params, _, _), (code, detail), case_id in zip(
        CASES, got, IDS, strict=True
    ):
        python = RULES[kind](Observed(value, note), params)
        assert (codes[code], detail) == python, case_id
