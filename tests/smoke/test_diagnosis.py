"""Diagnosis against captured failure logs, through the real runner.

A STAND-IN framework run takes the place of the environment's Python: it is passed to
``run_smoke`` as ``python``, prints a captured log (copied from the shared fixtures
into tests/data/logs) and exits the way the real run did. It stands in for what cannot
exist here: a DirectML adapter, an NVIDIA GPU, a hung GPU. Crashes and hangs are real:
the stand-in kills itself with a signal or sleeps past the timeout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.profile import ResolvedProfile
from provisioner.smoke import SmokeResult, run_smoke
from provisioner.smoke.diagnosis import decide, findings_in
from tests.smoke.smoke_fixtures import LOGS, index_verdicts

STAND_IN = '''#!{python}
"""STAND-IN for a framework run: prints a captured log and exits like the real run."""
import json, os, signal, subprocess, sys, time

args = sys.argv[1:]
out = args[args.index("--json-out") + 1] if "--json-out" in args else None
log = os.environ.get("STANDIN_LOG")
if log:
    stream = sys.stdout if os.environ.get("STANDIN_STREAM") == "stdout" else sys.stderr
    with open(log, encoding="utf-8") as f:
        stream.write(f.read())
    stream.flush()
if os.environ.get("STANDIN_RESULT") and out:
    with open(out, "w") as f:
        f.write(os.environ["STANDIN_RESULT"])
if os.environ.get("STANDIN_SLEEP"):
    subprocess.Popen(["sleep", os.environ["STANDIN_SLEEP"]])  # a grandchild holding the pipes
    time.sleep(float(os.environ["STANDIN_SLEEP"]))
if os.environ.get("STANDIN_SIGNAL"):
    os.kill(os.getpid(), getattr(signal, os.environ["STANDIN_SIGNAL"]))
sys.exit(int(os.environ.get("STANDIN_EXIT", "0")))
'''


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    path = tmp_path / "stand-in-python"
    path.write_text(STAND_IN.format(python=sys.executable), "utf-8")
    path.chmod(0o755)
    return path


def passing_result(device: str, name: str, accelerator: bool = True) -> str:
    """What smoke_test.py writes after a passing run (keys as in its JSON result)."""
    return json.dumps(
        {
            "schema": "provision.smoke/1",
            "verdict": "pass",
            "reason": f"trained on {device}",
            "framework_version": "1.15.8",
            "python": "3.7.16",
            "device_requested": device.split(":")[0],
            "device_used": device,
            "device_name": name,
            "accelerator_used": accelerator,
            "adapters": [{"index": 0, "name": name, "kind": device.split(":")[0]}],
            "steps": 200,
            "loss_first": 255.4,
            "loss_last": 0.0192,
            "loss_drop": 13302.0,
            "steps_per_s": 2100.0,
            "cpu_steps_per_s": 430.0,
            "speedup": 4.88,
            "time_to_first_step_s": 3.1,
            "warnings": [],
            "stages": [
                {"name": s, "status": "pass", "detail": "ok", "duration_s": 0.1}
                for s in ("import", "device", "placement", "training", "speed")
            ],
        }
    )


def run_stand_in(
    resolved: ResolvedProfile,
    stand_in: Path,
    log: str | None,
    *,
    exit_code: int = 0,
    result: str | None = None,
    timeout_s: float | None = None,
    **extra: str,
) -> SmokeResult:
    env: dict[str, str] = {"STANDIN_EXIT": str(exit_code), **extra}
    if log:
        env["STANDIN_LOG"] = str(LOGS / log)
    if result:
        env["STANDIN_RESULT"] = result
    return run_smoke(resolved, stand_in, extra_env=env, timeout_s=timeout_s)


def ids(result: SmokeResult, severity: str | None = None) -> list[str]:
    return [f.id for f in result.diagnosis if severity is None or f.severity == severity]


# What INDEX.md's last column ("a correct diagnosis") starts with, as this project's
# terms: the smoke verdict, and the severity of the finding the log must produce (None:
# the log must produce no fail or warn finding at all).
INDEX_LABELS: dict[str, tuple[str, str | None]] = {
    "FAIL": ("fail", "fail"),
    "WARN": ("pass", "warn"),  # the run works, with a warning (e.g. an op on the CPU)
    "PASS with WARN": ("pass", "warn"),
    "BENIGN": ("pass", "benign"),
    "PASS": ("pass", None),
}

# What INDEX.md does not say: the catalogue signature each log shows (None: none), and
# the exit code the real run ended with.
LOG_FACTS: dict[str, tuple[str | None, int]] = {
    "tfdml_log_no_adapter_amd_vega8_wsl.txt": ("dml.no-adapter", 0),
    "tfdml_timeout_message_doc_sample.txt": ("dml.device-hung", 1),
    "torch_cuda_wsl_devices_busy_or_unavailable_build20170.txt": ("cuda.devices-busy", 1),
    "cuda_sample_code35_insufficient_driver_win10_18363.txt": ("cuda.insufficient-driver", 1),
    "torch_directml_cpu_fallback_warning_windows.txt": ("dml.cpu-fallback", 0),
    "ldconfig_libcuda_not_symlink_warning.txt": ("benign.ldconfig-libcuda", 0),
    "tfdml_log_ok_two_adapters_intel_amd_windows.txt": ("dml.several-adapters", 0),
    "tfdml_log_ok_amd_radeonvii_wsl_doc_sample.txt": (None, 0),
}


def expected_from_index(log: str) -> tuple[str, str | None]:
    """The (verdict, finding severity) INDEX.md's verdict column calls for."""
    label = index_verdicts()[log].split(":")[0].strip()
    return INDEX_LABELS[label]


