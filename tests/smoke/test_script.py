"""The rendered smoke_test.py: its decisions as pure functions, its rendering, and that
it runs on every Python from 3.7 to 3.13 (for real, with the pyenv interpreters)."""

# ruff: noqa: E501  (log lines are kept verbatim)

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from provisioner.profile import ResolvedProfile
from tests.smoke.smoke_fixtures import read_log, render_script
from tests.support import machine

TWO_ADAPTERS = "tfdml_log_ok_two_adapters_intel_amd_windows.txt"


def test_profile_values_are_baked_in_as_python_literals(
    smoke_module: Callable[..., ModuleType],
) -> None:
    m = smoke_module("tf-directml", steps=77, min_loss_drop=12.5)
    assert (m.PROFILE, m.FRAMEWORK, m.DEVICE) == ("tf-directml", "tensorflow-directml", "dml")
    assert (m.STEPS, m.MIN_LOSS_DROP, m.REQUIRE_ACCELERATOR) == (77, 12.5, True)


def test_hostile_profile_values_stay_literals(
    resolved_profile: Callable[..., ResolvedProfile], tmp_path: Path
) -> None:
    import yaml

    from provisioner.profile import load_profile

    data = yaml.safe_load((Path(__file__).parent / "profiles/torch-cpu.yaml").read_text())
    data["name"] = "x'\"\"\"; import os; os.system('echo pwned') # BAD = 1"
    # (a line break is refused at validate: provisioner/profile/values.py)
    data["environment"]["variables"] = {"WEIRD": "a'b\"c\\d $(echo no)\\nBAD = 1"}
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data))
    script = render_script(load_profile(path), tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    assert namespace["PROFILE"] == data["name"]
    assert namespace["ENV_VARIABLES"] == {"WEIRD": "a'b\"c\\d $(echo no)\\nBAD = 1"}
    assert "BAD" not in namespace


def test_parse_dml_log_reads_adapter_counts_and_names(
    smoke_module: Callable[..., ModuleType],
) -> None:
    m = smoke_module()
    assert m.parse_dml_log(read_log("tfdml_log_no_adapter_amd_vega8_wsl.txt")) == {
        "found": 0,
        "adapters": [],
    }
    one = m.parse_dml_log(read_log("tfdml_log_ok_amd_radeonvii_wsl_doc_sample.txt"))
    assert one == {"found": 1, "adapters": [{"index": 0, "name": "AMD Radeon VII", "kind": "dml"}]}
    two = m.parse_dml_log(read_log(TWO_ADAPTERS))
    assert two["found"] == 2
    assert [a["name"] for a in two["adapters"]] == [
        "Intel(R) UHD Graphics 620",
        "Radeon (TM) RX 550X",
    ]


def test_two_adapters_choose_device_zero_and_say_how_to_pick(
    smoke_module: Callable[..., ModuleType],
) -> None:
    """Fixture verdict: PASS with WARN: adapter 0 is the iGPU; select with DML_VISIBLE_DEVICES."""
    m = smoke_module()
    adapters = m.parse_dml_log(read_log(TWO_ADAPTERS))["adapters"]
    chosen, warnings = m.choose_device("dml", adapters, {})
    assert chosen["index"] == 0
    (text,) = warnings
    assert "2 DirectML devices visible" in text
    assert "integrated GPU" in text and "Radeon (TM) RX 550X" in text
    assert "DML_VISIBLE_DEVICES=1" in text


def test_choose_device_single_none_and_cpu(smoke_module: Callable[..., ModuleType]) -> None:
    m = smoke_module()
    gpu = {"index": 0, "name": "NVIDIA GeForce RTX 4070", "kind": "cuda"}
    assert m.choose_device("cuda", [gpu], {}) == (gpu, [])
    assert m.choose_device("cuda", [], {}) == (None, [])
    assert m.choose_device("cpu", [gpu], {}) == (None, [])
    two = [gpu, {"index": 1, "name": "NVIDIA RTX A2000", "kind": "cuda"}]
    chosen, (text,) = m.choose_device("cuda", two, {"CUDA_VISIBLE_DEVICES": "0,1"})
    assert chosen is gpu
    assert "CUDA_VISIBLE_DEVICES=1" in text and "is set to '0,1'" in text


def test_placement_from_captured_eager_logs(smoke_module: Callable[..., ModuleType]) -> None:
    """The captured logs: Add on DML:0 proves placement; on CPU:0 it does not."""
    m = smoke_module()
    ok = m.parse_placement_log(read_log("tfdml_log_ok_amd_radeonvii_wsl_doc_sample.txt"))
    assert ok == [("Add", "Add", "DML", 0)]
    assert m.judge_placement("dml", ok, [])[0] == "pass"
    cpu = m.parse_placement_log(read_log("tfdml_log_no_adapter_amd_vega8_wsl.txt"))
    assert cpu == [("Add", "Add", "CPU", 0)]
    status, detail, _ = m.judge_placement("dml", cpu, [])
    assert status == "fail" and "no op was placed on the accelerator" in detail


# Graph-mode placement lines as TF 2.21 prints them (captured from the tf-cpu run here),
# with the device of the compute ops as a DirectML / CUDA run reports it.
GRAPH_LOG = """\
I0000 00:00:1795497586.636055   15073 placer.cc:162] MatMul: (MatMul): /job:localhost/replica:0/task:0/device:{dev}:0
I0000 00:00:1795497586.636059   15073 placer.cc:162] sub: (Sub): /job:localhost/replica:0/task:0/device:{dev}:0
I0000 00:00:1795497586.636161   15073 placer.cc:162] gradients/MatMul_grad/MatMul: (MatMul): /job:localhost/replica:0/task:0/device:{dev}:0
GradientDescent/update_w/ResourceApplyGradientDescent: (ResourceApplyGradientDescent): /job:localhost/replica:0/task:0/device:{dev}:0
I0000 00:00:1795497586.636055   15073 placer.cc:162] zeros/shape_as_tensor: (Const): /job:localhost/replica:0/task:0/device:CPU:0
"""


@pytest.mark.parametrize("dev", ["DML", "GPU"])
def test_graph_placement_on_the_device_passes(
    smoke_module: Callable[..., ModuleType], dev: str
) -> None:
    m = smoke_module()
    placed = m.parse_placement_log(GRAPH_LOG.format(dev=dev))
    assert ("gradients/MatMul_grad/MatMul", "MatMul", dev, 0) in placed
    status, detail, _ = m.judge_placement("dml", placed, [])
    assert status == "pass"
    assert f"4 ops on {dev}:0" in detail and "1 helper ops on CPU:0" in detail


def test_graph_placement_with_matmul_on_cpu_fails(smoke_module: Callable[..., ModuleType]) -> None:
    m = smoke_module()
    text = GRAPH_LOG.format(dev="DML").replace(
        "MatMul): /job:localhost/replica:0/task:0/device:DML",
        "MatMul): /job:localhost/replica:0/task:0/device:CPU",
    )
    status, _, cpu_ops = m.judge_placement("dml", m.parse_placement_log(text), [])
    assert status == "fail"
    assert cpu_ops == ["MatMul", "gradients/MatMul_grad/MatMul"]


def test_torch_directml_fallback_warning_is_a_placement_warning(
    smoke_module: Callable[..., ModuleType],
) -> None:
    """Fixture verdict: WARN: op silently runs on CPU (the warning wraps across lines)."""
    m = smoke_module()
    ops = m.DML_FALLBACK_RE.findall(read_log("torch_directml_cpu_fallback_warning_windows.txt"))
    assert ops == ["aten::normal.Tensor_Tensor"]
    placed = [("pred = x @ w", "MatMul", "DML", 0)]
    status, detail, _ = m.judge_placement("dml", placed, ops)
    assert status == "warn" and "partly on the CPU" in detail


def test_torch_device_types_map_to_placement_vocabulary(
    smoke_module: Callable[..., ModuleType],
) -> None:
    m = smoke_module()
    assert [m.placement_type(t) for t in ("cpu", "cuda", "privateuseone")] == ["CPU", "GPU", "DML"]


def test_training_and_speed_judgements(smoke_module: Callable[..., ModuleType]) -> None:
    m = smoke_module()
    assert m.judge_training(256.0, 0.02, 10.0, 256.0)[0] == "pass"
    status, detail, drop = m.judge_training(256.0, 128.0, 10.0, 256.0)
    assert status == "fail" and drop == 2.0 and "needs 10x" in detail
    assert m.judge_training(256.0, float("nan"), 10.0)[0] == "fail"
    status, detail, _ = m.judge_training(300.0, 0.01, 10.0, 256.0)
    assert status == "fail" and "known answer" in detail
    status, _, speedup, warnings = m.judge_speed("cuda:0", 5000.0, 250.0)
    assert (status, speedup, warnings) == ("pass", 20.0, [])
    status, _, speedup, (warning,) = m.judge_speed("dml:0", 80.0, 100.0)
    assert status == "warn" and speedup == 0.8
    assert "no faster than the CPU: 80.0 vs 100.0 steps/s" in warning
    assert m.judge_speed(None, 300.0, None)[0:3] == (
        "pass",
        "CPU run: 300.0 steps/s (no accelerator used)",
        None,
    )


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "profiles").glob("**/*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_profile_renders_a_compilable_smoke_test(path: Path) -> None:
    from provisioner.profile import load_profile
    from provisioner.render import RenderContext
    from provisioner.render.registry import artifacts_for

    resolved = load_profile(path)
    (artifact,) = [a for a in artifacts_for(resolved) if a.name == "smoke_test.py"]
    assert artifact.executable
    text = artifact.render(RenderContext(resolved, "0.0.0-test"))
    compile(text, "smoke_test.py", "exec")
    smoke = resolved.profile.smoke_test
    assert f"FRAMEWORK = {smoke.framework.value!r}" in text
    assert f"STEPS = {smoke.steps!r}" in text


PYTHONS = ["3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


@pytest.mark.parametrize("version", PYTHONS)
def test_script_runs_on_python(
    version: str, resolved_profile: Callable[..., ResolvedProfile], tmp_path: Path
) -> None:
    """Under each Python, with no framework installed: the script parses its arguments,
    fails the import stage with the reason, and still writes a complete JSON result."""
    python = machine.pyenv_python(version)
    script = render_script(resolved_profile("tf-directml"), tmp_path)
    out = tmp_path / "result.json"
    done = subprocess.run(
        [str(python), "-I", str(script), "--steps", "20", "--json-out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(out.read_text())
    assert result["verdict"] == "fail"
    assert result["reason"].startswith("import: cannot import tensorflow-directml: ")
    assert "No module named 'tensorflow'" in result["reason"]
    assert result["python"].startswith(f"{version}.")
    assert [s["name"] for s in result["stages"]] == list(
        ("import", "device", "placement", "training", "speed")
    )
    assert result["steps"] == 20
    help_text = subprocess.run(
        [str(python), "-I", str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert help_text.returncode == 0 and "--no-require-accelerator" in help_text.stdout
