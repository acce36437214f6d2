"""`provision explain`: verdict classes, and fixes that depend on where the log came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.cli import main

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / "tests" / "data" / "logs"
PROFILES = REPO / "profiles"
DRIVER_LOG = LOGS / "nvidia-smi_wsl_couldnt_communicate_after_apt_nvidia-driver-440.txt"
PURGE = "sudo apt purge 'nvidia-driver-*'"


def test_without_context_the_destructive_fix_is_only_described(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On native Linux the purge would remove the driver the host needs."""
    assert main(["explain", str(DRIVER_LOG)]) == 1
    out = capsys.readouterr().out
    assert "fail: nvidia.driver-unreachable" in out
    assert PURGE not in out and "apt purge" not in out
    assert "--target wsl2|linux" in out
    assert out.rstrip().endswith("verdict: failure")


def test_target_wsl2_offers_the_purge_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(DRIVER_LOG), "--target", "wsl2"]) == 1
    out = capsys.readouterr().out
    assert f"fix (wsl2): Remove the distro's NVIDIA driver (`{PURGE}" in out


def test_target_linux_keeps_the_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(DRIVER_LOG), "--target", "linux", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "failure" and data["target"] == "linux"
    [m] = data["matches"]
    assert "Keep the driver installed" in m["fix"] and "purge" not in m["fix"]
    assert m["sources"] == ["https://github.com/microsoft/WSL/issues/5265"]


@pytest.mark.parametrize(
    ("profile", "expect"),
    [("cuda-wsl2.yaml", "fix (wsl2): "), ("cuda-linux.yaml", "fix (linux): Keep the driver")],
)
def test_profile_picks_the_target(
    profile: str, expect: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", str(DRIVER_LOG), "--profile", str(PROFILES / profile)]) == 1
    assert expect in capsys.readouterr().out


def test_target_and_profile_together_are_invalid_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["explain", str(DRIVER_LOG), "--target", "linux"]
    assert main([*argv, "--profile", str(PROFILES / "cuda-wsl2.yaml")]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_an_invalid_profile_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n", "utf-8")
    assert main(["explain", str(DRIVER_LOG), "--profile", str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("log", "code", "verdict"),
    [
        ("ldconfig_libcuda_not_symlink_warning.txt", 0, "benign"),
        ("torch_directml_cpu_fallback_warning_windows.txt", 0, "warning"),
        ("nvidia-smi_wsl_ok_555.99_rtx4070_truncated.txt", 0, "none"),
        ("directml-451_to_dml_unknown_error_-2147024809_wsl.txt", 1, "failure"),
    ],
)
def test_each_verdict_class_and_its_exit_code(
    log: str, code: int, verdict: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", str(LOGS / log)]) == code
    assert capsys.readouterr().out.rstrip().endswith(f"verdict: {verdict}")
