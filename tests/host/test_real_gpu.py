"""On a machine with an NVIDIA GPU, the real nvidia-smi is parsed and cuda-linux judged.

Skipped (with that reason) where no nvidia-smi is on PATH, as on the CPU-only CI box.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provisioner.checks.doctor import diagnose
from provisioner.host.facts import NvidiaSmi, gather
from provisioner.host.probe import Probe
from provisioner.profile import load_profile

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.gpu
def test_real_nvidia_smi_is_parsed_and_cuda_linux_judged() -> None:
    if shutil.which("nvidia-smi") is None:
        pytest.skip("needs an NVIDIA GPU with its driver: nvidia-smi is not on PATH here")
    facts = gather(Probe())
    smi = facts.nvidia_smi
    assert isinstance(smi, NvidiaSmi) and smi.report is not None, smi
    assert smi.report.driver and smi.report.gpus
    verdicts = {
        v.id: v for v in diagnose(load_profile(REPO / "profiles" / "cuda-linux.yaml")).verdicts
    }
    assert verdicts["nvidia.smi"].status == "pass"
    assert verdicts["gpu.adapter"].status == "pass"
