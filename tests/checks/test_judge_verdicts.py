"""How the judge turns rule outcomes into verdicts for a shipped profile's plan: which
checks wait on others, when an unknown blocks, severity, and which fix is shown.

Facts are written as the probe would observe them on a WSL 2 host with an NVIDIA GPU
(values from tests/data/hosts/wsl2-win11-nvidia-555), then changed one at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.checks.judge import Verdict, judge
from provisioner.checks.observed import Fact, Observed
from provisioner.checks.plan import plan_checks
from provisioner.host.facts import Unknown
from provisioner.profile import load_profile

PROFILES = Path(__file__).resolve().parents[2] / "profiles"

HEALTHY: dict[str, Fact] = {
    "os.kind": Observed("wsl2"),
    "kernel": Observed("5.15.153.1"),
    "windows.build": Observed("22631"),
    "windows.server": Observed("false"),
    "wsl.package": Observed("2.1.5.0"),
    "wsl.interop": Observed("enabled"),
    "wsl.conf.gpu": Observed("", "unset"),
    "dxg": Observed("true"),
    "wsl.libs": Observed(("libcuda.so.1", "libd3d12.so", "libdxcore.so", "nvidia-smi")),
    "linux.nvidia-packages": Observed((), "dpkg"),
    "nvidia.smi": Observed("555.99"),
    "nvidia.driver-model": Observed("WDDM"),
    "gpu.adapters": Observed(("nvidia|555.99|NVIDIA GeForce RTX 4070",), "nvidia-smi"),
    "python.versions": Observed(("3.11.9",)),
    "gpu.compute": Observed(("8.9|NVIDIA GeForce RTX 4070",), "nvidia-smi --query-gpu"),
}


def fact(name: str, value: Fact) -> dict[str, Fact]:
    return {name: value}


def judged(profile: str, facts: dict[str, Fact]) -> dict[str, Verdict]:
    merged = {**HEALTHY, **facts}
    planned = plan_checks(load_profile(PROFILES / f"{profile}.yaml"))
    return {v.id: v for v in judge(planned, merged)}


def test_the_healthy_host_is_ready_for_cuda_in_wsl() -> None:
    got = judged("cuda-wsl2", {})
    blocking = [v.id for v in got.values() if v.blocks]
    assert blocking == []
    assert got["os.linux"].status == "skip" and got["os.windows"].status == "skip"
    assert got["gpu.driver"].summary == (
        "GPU driver: NVIDIA GeForce RTX 4070 driver 555.99 (need >= 527.41) "
        "(reported by nvidia-smi)"
    )


def test_a_failed_check_skips_the_checks_that_need_it() -> None:
    got = judged("cuda-wsl2", fact("os.kind", Observed("wsl1")))
    assert got["os.wsl2"].status == "fail"
    for cid in ("wsl.kernel", "wsl.interop", "gpu.dxg", "windows.build", "gpu.adapter"):
        assert (got[cid].status, got[cid].summary) == ("skip", "skipped: needs os.wsl2 to pass")
    # a skip two levels down: gpu.driver needs gpu.adapter, which was skipped
    assert got["gpu.driver"].summary == "skipped: needs gpu.adapter to pass"
    assert [v.id for v in got.values() if v.blocks] == ["os.wsl2"]


def test_needs_on_a_check_that_does_not_apply_are_ignored() -> None:
    """windows.build needs os.wsl2 or os.windows; for a WSL profile os.windows does not
    apply, so its missing pass must not skip windows.build."""
    got = judged("cuda-wsl2", fact("windows.build", Observed("19045")))
    assert got["os.windows"].status == "skip"
    assert (got["windows.build"].status, got["windows.build"].summary) == (
        "pass",
        "Windows build: 19045 (need >= 19044)",
    )


@pytest.mark.parametrize(
    ("name", "severity", "blocks"),
    [("kernel", "fail", True), ("wsl.package", "warn", False)],
)
def test_an_unknown_blocks_only_a_required_check(name: str, severity: str, blocks: bool) -> None:
    got = judged("cuda-wsl2", fact(name, Unknown("wsl.exe timed out")))
    (verdict,) = [v for v in got.values() if v.status == "unknown"]
    assert (verdict.severity, verdict.blocks) == (severity, blocks)
    assert verdict.summary.endswith(": unknown (wsl.exe timed out)")
    assert "wsl.exe timed out" in verdict.fix and "{reason}" not in verdict.fix


def test_a_fact_nobody_observed_is_unknown_not_a_pass() -> None:
    facts = dict(HEALTHY)
    del facts["dxg"]
    planned = plan_checks(load_profile(PROFILES / "cuda-wsl2.yaml"))
    got = {v.id: v for v in judge(planned, facts)}
    assert got["gpu.dxg"].status == "unknown" and got["gpu.dxg"].blocks
    assert got["gpu.dxg"].summary.endswith("unknown (not observed)")


def test_a_warn_check_that_fails_warns_with_its_fix_and_does_not_block() -> None:
    got = judged("cuda-wsl2", fact("windows.server", Observed("true")))
    edition = got["windows.edition"]
    assert (edition.status, edition.blocks) == ("warn", False)
    assert edition.fix != ""


@pytest.mark.parametrize(
    ("value", "remedy"),
    [
        ("disabled", "/proc/sys/fs/binfmt_misc/WSLInterop"),  # switched off at runtime
        ("off in wsl.conf", "[interop] enabled=true"),
        ("not registered", "systemd-binfmt"),  # systemd cleared the binfmt entry
    ],
)
def test_interop_gets_the_fix_for_why_it_is_off(value: str, remedy: str) -> None:
    got = judged("cuda-wsl2", fact("wsl.interop", Observed(value)))["wsl.interop"]
    assert (got.status, got.summary) == ("warn", f"interop: {value} (expected enabled)")
    assert remedy in got.fix


def test_an_amd_driver_that_cannot_be_compared_warns_instead_of_failing() -> None:
    adapters = Observed(("amd|31.0.24033.1003|AMD Radeon RX 6800",), "powershell.exe")
    got = judged("directml-wsl2", fact("gpu.adapters", adapters))
    driver = got["gpu.driver"]
    assert (driver.status, driver.severity, driver.blocks) == ("warn", "fail", False)
    assert "check manually (AMD Software > System > Driver Version)" in driver.summary


def test_a_linux_driver_inside_wsl_fails_and_names_the_packages() -> None:
    packages = Observed(("nvidia-driver-440", "nvidia-utils-440"), "dpkg")
    got = judged("cuda-wsl2", fact("linux.nvidia-packages", packages))["nvidia.no-linux-driver"]
    assert got.status == "fail" and got.summary.endswith("nvidia-driver-440, nvidia-utils-440")


def test_verdict_json_has_the_public_keys_only() -> None:
    got = judged("cpu", {})["python.available"]
    assert got.as_json() == {
        "id": "python.available",
        "status": "pass",
        "summary": "Python: 3.11.9",
        "fix": "",
    }
