"""The smoke script's command line, its JSON report, and ``main`` run as a process:
exit code, the result file, and the native log kept beside it (``StderrTee``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provisioner.target.smoke import stages
from provisioner.target.smoke.plumbing import Report
from provisioner.target.smoke.workload import STAGES
from tests.support.stand_in_framework import DRIVER


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "1"], "--steps must be at least 2"),
        (["--device", "mps"], "invalid choice: 'mps'"),
        (["--min-loss-drop", "ten"], "invalid float value: 'ten'"),
    ],
)
def test_bad_script_arguments_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        stages.parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_script_arguments_default_to_the_profile_values() -> None:
    args = stages.parse_args([])
    assert (args.steps, args.device, args.min_loss_drop) == (200, "cpu", 5.0)
    assert (args.require_accelerator, args.cpu_baseline, args.json_out) == (False, True, None)


def report_for(argv: list[str]) -> Report:
    return Report(stages.parse_args(argv))


def test_finish_fills_the_stages_that_never_ran_and_keeps_the_first_failure() -> None:
    report = report_for(["--device", "cuda"])
    report.stage("import", "pass", "pytorch 2.13.0", 0.0)
    report.stage("device", "fail", "first cause", 0.0)
    report.stage("internal", "fail", "second cause", 0.0)
    result = report.finish()
    assert [s["name"] for s in result["stages"]] == [*STAGES, "internal"]
    assert [s["detail"] for s in result["stages"][2:5]] == ["not run"] * 3
    assert result["reason"] == "device: first cause"


def test_warnings_are_kept_once_in_order() -> None:
    report = report_for([])
    for text in ("b", "a", "b"):
        report.warn(text)
    assert report.finish()["warnings"] == ["b", "a"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"loss_first": math.inf, "speedup": -math.inf}, {"loss_first": None, "speedup": None}),
        ({"loss_last": math.nan, "steps_per_s": 12.5}, {"loss_last": None, "steps_per_s": 12.5}),
        ({"loss_drop": 10, "cpu_steps_per_s": 0.0}, {"loss_drop": 10, "cpu_steps_per_s": 0.0}),
    ],
)
def test_finish_makes_every_number_json_safe(
    values: dict[str, float], expected: dict[str, float | None]
) -> None:
    report = report_for([])
    report.data.update(values)
    result = report.finish()
    assert {k: result[k] for k in expected} == expected
    json.dumps(result, allow_nan=False)


def test_the_report_names_the_profile_and_the_request() -> None:
    data = report_for(["--device", "dml", "--steps", "9", "--require-accelerator"]).data
    assert (data["device_requested"], data["steps"], data["require_accelerator"]) == (
        "dml",
        9,
        True,
    )
    assert (data["schema"], data["profile"], data["verdict"]) == (
        "provision.smoke/1",
        "example",
        "fail",  # a result that is never finished is never a pass
    )


def run_script(preset: str, tmp_path: Path, *argv: str) -> tuple[int, str, dict[str, Any]]:
    out = tmp_path / "result.json"
    here = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, here, preset, "--json-out", str(out), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, json.loads(out.read_text(encoding="utf-8"))


def test_main_passes_with_exit_0_and_keeps_the_native_log_beside_the_result(
    tmp_path: Path,
) -> None:
    code, stdout, result = run_script("pass", tmp_path, "--device", "cuda")
    assert code == 0 and result["verdict"] == "pass"
    assert stdout.splitlines()[-1] == "smoke: PASS: trained on cuda:0"
    assert [line.split()[1] for line in stdout.splitlines()[:5]] == list(STAGES)
    kept = (tmp_path / "result.json.stderr").read_text(encoding="utf-8")
    assert "DirectML: creating device on adapter 0" in kept
    assert isinstance(result["duration_s"], float)


def test_main_fails_with_exit_1_when_an_accelerator_is_required_and_missing(
    tmp_path: Path,
) -> None:
    code, stdout, result = run_script(
        "no-device", tmp_path, "--device", "cuda", "--require-accelerator"
    )
    assert code == 1 and result["verdict"] == "fail"
    assert stdout.splitlines()[-1].startswith("smoke: FAIL: device: no CUDA device visible")


def test_a_bug_in_the_script_still_leaves_a_failed_result(tmp_path: Path) -> None:
    code, stdout, result = run_script("bug", tmp_path, "--device", "cuda")
    assert code == 1
    assert result["reason"] == "internal: smoke_test.py error: KeyError: 'placed'"
    assert result["stages"][-1]["name"] == "internal"
    assert "smoke: FAIL: internal: smoke_test.py error" in stdout
