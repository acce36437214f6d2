"""``provision verify`` builds the same typed report as apply (mode ``verify``), writes
it as the environment's latest and prints it with ``--json``. The environment's Python
is a stand-in that fails the way an environment without its framework does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.report.model import parse_report

REPO = Path(__file__).resolve().parents[2]
STAND_IN = """#!/bin/sh
echo "ModuleNotFoundError: No module named 'torch'" >&2
exit 1
"""


def test_verify_writes_a_report_named_by_host_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    python = home / "envs" / "cpu" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(STAND_IN)
    python.chmod(0o755)
    monkeypatch.setenv("PROVISION_HOME", str(home))
    monkeypatch.delenv("PROVISION_ENVS_DIR", raising=False)
    monkeypatch.setenv("PROVISION_HOST_NAME", "from-env")
    profile = REPO / "profiles" / "cpu.yaml"

    assert main(["verify", str(profile), "--json", "--host-name", "lab-09"]) == 1
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((home / "reports" / "cpu.json").read_text())
    assert printed == written  # one report: printed and written
    report = parse_report(written)
    assert (report.mode, report.result, report.exit_code) == ("verify", "failed", 1)
    assert report.host.name == "lab-09" and report.verify is not None
    assert report.verify.result is not None and report.verify.result.verdict == "fail"
    assert [(s.name, s.status) for s in report.steps] == [("verify", "fail")]

    assert main(["verify", str(profile)]) == 1  # the variable names it without the option
    assert parse_report(json.loads((home / "reports" / "cpu.json").read_text())).host.name == (
        "from-env"
    )
    assert len(list((home / "reports" / "history").glob("cpu-*.json"))) == 2
    assert main(["report", str(home / "reports")]) == 1
    assert "from-env" in capsys.readouterr().out