def test_every_captured_log_is_diagnosed_against_its_index_row() -> None:
    """The logs from the shared fixtures (INDEX.md) that are framework runs; the other
    captures in tests/data/logs (captures.yaml) are checked below and in
    tests/test_signatures.py."""
    logs = sorted(p.name for p in LOGS.glob("*.txt"))
    assert set(LOG_FACTS) <= set(logs)
    assert set(LOG_FACTS) <= set(index_verdicts())
    assert {expected_from_index(log)[0] for log in LOG_FACTS} == {"pass", "fail"}


CAPTURES: list[dict[str, str | None]] = yaml.safe_load((LOGS / "captures.yaml").read_text("utf-8"))


@pytest.mark.parametrize("capture", CAPTURES, ids=[str(c["file"]) for c in CAPTURES])
def test_diagnosis_of_a_passing_accelerator_run_uses_the_same_catalogue(
    capture: dict[str, str | None],
) -> None:
    """Every real capture behind a script that claimed a pass on the accelerator: a
    failure capture fails the run and names its signature, anything else passes."""
    log = (LOGS / str(capture["file"])).read_text("utf-8")
    findings = findings_in(log, "wsl2")
    verdict = decide(
        script=json.loads(NEUTRAL_RESULT),
        returncode=0,
        timed_out=False,
        timeout_s=60,
        findings=findings,
    )
    assert verdict.verdict == ("fail" if capture["verdict"] == "failure" else "pass")
    if capture["signature"] is not None:
        assert capture["signature"] in [f.id for f in findings]
    if capture["verdict"] == "failure":
        assert verdict.reason.startswith("trained, but ")


def test_diagnosis_fix_follows_the_profile_target() -> None:
    """The smoke test knows its profile's target: inside WSL the fix for a Linux driver
    in the distro is the purge command, on native Linux it never is."""
    log = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"
    [wsl] = findings_in(log, "wsl2")
    [linux] = findings_in(log, "linux")
    [unknown] = findings_in(log)
    assert "apt purge" in wsl.fix
    assert "purge" not in linux.fix and "purge" not in unknown.fix


# The same result for every log: the script says it trained on the accelerator and
# passed. Whatever verdict differs between logs comes from the diagnosis alone.
NEUTRAL_RESULT = passing_result("dml:0", "AMD Radeon VII")


