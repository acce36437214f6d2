"""Each framework path that can run on this machine, for real: real venvs, real
training on the CPU, judged by the real runner (nothing mocked)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.profile import ResolvedProfile
from provisioner.smoke import SmokeResult, run_smoke

pytestmark = [pytest.mark.slow, pytest.mark.network]

RESULT_KEYS = {
    "schema",
    "profile",
    "framework",
    "framework_version",
    "python",
    "libraries",
    "device_requested",
    "device_used",
    "device_name",
    "accelerator_used",
    "require_accelerator",
    "adapters",
    "steps",
    "loss_first",
    "loss_last",
    "loss_drop",
    "steps_per_s",
    "cpu_steps_per_s",
    "speedup",
    "time_to_first_step_s",
    "warnings",
    "diagnosis",
    "stages",
    "verdict",
    "reason",
    "returncode",
    "timed_out",
    "duration_s",
    "log_tail",
}


def assert_trained_on_cpu(result: SmokeResult, steps: int = 200) -> None:
    assert result.passed, "\n".join(result.summary_lines())
    assert result.returncode == 0
    assert (result.device_used, result.accelerator_used) == ("cpu", False)
    assert result.steps == steps
    assert result.loss_first is not None and result.loss_last is not None
    # The known answer: with W = 0 the first loss is E|y|^2, about OUTPUTS (256).
    assert 200 < result.loss_first < 320
    assert result.loss_drop is not None and result.loss_drop >= 10
    assert result.loss_first / result.loss_last == pytest.approx(result.loss_drop)
    assert result.steps_per_s is not None and result.steps_per_s > 0
    assert result.cpu_steps_per_s == result.steps_per_s and result.speedup is None
    assert result.time_to_first_step_s is not None and result.time_to_first_step_s > 0
    assert [(s.name, s.status) for s in result.stages][2:] == [
        ("placement", "pass"),
        ("training", "pass"),
        ("speed", "pass"),
    ]
    assert set(result.as_json()) == RESULT_KEYS
    assert any("no accelerator used" in line for line in result.summary_lines())


def test_tf_compat_v1_path_on_tensorflow_cpu_2(
    resolved_profile: Callable[..., ResolvedProfile], tf_cpu_python: Path
) -> None:
    result = run_smoke(resolved_profile("tf-cpu"), tf_cpu_python)
    assert_trained_on_cpu(result)
    assert result.framework_version == "2.21.0"
    assert dict(result.libraries)["tensorflow-cpu"] == "2.21.0"
    assert result.python is not None and result.python.startswith("3.11.")


def test_tf_directml_py37_fails_with_no_adapter_when_accelerator_required(
    resolved_profile: Callable[..., ResolvedProfile], tf_directml_python: Path
) -> None:
    result = run_smoke(resolved_profile("tf-directml"), tf_directml_python)
    assert result.verdict == "fail"
    assert result.returncode == 1
    assert "DirectML device enumeration: found 0 compatible adapters" in result.log
    assert result.reason.startswith(
        "device: no DirectML device visible: "
        "DirectML device enumeration: found 0 compatible adapters"
    )
    assert "dml.no-adapter" in [f.id for f in result.diagnosis if f.severity == "fail"]
    assert result.framework_version == "1.15.8" and result.python == "3.7.16"
    assert dict(result.libraries)["directml"].startswith("libdirectml.")
    assert [(s.name, s.status) for s in result.stages] == [
        ("import", "pass"),
        ("device", "fail"),
        ("placement", "skip"),
        ("training", "skip"),
        ("speed", "skip"),
    ]


def test_tf_directml_py37_trains_on_cpu_when_accelerator_not_required(
    resolved_profile: Callable[..., ResolvedProfile], tf_directml_python: Path
) -> None:
    result = run_smoke(
        resolved_profile("tf-directml", require_accelerator=False), tf_directml_python
    )
    assert_trained_on_cpu(result)
    assert result.reason == "trained on the CPU; no accelerator was used"
    assert any(w.startswith("no accelerator was used") for w in result.warnings)
    assert any(w.startswith("dml.no-adapter (no accelerator used)") for w in result.warnings)
    assert result.stage("device") is not None and result.stage("device").status == "warn"  # type: ignore[union-attr]


def test_pytorch_cpu_path(
    resolved_profile: Callable[..., ResolvedProfile], torch_cpu_python: Path
) -> None:
    result = run_smoke(resolved_profile("torch-cpu"), torch_cpu_python)
    assert_trained_on_cpu(result)
    assert result.framework_version == "2.13.0+cpu"


def test_pytorch_cuda_required_on_a_cpu_build_fails_with_the_reason(
    resolved_profile: Callable[..., ResolvedProfile], torch_cpu_python: Path
) -> None:
    """The CUDA branch as far as a CPU machine goes: it must fail, saying why."""
    result = run_smoke(resolved_profile("torch-cuda", steps=20), torch_cpu_python)
    assert result.verdict == "fail"
    assert result.reason == (
        "device: no CUDA device visible: torch.cuda.is_available() is False "
        "(torch 2.13.0+cpu, CUDA not in this build)"
    )


def test_pytorch_cuda_not_required_says_plainly_it_used_the_cpu(
    resolved_profile: Callable[..., ResolvedProfile], torch_cpu_python: Path
) -> None:
    result = run_smoke(
        resolved_profile("torch-cuda", steps=50, require_accelerator=False), torch_cpu_python
    )
    assert_trained_on_cpu(result, steps=50)
    assert result.reason == "trained on the CPU; no accelerator was used"


def test_too_few_steps_fails_the_loss_drop(
    resolved_profile: Callable[..., ResolvedProfile], torch_cpu_python: Path
) -> None:
    """The loss criterion really judges: 10 steps cannot reach a 1e6x drop."""
    result = run_smoke(resolved_profile("torch-cpu", steps=10, min_loss_drop=1e6), torch_cpu_python)
    assert result.verdict == "fail"
    assert result.reason.startswith("training: loss fell only ")
    assert "needs 1e+06x" in result.reason


PLACEMENT_PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("smoke", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
tee = m.StderrTee(None).start()
path = m.TensorFlowGraph(tee)
path.import_framework()
run = path.train(None, 5, True)
tee.stop()
with open(sys.argv[2], "w") as f:
    json.dump({"placed": run["placed"],
               "judged": m.judge_placement("dml", run["placed"], [])[:2]}, f)
"""


