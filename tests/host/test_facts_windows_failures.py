"""What the host facts say when a Windows tool answers badly from inside WSL: each fact
it feeds becomes unknown with the reason, never a guess and never an exception.

The host is tests/data/hosts/wsl2-win11-nvidia-555 (a healthy WSL 2 host replayed from
captured outputs); each case replaces one of its stand-in tools (Windows programs and
a GPU driver cannot exist on this machine) with one that misbehaves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provisioner.host.facts import HostFacts, Unknown, gather
from provisioner.host.patterns import SMI_CUDA_ERROR_FAILURE
from provisioner.host.probe import Probe
from tests.checks.host_replay import HOSTS_DIR

HEALTHY = HOSTS_DIR / "wsl2-win11-nvidia-555"
HANG = "#!/bin/sh\nexec sleep 60\n"
GPU_ROW_ONLY = (
    "#!/bin/sh\nprintf 'gpu\\tNVIDIA X\\t32.0.15.5599\\tNVIDIA\\tPCI\\\\VEN_10DE\\r\\n'\n"
)


def host(tmp_path: Path, **tools: str) -> HostFacts:
    """The healthy host with ``tools`` replacing its stand-ins (keyword names spell the
    executable with "_" for "." and "-": ``cmd_exe``, ``nvidia_smi``)."""
    shutil.copytree(HEALTHY / "bin", tmp_path / "bin")
    shutil.copytree(HEALTHY / "outputs", tmp_path / "outputs")
    for name, script in tools.items():
        path = tmp_path / "bin" / name.replace("_", ".").replace("nvidia.smi", "nvidia-smi")
        path.write_text(script, encoding="utf-8")
        path.chmod(0o755)
    probe = Probe(
        HEALTHY / "root",
        path=f"{tmp_path / 'bin'}:/usr/bin:/bin",
        env={"PYENV_ROOT": "/home/dev/.pyenv"},
        platform="linux",
        timeout=2.0,
    )
    return gather(probe)


def test_the_healthy_host_reads_every_windows_fact(tmp_path: Path) -> None:
    facts = host(tmp_path)
    assert facts.windows_build == 22000
    assert facts.windows_edition == "Microsoft Windows 11 Home"
    assert not isinstance(facts.adapters, Unknown) and len(facts.adapters) == 2


@pytest.mark.parametrize(
    ("tools", "field", "reason"),
    [
        pytest.param(
            {"cmd_exe": "#!/bin/sh\necho 'Microsoft Windows'\n"},
            "windows_build",
            "`cmd /c ver` printed no [x.y.build] version",
            id="ver-without-a-version",
        ),
        pytest.param({"cmd_exe": HANG}, "windows_build", "cmd.exe timed out", id="ver-hangs"),
        pytest.param(
            {"powershell_exe": "#!/bin/sh\necho 'Access denied' >&2\nexit 1\n"},
            "windows_server",
            "the adapter query exited 1",
            id="query-fails",
        ),
        pytest.param(
            {"powershell_exe": GPU_ROW_ONLY},
            "windows_edition",
            "the query printed no os row",
            id="query-without-os-row",
        ),
        pytest.param({"nvidia_smi": HANG}, "nvidia_smi", "nvidia-smi timed out", id="smi-hangs"),
    ],
)
def test_a_misbehaving_tool_makes_its_facts_unknown_with_the_reason(
    tmp_path: Path, tools: dict[str, str], field: str, reason: str
) -> None:
    facts = host(tmp_path, **tools)
    value = getattr(facts, field)
    assert value == Unknown(reason), value


def test_when_the_query_fails_nvidia_smi_in_wsl_names_the_adapter(tmp_path: Path) -> None:
    facts = host(tmp_path, powershell_exe="#!/bin/sh\necho 'Access denied' >&2\nexit 1\n")
    assert facts.windows_edition == Unknown("the adapter query exited 1")
    assert facts.adapters_source == "nvidia-smi"
    assert not isinstance(facts.adapters, Unknown)
    assert [(a.vendor, a.driver) for a in facts.adapters] == [("nvidia", "555.99")]


def test_a_query_without_os_row_still_lists_its_adapters(tmp_path: Path) -> None:
    facts = host(tmp_path, powershell_exe=GPU_ROW_ONLY)
    assert facts.windows_server == Unknown("the query printed no os row")
    assert not isinstance(facts.adapters, Unknown)
    assert [(a.vendor, a.driver) for a in facts.adapters] == [("nvidia", "555.99")]


def test_nvidia_smi_with_cuda_version_err_is_a_failure_not_a_report(tmp_path: Path) -> None:
    """``CUDA Version: ERR!``: the driver answered but cannot serve CUDA (microsoft/WSL#11589);
    the capture is tests/data/fixtures/nvidia-smi_wsl_cuda_version_err_546.80.txt."""
    capture = HOSTS_DIR.parent / "fixtures" / "nvidia-smi_wsl_cuda_version_err_546.80.txt"
    facts = host(tmp_path, nvidia_smi=f"#!/bin/sh\ncat '{capture}'\n")
    smi = facts.nvidia_smi
    assert not isinstance(smi, Unknown) and smi is not None
    assert (smi.report, smi.failure) == (None, SMI_CUDA_ERROR_FAILURE)


def test_nvidia_smi_that_fails_names_its_message(tmp_path: Path) -> None:
    capture = (
        HOSTS_DIR.parent / "fixtures" / "nvidia-smi_wsl_nvml_blocked_after_nvidia-utils-510.txt"
    )
    facts = host(tmp_path, nvidia_smi=f"#!/bin/sh\ncat '{capture}'\nexit 9\n")
    smi = facts.nvidia_smi
    assert not isinstance(smi, Unknown) and smi is not None and smi.report is None
    assert smi.failure is not None and "blocked by the operating system" in smi.failure
