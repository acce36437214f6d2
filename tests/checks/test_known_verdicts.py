"""The verdicts the captured sources call for (fixtures INDEX.md), asserted by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.checks.doctor import Diagnosis
from tests.checks.host_replay import PROFILES_DIR, ReplayedHost, diagnose_host


def run(host: Callable[[str], ReplayedHost], name: str, profile: str, tmp: Path) -> Diagnosis:
    return diagnose_host(host(name), PROFILES_DIR / f"{profile}.yaml", tmp)


def by_id(d: Diagnosis) -> dict[str, tuple[str, str, str]]:
    return {v.id: (v.status, v.summary, v.fix) for v in d.verdicts}


def test_wsl1_fails_os_wsl2_with_a_fix(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = run(host, "wsl1-build-20236", "directml-wsl2", tmp_path)
    status, summary, fix = by_id(d)["os.wsl2"]
    assert (status, summary) == ("fail", "host: wsl1 (expected wsl2)")
    assert "wsl --set-version" in fix
    assert not d.ready


def test_old_kernel_without_dxg(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    v = by_id(run(host, "wsl2-old-kernel-4.19.104-zh-18362", "cuda-wsl2", tmp_path))
    assert v["wsl.kernel"][:2] == ("fail", "WSL kernel: 4.19.104 (need >= 5.10.43.3)")
    assert v["gpu.dxg"][0] == "fail"
    # the localized `[版本 10.0.18362.207]` still yields the build
    assert v["windows.build"][:2] == ("fail", "Windows build: 18362 (need >= 19044)")
    # no powershell.exe: the adapter is unknown with the reason, never guessed
    assert v["gpu.adapter"][:2] == (
        "unknown",
        "GPU: unknown (powershell.exe not found on PATH or under "
        "/mnt/c/Windows/System32/WindowsPowerShell/v1.0)",
    )
    assert "nvidia-smi (on PATH or in /usr/lib/wsl/lib)" in v["gpu.adapter"][2]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("wsl2-linux-driver-440-in-distro", "couldn't communicate with the NVIDIA driver"),
        ("wsl2-nvml-blocked-utils-510", "GPU access blocked by the operating system"),
    ],
)
def test_linux_driver_inside_wsl(host, tmp_path, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    v = by_id(run(host, name, "cuda-wsl2", tmp_path))
    assert v["nvidia.no-linux-driver"][0] == "fail"
    assert "apt purge" in v["nvidia.no-linux-driver"][2]
    assert v["nvidia.smi"][0] == "fail" and message in v["nvidia.smi"][1]
    assert v["nvidia.wddm"][0] == "skip"  # not judged from a failed nvidia-smi


def test_nvml_host_driver_string_maps_to_526_86(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    v = by_id(run(host, "wsl2-nvml-blocked-utils-510", "cuda-wsl2", tmp_path))
    # 31.0.15.2686 is 526.86: below 527.41, what torch 2.4.1's CUDA 12.1 build needs
    assert v["gpu.driver"][:2] == (
        "fail",
        "GPU driver: NVIDIA GPU (name not captured) driver 526.86 (need >= 527.41)",
    )


def test_driver_below_the_cuda_12_floor_fails(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = run(host, "wsl2-win-insider-25342-quadro-527", "cuda-wsl2", tmp_path)
    assert by_id(d)["gpu.driver"][:2] == (
        "fail",
        "GPU driver: Quadro RTX 4000 driver 527.27 (need >= 527.41)",
    )
    assert not d.ready
    assert run(host, "wsl2-win-insider-25342-quadro-527", "directml-wsl2", tmp_path).ready


def test_build_18363_has_no_gpu_pv(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    v = by_id(run(host, "wsl2-win10-18363-cuda-code35", "cuda-wsl2", tmp_path))
    assert v["windows.build"][0] == "fail"


def test_inbox_wsl_warns_but_stays_ready(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = run(host, "wsl2-inbox-wsl-win10-19045", "directml-wsl2", tmp_path)
    assert by_id(d)["wsl.package"][0] == "warn"
    assert d.ready
    assert d.facts.wsl_status_kernel == "5.10.102.1"


def test_custom_kernel_trusts_proc_version(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = run(host, "wsl2-custom-kernel-5.19", "cuda-wsl2", tmp_path)
    assert d.facts.kernel == "5.19.0" and d.facts.wsl_status_kernel == "5.10.102.1"
    assert by_id(d)["wsl.kernel"][0] == "pass"


@pytest.mark.parametrize("name", ["wsl2-interop-disabled", "wsl2-interop-binfmt-missing"])
def test_interop_off_makes_windows_facts_unknown(host, tmp_path, name: str) -> None:  # type: ignore[no-untyped-def]
    d = run(host, name, "directml-wsl2", tmp_path)
    v = by_id(d)
    assert v["wsl.interop"][0] == "warn"
    assert v["windows.build"][:2] == ("unknown", "Windows build: unknown (interop is disabled)")
    assert not d.ready  # a required check is unknown


def test_hung_command_times_out_as_unknown(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    v = by_id(run(host, "wsl2-hung-powershell", "directml-wsl2", tmp_path))
    assert v["windows.edition"][:2] == (
        "unknown",
        "Windows Server SKU: unknown (powershell.exe timed out)",
    )
    # nvidia-smi inside WSL settles the adapter and its Windows driver instead
    assert v["gpu.adapter"] == (
        "pass",
        "GPU: NVIDIA GeForce RTX 4070 ... (nvidia) (reported by nvidia-smi)",
        "",
    )


def test_windows_10_1809_native_directml_ok_but_no_wsl_gpu(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert run(host, "windows-10-17763-amd-intel", "directml-windows", tmp_path).ready
    assert not run(host, "windows-10-17763-amd-intel", "directml-wsl2", tmp_path).ready


def test_torch_directml_in_wsl_needs_windows_11(host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert run(host, "wsl2-win11-nvidia-555", "torch-directml-wsl2", tmp_path).ready
    v = by_id(run(host, "wsl2-win10-19045-nvidia-multi-distro", "torch-directml-wsl2", tmp_path))
    assert v["windows.build"][:2] == ("fail", "Windows build: 19045 (need >= 22000)")