@pytest.mark.parametrize("venv", ["tf_cpu_python", "tf_directml_python"])
def test_real_tf_placement_log_is_read_back_and_cpu_ops_are_caught(
    venv: str,
    request: pytest.FixtureRequest,
    resolved_profile: Callable[..., ResolvedProfile],
    tmp_path: Path,
) -> None:
    """TF's own log_device_placement output (TF 2.21 and TF 1.15 formats), captured
    from file descriptor 2 by the script: with the ops on CPU:0, a run that asked
    for an accelerator fails placement and names the training ops."""
    import json
    import subprocess

    from tests.smoke.smoke_fixtures import render_script

    python: Path = request.getfixturevalue(venv)
    script = render_script(resolved_profile("tf-directml"), tmp_path)
    done = subprocess.run(
        [str(python), "-I", "-c", PLACEMENT_PROBE, str(script), str(tmp_path / "probe.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "probe.json").read_text())
    placed = {(name, kind, dev) for name, kind, dev, _ in report["placed"]}
    assert ("MatMul", "MatMul", "CPU") in placed
    assert ("gradients/MatMul_grad/MatMul", "MatMul", "CPU") in placed
    status, detail = report["judged"]
    assert status == "fail"
    assert detail.startswith("training ops ran on CPU:0, not the accelerator: ")
    assert "MatMul" in detail and "ApplyGradientDescent" in detail
