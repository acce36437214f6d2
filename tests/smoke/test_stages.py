"""The smoke test's five stages (``target/smoke/stages.py``) driven by a stand-in
framework path, so every branch a GPU run can take is exercised on this CPU machine.

The stand-in replaces only the framework (no GPU, no DirectML adapter exists here);
the stage order, the decisions (``decisions.py``) and the report (``plumbing.py``)
are the real modules that ``provision render`` assembles into ``smoke_test.py``.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest

from provisioner.target.smoke import frameworks, stages
from provisioner.target.smoke.plumbing import Report, StageFailed, StderrTee
from provisioner.target.smoke.workload import STAGES
from tests.support.stand_in_framework import GPU0, GPU1, MATMUL_ON_CPU, Scenario, StandInFramework


def run(
    monkeypatch: pytest.MonkeyPatch,
    scenario: Scenario,
    *argv: str,
) -> dict[str, Any]:
    """Run the stages with the stand-in; return the finished JSON result."""
    monkeypatch.setattr(StandInFramework, "scenario", scenario)
    monkeypatch.setitem(frameworks.DRIVERS, "torch-eager", StandInFramework)
    args = stages.parse_args(["--steps", "50", *argv])
    report = Report(args)
    with contextlib.suppress(StageFailed):
        stages.run_stages(args, report, StderrTee())
    return report.finish()


def statuses(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["name"], s["status"]) for s in result["stages"]]


@pytest.mark.parametrize(
    ("scenario", "argv", "expected", "reason"),
    [
        pytest.param(
            Scenario(import_error=ModuleNotFoundError("No module named 'torch'")),
            ["--device", "cuda"],
            ["fail", "skip", "skip", "skip", "skip"],
            "import: cannot import pytorch: ModuleNotFoundError: No module named 'torch'",
            id="framework-missing",
        ),
        pytest.param(
            Scenario(),
            ["--device", "cpu", "--require-accelerator"],
            ["pass", "fail", "skip", "skip", "skip"],
            "device: device cpu was asked for but require_accelerator is true: "
            "set require_accelerator: false for a CPU run",
            id="cpu-but-accelerator-required",
        ),
        pytest.param(
            Scenario(devices=RuntimeError("CUDA driver initialization failed")),
            ["--device", "cuda"],
            ["pass", "fail", "skip", "skip", "skip"],
            "device: listing CUDA devices failed: RuntimeError: CUDA driver initialization failed",
            id="listing-raises",
        ),
        pytest.param(
            Scenario(devices=[]),
            ["--device", "cuda", "--require-accelerator"],
            ["pass", "fail", "skip", "skip", "skip"],
            "device: no CUDA device visible: torch.cuda.is_available() is False "
            "(torch 2.13.0, CUDA 12.1)",
            id="no-device-required",
        ),
        pytest.param(
            Scenario(round_trip_error=RuntimeError("CUDA error: out of memory")),
            ["--device", "cuda"],
            ["pass", "pass", "fail", "skip", "skip"],
            "placement: moving a tensor to the device failed: RuntimeError: CUDA error: "
            "out of memory",
            id="round-trip-raises",
        ),
        pytest.param(
            Scenario(train_error=RuntimeError("CUBLAS_STATUS_EXECUTION_FAILED")),
            ["--device", "cuda"],
            ["pass", "pass", "skip", "fail", "skip"],
            "training: training failed: RuntimeError: CUBLAS_STATUS_EXECUTION_FAILED",
            id="training-raises",
        ),
        pytest.param(
            Scenario(placed=MATMUL_ON_CPU),
            ["--device", "cuda"],
            ["pass", "pass", "fail", "pass", "pass"],
            "placement: training ops ran on CPU:0, not the accelerator: pred = x @ w",
            id="matmul-on-cpu",
        ),
        pytest.param(
            Scenario(loss=(256.0, math.nan)),
            ["--device", "cuda"],
            ["pass", "pass", "pass", "fail", "pass"],
            "training: loss is not finite (256.0 -> nan): training diverged",
            id="diverged",
        ),
        pytest.param(
            Scenario(loss=(256.0, 128.0)),
            ["--device", "cuda", "--min-loss-drop", "10"],
            ["pass", "pass", "pass", "fail", "pass"],
            "training: loss fell only 2x (256 -> 128); needs 10x",
            id="too-little-drop",
        ),
        pytest.param(
            Scenario(loss=(300.0, 0.5)),
            ["--device", "cuda"],
            ["pass", "pass", "pass", "fail", "pass"],
            "training: wrong numbers: first loss 300, the known answer is 256",
            id="wrong-numbers",
        ),
    ],
)
def test_a_failed_stage_names_itself_in_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
    scenario: Scenario,
    argv: list[str],
    expected: list[str],
    reason: str,
) -> None:
    result = run(monkeypatch, scenario, *argv)
    assert statuses(result) == list(zip(STAGES, expected, strict=True))
    assert result["verdict"] == "fail"
    assert result["reason"].split("; weights")[0] == reason
    json.dumps(result, allow_nan=False)  # NaN never reaches the JSON file


def test_an_accelerator_run_that_passes_reports_device_speedup_and_libraries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = run(monkeypatch, Scenario(), "--device", "cuda")
    assert statuses(result) == [(name, "pass") for name in STAGES]
    assert (result["verdict"], result["reason"]) == ("pass", "trained on cuda:0")
    assert (result["device_used"], result["device_name"]) == ("cuda:0", GPU0["name"])
    assert result["accelerator_used"] is True
    assert (result["speedup"], result["cpu_steps_per_s"]) == (3.0, 300.0)
    assert result["libraries"] == {"cuda": "12.1", "cudnn": "90100"}
    assert result["loss_drop"] == 512.0 and result["warnings"] == []
    assert result["stages"][2]["detail"] == "3 ops on GPU:0"


def test_no_device_without_require_trains_on_the_cpu_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = Scenario(devices=[])
    result = run(monkeypatch, scenario, "--device", "cuda", "--no-require-accelerator")
    assert statuses(result) == list(
        zip(STAGES, ["pass", "warn", "pass", "pass", "pass"], strict=True)
    )
    assert (result["verdict"], result["reason"]) == (
        "pass",
        "trained on the CPU; no accelerator was used",
    )
    assert result["device_used"] == "cpu" and result["accelerator_used"] is False
    assert result["warnings"][0].startswith("no accelerator was used: trained on the CPU (no CUDA")
    assert scenario.train_calls == ["cpu"]  # no second run as a baseline of itself
    assert result["cpu_steps_per_s"] == 300.0 and result["speedup"] is None


def test_two_visible_devices_train_on_device_zero_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    result = run(monkeypatch, Scenario(devices=[GPU1, GPU0]), "--device", "cuda")
    assert statuses(result)[1] == ("device", "warn")
    assert result["verdict"] == "pass" and result["device_used"] == "cuda:0"
    (warning,) = result["warnings"]
    assert "2 CUDA devices visible" in warning and "CUDA_VISIBLE_DEVICES=1" in warning
    assert len(result["adapters"]) == 2


def test_an_accelerator_slower_than_the_cpu_passes_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = run(monkeypatch, Scenario(rate=200.0, cpu_rate=400.0), "--device", "cuda")
    assert statuses(result)[4] == ("speed", "warn")
    assert result["verdict"] == "pass" and result["speedup"] == 0.5
    assert result["warnings"] == [
        "the accelerator cuda:0 is no faster than the CPU: 200.0 vs 400.0 steps/s"
    ]


def test_a_failing_cpu_baseline_is_a_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = Scenario(cpu_rate=MemoryError("cannot allocate 1 GiB"))
    result = run(monkeypatch, scenario, "--device", "cuda")
    assert result["verdict"] == "pass"
    assert result["warnings"] == ["the CPU baseline failed: MemoryError: cannot allocate 1 GiB"]
    assert result["cpu_steps_per_s"] is None and result["speedup"] is None
    assert result["stages"][4]["detail"].startswith("cuda:0: 900.0 steps/s (CPU baseline skipped)")


def test_no_cpu_baseline_trains_once(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = Scenario()
    result = run(monkeypatch, scenario, "--device", "cuda", "--no-cpu-baseline")
    assert scenario.train_calls == ["cuda:0"]
    assert result["verdict"] == "pass" and result["cpu_steps_per_s"] is None


def test_ops_that_fell_back_from_directml_warn_in_placement_and_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = Scenario(fallback_ops=["aten::lerp.Scalar_out"])
    result = run(monkeypatch, scenario, "--device", "cuda")
    assert statuses(result)[2] == ("placement", "warn")
    assert result["verdict"] == "pass"
    assert (
        "training is partly on the CPU: aten::lerp.Scalar_out fell back from the DML backend"
        in result["warnings"]
    )
