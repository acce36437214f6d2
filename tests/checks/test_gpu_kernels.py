"""doctor's gpu.kernels: whether the profile's torch build has kernels for the host's GPU
(torch's CUDA build from the compatibility data, its kernels from data/nvidia.yaml, the
GPU's compute capability from ``nvidia-smi --query-gpu=name,compute_cap`` or its name).

Captured outputs (tests/data/fixtures/SOURCES.md): a TITAN V and an RTX 5880 Ada
answering the query (driver 570.86.15), and nvidia-smi 470 refusing the field."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.checks.doctor import diagnose
from provisioner.checks.judge import judge
from provisioner.checks.observed import Fact, Observed
from provisioner.checks.plan import plan_checks
from provisioner.host import parse_nvidia
from provisioner.profile import load_profile
from tests.checks.host_replay import HOSTS_DIR, ReplayedHost
from tests.checks.test_judge_verdicts import HEALTHY

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "profiles"
FIX = REPO / "tests" / "data" / "fixtures"
TITAN_ADA = FIX / "nvidia-smi_query_gpu_compute_cap_titanv_ada_570.86.15.txt"
OLD_SMI = FIX / "nvidia-smi_query_gpu_compute_cap_invalid_field_470.txt"


def test_query_answer_is_read_by_its_header() -> None:
    gpus = parse_nvidia.parse_query(TITAN_ADA.read_text("utf-8"))
    assert gpus == (
        parse_nvidia.GpuCompute("NVIDIA TITAN V", "7.0"),
        parse_nvidia.GpuCompute("NVIDIA RTX 5880 Ada Generation", "8.9"),
    )
    assert parse_nvidia.parse_query(OLD_SMI.read_text("utf-8")) is None
    only_cap = (FIX / "nvidia-smi_query_gpu_compute_cap_only_570.133.07.txt").read_text("utf-8")
    assert parse_nvidia.parse_query(only_cap) is None  # no name column: not our question


def profile_with(tmp_path: Path, torch: str, floor: str = "580") -> Path:
    text = (PROFILES / "cuda-wsl2.yaml").read_text("utf-8")
    text = re.sub(r"pip: \[.*\]", f'pip: ["torch=={torch}"]', text)
    text = re.sub(r'nvidia: "[0-9.]+"', f'nvidia: "{floor}"', text)
    path = tmp_path / "cuda.yaml"
    path.write_text(text, "utf-8")
    return path


def kernels_verdict(profile: Path, *gpus: str, note: str = "nvidia-smi") -> tuple[str, str, str]:
    facts: dict[str, Fact] = {**HEALTHY, "gpu.compute": Observed(gpus, note)}
    (v,) = [v for v in judge(plan_checks(load_profile(profile)), facts) if v.id == "gpu.kernels"]
    return v.status, v.summary, v.fix


@pytest.mark.parametrize(
    ("torch", "gpu", "status"),
    [
        ("2.4.1", "12.0|NVIDIA GeForce RTX 5090", "fail"),  # CUDA 12.1: no sm_120
        ("2.10.0", "12.0|NVIDIA GeForce RTX 5090", "pass"),  # CUDA 12.8
        ("2.11.0", "6.1|NVIDIA GeForce GTX 1080 Ti", "fail"),  # CUDA 13: no Pascal
        ("2.4.1", "6.1|NVIDIA GeForce GTX 1080 Ti", "pass"),
        ("2.10.0", "6.1|NVIDIA GeForce GTX 1080 Ti", "fail"),  # PyTorch's 12.8 builds
        ("2.11.0", "7.0|NVIDIA TITAN V", "fail"),  # Volta: not in 2.11's builds
        ("2.11.0", "8.9|NVIDIA GeForce RTX 4070", "pass"),
        ("2.11.0", "12.1|NVIDIA GB10", "pass"),  # sm_120 cubins run on 12.1
        ("2.11.0+cu126", "6.1|NVIDIA GeForce GTX 1080 Ti", "pass"),  # PyTorch's cu126
    ],
)
def test_kernels_for_the_gpu(tmp_path: Path, torch: str, gpu: str, status: str) -> None:
    floor = "527.41" if torch.startswith("2.4") or "cu126" in torch else "580"
    got, summary, fix = kernels_verdict(profile_with(tmp_path, torch, floor), gpu)
    assert got == status, summary
    if status == "fail":
        assert "no kernel image is available" in summary
        assert "CUDA 12.8+" in fix and "whl/cu126" in fix


def test_fail_names_the_gpu_generation_and_the_build(tmp_path: Path) -> None:
    status, summary, _ = kernels_verdict(
        profile_with(tmp_path, "2.11.0"), "6.1|NVIDIA GeForce GTX 1080 Ti"
    )
    assert status == "fail"
    assert summary == (
        "GPU architecture: NVIDIA GeForce GTX 1080 Ti (Pascal, compute capability 6.1): "
        "torch 2.11.0 (CUDA 13.0) has kernels for 7.5, 8.0, 8.6, 9.0, 10.0, 12.0 "
        "(+PTX 12.0) only (no kernel image is available for this GPU)"
    )


def test_a_gpu_neither_source_knows_is_a_warning(tmp_path: Path) -> None:
    status, summary, _ = kernels_verdict(
        profile_with(tmp_path, "2.11.0"), "?|NVIDIA Future 9000", note="the GPU's name"
    )
    assert status == "warn" and "cannot tell the compute capability" in summary


def test_profiles_without_a_cuda_torch_skip_it(tmp_path: Path) -> None:
    for profile in (PROFILES / "cpu.yaml", profile_with(tmp_path, "2.11.0+cpu")):
        (pc,) = [p for p in plan_checks(load_profile(profile)) if p.id == "gpu.kernels"]
        assert not pc.applicable


def test_check_scripts_leave_it_to_doctor() -> None:
    from provisioner.render import RenderContext
    from provisioner.render.artifacts_checks import render_check_ps1, render_check_sh

    ctx = RenderContext(load_profile(PROFILES / "cuda-wsl2.yaml"), "t")
    assert "gpu.kernels" not in render_check_sh(ctx) and "gpu.kernels" not in render_check_ps1(ctx)


# --- end to end: doctor on a replayed Linux host -------------------------------------------


def host_answering_the_query(tmp_path: Path, answer: Path | None) -> ReplayedHost:
    """tests/data/hosts/linux-nvidia-527 (a Quadro RTX 4000 on driver 527.27) whose
    STAND-IN nvidia-smi also answers the compute-capability query with ``answer`` (a
    capture from another machine, read by its header), or refuses it as nvidia-smi 470 does."""
    base = tmp_path / "host"
    shutil.copytree(HOSTS_DIR / "linux-nvidia-527", base, symlinks=True)
    query = " ".join(parse_nvidia.QUERY_COMPUTE)
    out = base / "outputs" / "query.txt"
    shutil.copy(answer or OLD_SMI, out)
    rc = 0 if answer else 6
    stand_in = base / "bin" / "nvidia-smi"
    stand_in.write_text(
        stand_in.read_text("utf-8").replace(
            "  *) echo", f"  '{query}') /bin/cat \"$out/query.txt\"; exit {rc} ;;\n  *) echo"
        ),
        "utf-8",
    )
    tools = tmp_path / "tools"
    tools.mkdir()
    return ReplayedHost("q", base / "root", f"{base / 'bin'}:{tools}", {}, "linux", "")


def test_doctor_reads_the_query_and_fails_volta_on_a_cuda_13_torch(
    tmp_path: Path, host: Callable[[str], ReplayedHost]
) -> None:
    h = host_answering_the_query(tmp_path, TITAN_ADA)
    profile = tmp_path / "linux.yaml"
    text = (PROFILES / "cuda-linux.yaml").read_text("utf-8")
    text = text.replace('"torch==2.10.0"', '"torch==2.11.0"').replace('"525.60.13"', '"580"')
    profile.write_text(text, "utf-8")
    d = diagnose(load_profile(profile), root=h.root, path=h.path)
    (v,) = [v for v in d.verdicts if v.id == "gpu.kernels"]
    assert v.status == "fail" and "NVIDIA TITAN V (Volta, compute capability 7.0)" in v.summary
    assert "(reported by nvidia-smi --query-gpu=name,compute_cap)" not in v.summary  # failing GPU
    d = diagnose(load_profile(PROFILES / "cuda-linux.yaml"), root=h.root, path=h.path)
    (v,) = [v for v in d.verdicts if v.id == "gpu.kernels"]
    assert v.status == "pass", v.summary  # torch 2.10.0's 12.8 build still has sm_70


def test_an_old_nvidia_smi_falls_back_to_the_gpu_name(
    tmp_path: Path, host: Callable[[str], ReplayedHost]
) -> None:
    h = host_answering_the_query(tmp_path, None)
    d = diagnose(load_profile(PROFILES / "cuda-linux.yaml"), root=h.root, path=h.path)
    (v,) = [v for v in d.verdicts if v.id == "gpu.kernels"]
    assert v.status == "pass"
    assert v.summary.startswith("GPU architecture: Quadro RTX 4000 (7.5): torch 2.10.0")
    assert "the GPU's name" in v.summary


@pytest.mark.parametrize(
    ("name", "capability"),
    [
        ("Quadro RTX 4000", "7.5"),  # Turing, not an RTX 40-series
        ("NVIDIA RTX 4000 Ada Generation", "8.9"),
        ("NVIDIA GeForce RTX 4070 ...", "8.9"),  # nvidia-smi's table cuts long names
        ("NVIDIA GeForce RTX 5090", "12.0"),
        ("Quadro RTX 5000", "7.5"),
        ("NVIDIA RTX A4000", "8.6"),
        ("NVIDIA GeForce GTX 1080 Ti", "6.1"),
        ("NVIDIA GeForce GTX 970", "5.2"),
        ("Tesla V100-SXM2-16GB", "7.0"),
        ("NVIDIA H100 80GB HBM3", "9.0"),
        ("NVIDIA GeForce RTX ...", None),
    ],
)
def test_capability_from_the_name(name: str, capability: str | None) -> None:
    from provisioner.compatdata.nvidia import capability_of

    assert capability_of(name) == capability