@pytest.mark.parametrize("log", sorted(LOG_FACTS))
def test_captured_log_gets_the_index_verdict(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path, log: str
) -> None:
    """Each log, behind a run whose script claimed a pass on the accelerator, gets the
    verdict INDEX.md gives it: a failure in the log overrides the script's pass."""
    verdict, severity = expected_from_index(log)
    sig, _ = LOG_FACTS[log]
    result = run_stand_in(resolved_profile("tf-directml"), stand_in, log, result=NEUTRAL_RESULT)
    assert result.verdict == verdict, result.reason
    if severity is None:
        assert sig is None
        assert ids(result, "fail") == [] and ids(result, "warn") == []
        assert result.warnings == ()
        assert result.reason == "trained on dml:0"
        return
    assert sig is not None and sig in ids(result, severity)
    finding = next(f for f in result.diagnosis if f.id == sig)
    assert finding.meaning and finding.fix
    if verdict == "fail":  # the script said pass; the diagnosis overrode it
        assert result.reason == f"trained, but {finding.meaning} [{sig}]"
        assert any(sig in line for line in result.summary_lines())
        assert any(line.strip().startswith("fix") for line in result.summary_lines())
    else:
        assert ids(result, "fail") == []
        assert result.reason == "trained on dml:0"
    if severity == "warn":
        assert any(w.startswith(f"{sig}: ") for w in result.warnings)
    if severity == "benign":
        assert result.warnings == ()
        assert any(line.strip().startswith("benign") for line in result.summary_lines())


@pytest.mark.parametrize(
    "log", sorted(log for log in LOG_FACTS if expected_from_index(log)[0] == "fail")
)
def test_failed_log_as_the_real_run_ended_names_its_cause(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path, log: str
) -> None:
    """The real run ended with its exit code and no result: the reason names the cause
    found in the log, with its fix in the summary."""
    sig, code = LOG_FACTS[log]
    result = run_stand_in(resolved_profile("tf-directml"), stand_in, log, exit_code=code)
    assert result.verdict == "fail", result.reason
    assert sig is not None and sig in ids(result, "fail")
    finding = next(f for f in result.diagnosis if f.id == sig)
    assert result.reason == f"{finding.meaning} [{sig}] (exit {code}, no result)"
    assert any(sig in line for line in result.summary_lines())
    assert any(line.strip().startswith("fix") for line in result.summary_lines())


def test_ok_log_passes_with_no_findings(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path
) -> None:
    result = run_stand_in(
        resolved_profile("tf-directml"),
        stand_in,
        "tfdml_log_ok_amd_radeonvii_wsl_doc_sample.txt",
        result=passing_result("dml:0", "AMD Radeon VII"),
    )
    assert result.passed, result.reason
    assert result.diagnosis == () and result.warnings == ()
    assert (result.device_used, result.device_name) == ("dml:0", "AMD Radeon VII")
    assert result.speedup == 4.88
    assert result.as_json()["verdict"] == "pass"


def test_no_adapter_on_stdout_is_found_too(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path
) -> None:
    result = run_stand_in(
        resolved_profile("tf-directml"),
        stand_in,
        "tfdml_log_no_adapter_amd_vega8_wsl.txt",
        STANDIN_STREAM="stdout",
    )
    assert result.verdict == "fail" and ids(result, "fail") == ["dml.no-adapter"]


def test_device_hung_fails_a_run_whose_script_said_pass(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path
) -> None:
    """An accelerator run that printed DXGI_ERROR_DEVICE_HUNG is not trusted."""
    result = run_stand_in(
        resolved_profile("tf-directml"),
        stand_in,
        "tfdml_timeout_message_doc_sample.txt",
        result=passing_result("dml:0", "AMD Radeon VII"),
    )
    assert result.verdict == "fail"
    assert result.reason.startswith("trained, but The GPU timed out (TDR)")


@pytest.mark.parametrize(("sig", "name"), [("SIGSEGV", "SIGSEGV"), ("SIGABRT", "SIGABRT")])
def test_crash_is_a_failed_verdict_with_the_log_tail(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path, sig: str, name: str
) -> None:
    result = run_stand_in(
        resolved_profile("tf-directml"),
        stand_in,
        "tfdml_timeout_message_doc_sample.txt",
        STANDIN_SIGNAL=sig,
    )
    assert result.verdict == "fail"
    assert result.returncode is not None and result.returncode < 0
    assert result.reason.startswith(f"crashed with {name} (exit {result.returncode})")
    assert "[dml.device-hung]" in result.reason
    assert "readback_heap->Map" in result.log_tail
    assert any("readback_heap->Map" in line for line in result.summary_lines())


@pytest.mark.timeout(60)  # the stand-in and its grandchild sleep 120 s: waiting fails here
def test_timeout_is_a_failed_verdict_promptly(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path
) -> None:
    result = run_stand_in(
        resolved_profile("tf-directml"),
        stand_in,
        "tfdml_log_ok_amd_radeonvii_wsl_doc_sample.txt",
        timeout_s=2,
        STANDIN_SLEEP="120",
    )
    assert result.verdict == "fail" and result.timed_out
    assert result.reason == "timed out after 2 s"
    assert "creating device on adapter 0 (AMD Radeon VII)" in result.log_tail


