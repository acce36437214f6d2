"""The accelerator branches: real GPU runs where a GPU exists (skipped here with the
reason), and the torch-directml branch driven as far as a CPU machine allows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.profile import ResolvedProfile
from provisioner.smoke import run_smoke
from tests.smoke.smoke_fixtures import build_venv, render_script


def nvidia_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    done = subprocess.run([smi, "-L"], capture_output=True, text=True, check=False)
    return done.returncode == 0 and "GPU " in done.stdout


def directml_adapter() -> bool:
    return os.name == "nt" or Path("/dev/dxg").exists()


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.network
@pytest.mark.skipif(not nvidia_gpu(), reason="needs an NVIDIA GPU (CUDA)")
def test_cuda_path_trains_on_the_gpu(resolved_profile: Callable[..., ResolvedProfile]) -> None:
    # PyPI's Linux torch wheels are CUDA builds; override where a mirror pins the CPU one.
    requirement = os.environ.get("PROVISION_TEST_CUDA_TORCH", "torch")
    python = build_venv("3.11", (requirement,), from_pypi=True)
    result = run_smoke(resolved_profile("torch-cuda"), python)
    assert result.passed, "\n".join(result.summary_lines())
    assert result.accelerator_used and result.device_used == "cuda:0"
    assert result.stage("placement").status == "pass"  # type: ignore[union-attr]
    assert result.speedup is not None
    print("\n".join(result.summary_lines()))


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.network
@pytest.mark.skipif(not directml_adapter(), reason="needs a DirectML adapter (Windows/WSL)")
def test_directml_path_trains_on_the_adapter(
    resolved_profile: Callable[..., ResolvedProfile], tf_directml_python: Path
) -> None:
    result = run_smoke(resolved_profile("tf-directml"), tf_directml_python)
    assert result.passed, "\n".join(result.summary_lines())
    assert result.accelerator_used and result.device_used == "dml:0"
    assert result.stage("placement").status in ("pass", "warn")  # type: ignore[union-attr]


# A STAND-IN for torch-directml, which needs a DirectML adapter (Windows/WSL). It
# reports two adapters, an iGPU first, but its device() is really the CPU: the smoke
# test must choose device 0, warn how to pick the other, and catch that the training
# ops did not run on a DirectML device.
TORCH_DIRECTML_STAND_IN = '''"""STAND-IN for torch-directml: two adapters, device() is the CPU."""
import torch

__version__ = "0.0.0+stand-in"
NAMES = ["Intel(R) UHD Graphics 620", "AMD Radeon RX 6600"]


def is_available():
    return True


def device_count():
    return len(NAMES)


def device_name(index):
    return NAMES[index]


def default_device():
    return 0


def device(index=0):
    return torch.device("cpu")
'''


@pytest.mark.slow
@pytest.mark.network
def test_torch_directml_branch_catches_a_device_that_is_really_the_cpu(
    resolved_profile: Callable[..., ResolvedProfile], torch_cpu_python: Path, tmp_path: Path
) -> None:
    stand_in = tmp_path / "stand-in-site"
    stand_in.mkdir()
    (stand_in / "torch_directml.py").write_text(TORCH_DIRECTML_STAND_IN)
    script = render_script(resolved_profile("torch-directml", steps=20), tmp_path)
    out = tmp_path / "result.json"
    env = {**os.environ, "PYTHONPATH": str(stand_in)}
    done = subprocess.run(
        [str(torch_cpu_python), str(script), "--json-out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["libraries"]["torch-directml"] == "0.0.0+stand-in"
    assert [a["name"] for a in result["adapters"]] == [
        "Intel(R) UHD Graphics 620",
        "AMD Radeon RX 6600",
    ]
    assert (result["device_used"], result["device_name"]) == ("dml:0", "Intel(R) UHD Graphics 620")
    assert any("DML_VISIBLE_DEVICES=1" in w and "integrated GPU" in w for w in result["warnings"])
    stages = {s["name"]: s for s in result["stages"]}
    assert stages["device"]["status"] == "warn"
    assert stages["placement"]["status"] == "fail"
    assert stages["placement"]["detail"].startswith(
        "training ops ran on CPU:0, not the accelerator: pred = x @ w, w after the SGD step"
    )
    assert stages["training"]["status"] == "pass"
    assert result["reason"].startswith("placement: training ops ran on CPU:0")
    # The speed stage compared the "accelerator" with the CPU baseline.
    assert result["cpu_steps_per_s"] > 0 and result["steps_per_s"] > 0
    assert result["speedup"] == pytest.approx(
        result["steps_per_s"] / result["cpu_steps_per_s"], rel=0.01
    )
    slower = [w for w in result["warnings"] if "is no faster than the CPU" in w]
    assert bool(slower) == (result["speedup"] <= 1.0)
    assert stages["speed"]["status"] == ("warn" if slower else "pass")
