"""``provision verify``: finds the provisioned environment, prints the summary, exits
0 on pass and 1 on fail, and writes JUnit XML with one testcase per stage."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.commands.verify import verify
from provisioner.errors import HostNotReady
from provisioner.smoke.junit import junit_xml
from provisioner.smoke.result import SmokeResult


def provisioned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, python: Path) -> Path:
    """Make ``python``'s venv the provisioned environment ``name`` (a link under the
    envs folder, where apply puts environments)."""
    envs = tmp_path / "envs"
    envs.mkdir(exist_ok=True)
    (envs / name).symlink_to(python.parent.parent, target_is_directory=True)
    monkeypatch.setenv("PROVISION_ENVS_DIR", str(envs))
    return envs / name


def test_missing_environment_is_one_line_and_exit_1(
    profile_file: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROVISION_ENVS_DIR", str(tmp_path / "envs"))
    profile = profile_file("torch-cpu")
    assert main(["verify", str(profile)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"provision: error: environment smoke-torch-cpu not found at "
        f"{tmp_path / 'envs' / 'smoke-torch-cpu'}: run `provision apply {profile}`\n"
    )
    with pytest.raises(HostNotReady):
        verify(profile=profile)


@pytest.mark.slow
@pytest.mark.network
def test_verify_pass_in_the_provisioned_env_json_and_junit(
    profile_file: Callable[..., Path],
    torch_cpu_python: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    provisioned(monkeypatch, tmp_path, "smoke-torch-cpu", torch_cpu_python)
    junit = tmp_path / "reports" / "smoke.xml"
    profile = profile_file("torch-cpu", steps=50)
    assert main(["verify", str(profile), "--json", "--junit", str(junit)]) == 0
    report = json.loads(capsys.readouterr().out)  # the report; the smoke record inside
    assert (report["mode"], report["result"], report["exit_code"]) == ("verify", "verified", 0)
    data = report["verify"]["result"]
    assert data["verdict"] == "pass" and data["steps"] == 50
    assert data["framework_version"] == "2.13.0+cpu"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "provision.smoke.torch-cpu"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["import", "device", "placement", "training", "speed"]
    assert suite.get("failures") == "0" and not suite.findall(".//failure")


@pytest.mark.slow
@pytest.mark.network
def test_verify_fail_summary_and_junit_failure_on_the_device_stage(
    profile_file: Callable[..., Path],
    tf_directml_python: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    provisioned(monkeypatch, tmp_path, "smoke-tf-directml", tf_directml_python)
    junit = tmp_path / "smoke.xml"
    assert main(["verify", str(profile_file("tf-directml")), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "smoke test tf-directml: FAIL: device: no DirectML device visible: "
        "DirectML device enumeration: found 0 compatible adapters [dml.no-adapter]\n"
    )
    assert "  fix         Update the GPU driver" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    failures = {c.get("name"): c.find("failure") for c in suite.findall("testcase")}
    assert failures["device"] is not None and failures["import"] is None
    assert "found 0 compatible adapters" in (failures["device"].get("message") or "")
    assert suite.get("skipped") == "3"


@pytest.mark.slow
@pytest.mark.network
def test_verify_cpu_run_summary_says_no_accelerator(
    profile_file: Callable[..., Path],
    tf_directml_python: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile = profile_file("tf-directml", require_accelerator=False, steps=100)
    # A relative --python, as typed in a shell (the child runs in a temp folder).
    relative = Path(os.path.relpath(tf_directml_python, Path.cwd()))
    assert verify(profile=profile, python=relative) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "smoke test tf-directml: PASS: trained on the CPU; no accelerator was used"
    assert lines[1] == "  framework   tensorflow-directml 1.15.8 on Python 3.7.16"
    assert lines[2].startswith("  device      cpu (") and lines[2].endswith(
        "requested dml, no accelerator used"
    )
    assert lines[3].startswith("  training    100 steps, loss 255.4 -> ")
    assert lines[4].startswith("  speed       ") and "steps/s on cpu" in lines[4]
    assert any(line.startswith("  warning     no accelerator was used") for line in lines)
    assert (
        "  note        tensorflow-directml: with 0 adapters TensorFlow silently trains on the CPU"
        in lines
    )


def test_junit_for_a_crash_fails_the_first_unreported_stage() -> None:
    result = SmokeResult(
        profile="p",
        framework="pytorch",
        verdict="fail",
        reason="crashed with SIGSEGV (exit -11)",
        duration_s=1.0,
        device_requested="cuda",
        require_accelerator=True,
    )
    root = ET.fromstring(junit_xml(result))
    assert root.tag == "testsuites"
    (suite,) = list(root)
    cases = suite.findall("testcase")
    assert cases[0].find("failure") is not None
    assert cases[0].find("failure").get("message") == "crashed with SIGSEGV (exit -11)"  # type: ignore[union-attr]
    assert all(c.find("skipped") is not None for c in cases[1:])
