"""``run_smoke`` end to end on this CPU machine: the real runner starts an interpreter
(a stand-in that runs the real smoke stages with a stand-in framework: no GPU exists
here), reads its JSON and log, diagnoses the log, and the summary a user reads says
what happened: the device, the selection rule, the framework's caveat, a finding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.profile import ResolvedProfile
from provisioner.smoke import run_smoke
from provisioner.smoke.result import SmokeResult
from tests.support.stand_in_framework import GPU0, stand_in_python


@pytest.fixture
def smoke(
    resolved_profile: Callable[..., ResolvedProfile], tmp_path: Path
) -> Callable[..., SmokeResult]:
    def run(preset: str, *args: str) -> SmokeResult:
        python = stand_in_python(tmp_path, preset, *args)
        return run_smoke(resolved_profile("torch-cpu"), python, timeout_s=120)

    return run


def line(result: SmokeResult, label: str) -> str:
    """The summary line that starts with ``label`` (its text after the label)."""
    (found,) = [ln for ln in result.summary_lines() if ln.startswith(f"  {label:<11} ")]
    return found[len(label) + 3 :].strip()


def test_an_accelerator_run_with_two_gpus_names_device_zero_and_how_to_choose(
    smoke: Callable[..., SmokeResult],
) -> None:
    result = smoke("two-gpus", "--device", "cuda")
    assert result.passed and result.accelerator_used
    assert line(result, "device") == (f"cuda:0 ({GPU0['name']}), requested cuda, accelerator")
    assert "CUDA_VISIBLE_DEVICES" in line(result, "selection")
    assert line(result, "speed").startswith("900.0 steps/s on cuda:0")
    assert "2 CUDA devices visible" in line(result, "warning")


def test_no_device_allowed_on_the_cpu_passes_with_the_frameworks_caveat(
    smoke: Callable[..., SmokeResult],
) -> None:
    result = smoke("no-device", "--device", "cuda", "--no-require-accelerator")
    assert result.passed and not result.accelerator_used
    assert line(result, "device").endswith("requested cuda, no accelerator used")
    assert line(result, "note").startswith("pytorch: ")
    assert result.reason == "trained on the CPU; no accelerator was used"


def test_a_required_device_that_is_missing_fails_at_the_device_line(
    smoke: Callable[..., SmokeResult],
) -> None:
    result = smoke("no-device", "--device", "cuda", "--require-accelerator")
    assert not result.passed
    assert line(result, "device").startswith("requested cuda: no CUDA device visible")
    assert "  log tail:" in result.summary_lines()


def test_a_failure_signature_in_the_log_fails_a_run_the_script_passed(
    smoke: Callable[..., SmokeResult],
) -> None:
    result = smoke("no-kernel-image", "--device", "cuda")
    assert not result.passed
    assert result.reason.startswith("trained, but ")
    assert [f.id for f in result.diagnosis] == ["cuda.no-kernel-image"]
    assert line(result, "fail").startswith("cuda.no-kernel-image (line ")
    assert "download.pytorch.org" in line(result, "fix")


def test_benign_noise_is_named_and_does_not_fail(smoke: Callable[..., SmokeResult]) -> None:
    result = smoke("numa", "--device", "cuda")
    assert result.passed
    assert line(result, "benign").startswith("benign.numa (line ")


def test_a_bug_in_the_script_is_a_failed_run_with_the_reason(
    smoke: Callable[..., SmokeResult],
) -> None:
    result = smoke("bug", "--device", "cuda")
    assert not result.passed and result.returncode == 1
    assert result.reason == "internal: smoke_test.py error: KeyError: 'placed'"