def test_missing_interpreter_is_a_failed_verdict(
    resolved_profile: Callable[..., ResolvedProfile], tmp_path: Path
) -> None:
    result = run_smoke(resolved_profile("tf-directml"), tmp_path / "no-such-python")
    assert result.verdict == "fail"
    assert result.reason.startswith(f"cannot run {tmp_path / 'no-such-python'}: ")


def test_exit_without_result_and_no_signature(
    resolved_profile: Callable[..., ResolvedProfile], stand_in: Path
) -> None:
    result = run_stand_in(resolved_profile("tf-directml"), stand_in, None, exit_code=3)
    assert result.verdict == "fail"
    assert result.reason == "exited 3 without writing a result"


def test_findings_are_real_catalogue_matches_in_log_order() -> None:
    text = (LOGS / "ldconfig_libcuda_not_symlink_warning.txt").read_text() + (
        LOGS / "torch_cuda_wsl_devices_busy_or_unavailable_build20170.txt"
    ).read_text()
    assert [(f.id, f.severity, f.line) for f in findings_in(text)] == [
        ("benign.ldconfig-libcuda", "benign", 1),
        ("cuda.devices-busy", "fail", 14),
    ]


SCRIPT_PASS_CPU: Mapping[str, Any] = {"verdict": "pass", "reason": "trained on the CPU"}


def test_cpu_run_allowed_keeps_pass_and_explains_missing_adapter() -> None:
    """require_accelerator false: 0 adapters explains the CPU run; it does not fail it."""
    findings = findings_in((LOGS / "tfdml_log_no_adapter_amd_vega8_wsl.txt").read_text())
    v = decide(
        script={**SCRIPT_PASS_CPU, "accelerator_used": False},
        returncode=0,
        timed_out=False,
        timeout_s=60,
        findings=findings,
    )
    assert v.verdict == "pass"
    assert v.warnings[0].startswith("dml.no-adapter (no accelerator used): ")


def test_script_pass_with_nonzero_exit_fails() -> None:
    v = decide(script=SCRIPT_PASS_CPU, returncode=2, timed_out=False, timeout_s=60, findings=())
    assert v.verdict == "fail" and "exited 2" in v.reason


# A STAND-IN framework for a GPU that hangs (cannot exist here): importing it writes
# the captured DEVICE_HUNG message straight to file descriptor 2, as DirectML's C++
# does, and aborts the process at once.
HUNG_TENSORFLOW = """import os
with open({log!r}, "rb") as f:
    os.write(2, f.read())
os.abort()
"""


def test_real_script_keeps_the_log_of_a_process_that_aborts(
    resolved_profile: Callable[..., ResolvedProfile], tmp_path: Path
) -> None:
    """The rendered script's stderr copy survives the abort, so the runner still sees
    the cause even when the process died before passing its last lines on."""
    site = tmp_path / "stand-in-site"
    site.mkdir()
    log = LOGS / "tfdml_timeout_message_doc_sample.txt"
    (site / "tensorflow.py").write_text(HUNG_TENSORFLOW.format(log=str(log)))
    interpreter = tmp_path / "stand-in-python"
    interpreter.write_text(
        f"#!/bin/sh\n# STAND-IN interpreter: the real one, with the stand-in framework first\n"
        f'shift 2\nPYTHONPATH={site} exec {sys.executable} -u "$@"\n'
    )
    interpreter.chmod(0o755)
    result = run_smoke(resolved_profile("tf-directml"), interpreter)
    assert result.verdict == "fail"
    assert result.reason.startswith("crashed with SIGABRT (exit -6) [dml.device-hung]")
    assert "readback_heap->Map" in result.log_tail
    assert "smoke: " not in result.log_tail.split("readback_heap->Map")[1]


def test_windows_crash_status_is_a_crash() -> None:
    """Native Windows has no signals: an access violation exits 0xC0000005."""
    v = decide(script=None, returncode=0xC0000005, timed_out=False, timeout_s=60, findings=())
    assert v.verdict == "fail"
    assert v.reason == "crashed with an access violation (0xC0000005) (exit 3221225477)"
