"""The whole judging step of check.sh against doctor's, on the same facts: every
verdict's status, summary and fix, and the ready flag, for shipped profiles and hosts
that fail in different ways (a check that waits on a failed one, an unknown, a warn,
a fix chosen by the observed value, an AMD floor that cannot be compared).

check.sh is rendered for the profile; its fact gathering is replaced by the facts
below (``set_fact``/``set_unknown``, its own helpers), and everything from its rules
to its last verdict runs as rendered."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from provisioner.checks.judge import judge
from provisioner.checks.observed import Fact, Observed
from provisioner.checks.plan import plan_checks
from provisioner.host.facts import Unknown
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import fact_var, render_check_sh
from tests.checks.test_judge_verdicts import HEALTHY

PROFILES = Path(__file__).resolve().parents[2] / "profiles"

CASES: list[tuple[str, dict[str, Fact]]] = [
    ("cuda-wsl2", {}),
    ("cuda-wsl2", {"os.kind": Observed("wsl1")}),
    ("cuda-wsl2", {"kernel": Unknown("/proc/version is not readable")}),
    ("cuda-wsl2", {"wsl.package": Unknown("wsl.exe timed out")}),
    ("cuda-wsl2", {"wsl.interop": Observed("off in wsl.conf")}),
    ("cuda-wsl2", {"linux.nvidia-packages": Observed(("nvidia-utils-510",), "dpkg")}),
    ("cuda-wsl2", {"nvidia.smi": Observed("", "failed: GPU access blocked")}),
    (
        "directml-wsl2",
        {"gpu.adapters": Observed(("amd|31.0.24033.1003|AMD Radeon RX 6800",), "powershell.exe")},
    ),
    ("directml-wsl2", {"windows.server": Observed("true")}),
    ("torch-directml-wsl2", {"windows.build": Observed("19045")}),
    ("cpu", {"os.kind": Observed("linux"), "python.versions": Observed(("3.10.14",))}),
    ("cpu", {"os.kind": Observed("linux")}),
]
IDS = [f"{p}-{'+'.join(f) or 'healthy'}-{i}" for i, (p, f) in enumerate(CASES)]


def check_sh_judging(profile: str) -> str:
    """check.sh's helpers, rules and verdicts for ``profile``, without its fact gathering."""
    text = render_check_sh(RenderContext(load_profile(PROFILES / f"{profile}.yaml"), "t"))
    keep = [
        line
        for line in text.splitlines()
        if line.startswith(
            ("CANNOT_COMPARE=", "P_LINUX_DRIVER_SOURCES_NOTE=", "set_fact()", "set_unknown()")
        )
    ]
    judging = re.search(r"^version_ge\(\) \{.*?(?=^# -- report)", text, re.M | re.S)
    assert judging is not None and len(keep) == 4
    return "\n".join(keep) + "\n{FACTS}\n" + judging.group(0)


def shell_facts(facts: dict[str, Fact]) -> str:
    lines = []
    for name, fact in facts.items():
        var = fact_var(name)
        if isinstance(fact, Unknown):
            lines.append(f"set_unknown {var} {shlex.quote(fact.reason)}")
        else:
            value = fact.value if isinstance(fact.value, str) else "\n".join(fact.value)
            lines.append(f"set_fact {var} {shlex.quote(value)} {shlex.quote(fact.note)}")
    return "\n".join(lines)


def run_check_sh(profile: str, facts: dict[str, Fact]) -> tuple[list[tuple[str, ...]], bool]:
    script = check_sh_judging(profile).replace("{FACTS}", shell_facts(facts), 1)
    script += (
        '\nfor id in "${IDS[@]}"; do k=${id//[^A-Za-z0-9]/_}; s="S_$k" m="M_$k" x="X_$k"\n'
        '  printf "%s\\t%s\\t%s\\t%s\\n" "$id" "${!s}" "${!m}" "${!x}"; done\n'
        'echo "ready=$READY"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    verdicts = [tuple(line.split("\t")) for line in lines[:-1]]
    return verdicts, lines[-1] == "ready=true"


@pytest.mark.parametrize(("profile", "changed"), CASES, ids=IDS)
def test_check_sh_judges_as_doctor_does(profile: str, changed: dict[str, Fact]) -> None:
    facts = {**HEALTHY, **changed}
    planned = plan_checks(load_profile(PROFILES / f"{profile}.yaml"))
    # the scripts judge every check but the doctor-only ones (records.DOCTOR_ONLY_KINDS)
    verdicts = zip(judge(planned, facts), planned, strict=True)
    python = [v for v, pc in verdicts if pc.record.in_scripts]
    bash, ready = run_check_sh(profile, facts)
    assert bash == [(v.id, v.status, v.summary, v.fix) for v in python]
    assert ready == (not any(v.blocks for v in python))


def test_the_cases_cover_every_status() -> None:
    """The table is only worth its run if it reaches each outcome at least once."""
    seen: set[str] = set()
    for profile, changed in CASES:
        planned = plan_checks(load_profile(PROFILES / f"{profile}.yaml"))
        seen |= {v.status for v in judge(planned, {**HEALTHY, **changed})}
    assert seen == {"pass", "fail", "warn", "unknown", "skip"}
