"""The hosts issue 10 names, replayed: what a PATH-only, dpkg-only, kernel-name-only probe
got wrong. Their full verdict tables are in tests/data/hosts/<name>/expected.yaml (and
check.sh is held to the same by the parity test); the reasons are asserted here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.checks.doctor import Diagnosis
from provisioner.host.facts import NvidiaSmi
from tests.checks.host_replay import PROFILES_DIR, ReplayedHost, diagnose_host

Host = Callable[[str], ReplayedHost]


def run(host: Host, name: str, profile: str, tmp: Path) -> Diagnosis:
    return diagnose_host(host(name), PROFILES_DIR / f"{profile}.yaml", tmp)


def by_id(d: Diagnosis) -> dict[str, tuple[str, str, str]]:
    return {v.id: (v.status, v.summary, v.fix) for v in d.verdicts}


def test_append_windows_path_false_finds_the_tools_under_the_automount_root(
    host: Host, tmp_path: Path
) -> None:
    d = run(host, "wsl2-append-windows-path-false", "cuda-wsl2", tmp_path)
    v = by_id(d)
    assert d.ready
    assert v["windows.build"][:2] == ("pass", "Windows build: 22000 (need >= 19044)")
    assert v["gpu.adapter"][0] == "pass" and "reported by" not in v["gpu.adapter"][1]
    assert d.facts.wsl_package == "1.2.2.0"


def test_root_shell_finds_nvidia_smi_in_the_wsl_driver_folder(host: Host, tmp_path: Path) -> None:
    d = run(host, "wsl2-root-shell", "cuda-wsl2", tmp_path)
    assert d.ready
    assert by_id(d)["nvidia.smi"][:2] == ("pass", "nvidia-smi: 555.99")
    assert isinstance(d.facts.nvidia_smi, NvidiaSmi)
    assert d.facts.nvidia_smi.path == "/usr/lib/wsl/lib/nvidia-smi"


@pytest.mark.parametrize(
    ("name", "status", "summary"),
    [
        (
            "wsl2-fedora-no-linux-driver",
            "pass",
            "Linux NVIDIA driver in the distro: none (checked: rpm, libraries and kernel modules)",
        ),
        (
            "wsl2-fedora-linux-driver",
            "fail",
            "Linux NVIDIA driver in the distro: "
            "/lib/modules/5.15.146.1-microsoft-standard-WSL2/extra/nvidia.ko.xz, "
            "/usr/lib64/libcuda.so.1, /usr/lib64/libnvidia-ml.so.1, cuda-drivers, "
            "nvidia-driver-latest-dkms-cuda, nvidia-driver-latest-dkms-cuda-libs",
        ),
        (
            "wsl2-debian-package-names",
            "fail",
            "Linux NVIDIA driver in the distro: libcuda1, nvidia-driver, nvidia-smi",
        ),
    ],
)
def test_linux_driver_without_dpkg_or_under_debian_names(
    host: Host, tmp_path: Path, name: str, status: str, summary: str
) -> None:
    d = run(host, name, "cuda-wsl2", tmp_path)
    v = by_id(d)["nvidia.no-linux-driver"]
    assert v[:2] == (status, summary)
    assert d.ready is (status == "pass")
    if status == "fail":
        assert "dnf remove" in v[2] and "apt purge" in v[2]


def test_interop_disabled_in_the_wsl_interop_file(host: Host, tmp_path: Path) -> None:
    d = run(host, "wsl2-interop-disabled-at-runtime", "cuda-wsl2", tmp_path)
    v = by_id(d)
    assert v["wsl.interop"][:2] == ("warn", "interop: disabled (expected enabled)")
    assert "sudo tee /proc/sys/fs/binfmt_misc/WSLInterop" in v["wsl.interop"][2]
    assert v["windows.build"][:2] == ("unknown", "Windows build: unknown (interop is disabled)")
    assert "WSL interop on" in v["windows.build"][2]  # what would settle it
    assert v["gpu.adapter"][0] == v["gpu.driver"][0] == "pass"  # settled by nvidia-smi
    assert not d.ready


@pytest.mark.parametrize(
    ("name", "value", "fix"),
    [
        ("wsl2-interop-disabled", "off in wsl.conf", "[interop] enabled=true"),
        ("wsl2-interop-binfmt-missing", "not registered", "systemd-binfmt"),
    ],
)
def test_interop_fix_names_the_cause(
    host: Host, tmp_path: Path, name: str, value: str, fix: str
) -> None:
    v = by_id(run(host, name, "directml-wsl2", tmp_path))["wsl.interop"]
    assert v[:2] == ("warn", f"interop: {value} (expected enabled)")
    assert fix in v[2]
    if value == "not registered":
        assert "does not help" in v[2]


def test_cuda_version_err_fails_nvidia_smi(host: Host, tmp_path: Path) -> None:
    d = run(host, "wsl2-cuda-version-err", "cuda-wsl2", tmp_path)
    v = by_id(d)
    assert v["nvidia.smi"][:2] == (
        "fail",
        "nvidia-smi: failed: CUDA Version: ERR! (the driver cannot serve CUDA)",
    )
    assert v["nvidia.wddm"][0] == "skip" and not d.ready


def test_custom_kernel_without_microsoft_is_still_wsl2(host: Host, tmp_path: Path) -> None:
    d = run(host, "wsl2-custom-kernel-no-microsoft", "cuda-wsl2", tmp_path)
    assert d.facts.os_kind == "wsl2" and d.facts.kernel == "5.19.0"
    assert by_id(d)["os.wsl2"][:2] == ("pass", "host: wsl2")
    assert d.ready
