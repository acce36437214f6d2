"""``provision report`` never shows a host as verified that was not verified in the
newest fleet run it knows of: stale hosts (no report from that run), hosts the
controller found unreachable, repairs shown as repairs, CPU runs as "no GPU", a failing
host's text once, a machine counted once."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from provisioner.commands.report import report
from provisioner.report.model import parse_report
from tests.report.report_data import report_json, write

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
RUN_A, RUN_B = "20261129T080000Z-aaaa", "20261129T095900Z-bbbb"
CPU_SMOKE = {
    "schema": "provision.smoke-result/1",
    "verdict": "pass",
    "reason": "trained on cpu (no accelerator required)",
    "device_used": "cpu",
    "device_name": "x86_64",  # what the smoke test names on the CPU: the architecture
    "accelerator_used": False,
    "steps_per_s": 14.4,
    "diagnosis": [],
}
NOT_READY = ("nvidia.driver", "driver 470.82 is older than 525.60", "install the 535 driver")


def run_report(host: str, run_id: str, finished: str, **kwargs: Any) -> dict[str, Any]:
    data = report_json(host, finished_at=finished, **kwargs)
    data["run_id"] = run_id
    return data


def unreachable(host: str, run_id: str, previous: dict[str, Any]) -> dict[str, Any]:
    """What the playbook's controller writes for a host that sent no report this run."""
    return {
        "schema": "provision-report/2",
        "schema_version": 2,
        "tool": "ansible-playbook (provision 0.1.0)",
        "mode": "apply",
        "result": "unreachable",
        "exit_code": 1,
        "started_at": "2026-11-29T09:59:00Z",
        "finished_at": "2026-11-29T10:01:00Z",
        "duration_s": 120.0,
        "run_id": run_id,
        "profile": {"name": "cuda-torch"},
        "host": {"name": host, "hostname": ""},
        "environment": {"name": "torch-cuda"},
        "cause": "unreachable: ssh: connect to host 10.0.0.3 port 22: No route to host",
        "fix": "check that the host is up and answers SSH, then run the playbook again",
        "previous": previous,
    }


def rows(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, dict[str, Any]]:
    code = report(paths=list(paths), json_out=True, now=NOW)
    doc = json.loads(capsys.readouterr().out)
    return code, {h["host"]: h for p in doc["profiles"] for h in p["hosts"]}


def test_a_host_without_a_report_from_the_newest_run_is_stale_never_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    write(folder, "lab-01.json", run_report("lab-01", RUN_B, "2026-11-29T10:00:00Z"))
    write(folder, "lab-02.json", run_report("lab-02", RUN_B, "2026-11-29T10:01:00Z"))
    # lab-03 kept its verified report of the earlier run: the newest run never reached it.
    write(folder, "lab-03.json", run_report("lab-03", RUN_A, "2026-11-29T08:02:00Z"))
    code, hosts = rows(capsys, folder)
    assert code == 1
    assert hosts["lab-01"]["verified"] and hosts["lab-02"]["verified"]
    stale = hosts["lab-03"]
    assert stale["verified"] is False and stale["stale"] is True
    assert stale["result"] == "changed"  # the last result is kept, and said to be stale
    assert stale["problem"] == f"stale: no report from the newest run {RUN_B}"
    assert (
        f"last report: changed (verified) at 2026-11-29T08:02:00Z, run {RUN_A}"
        in (stale["details"])
    )

    assert report(paths=[folder], now=NOW) == 1
    table = capsys.readouterr().out
    assert "profile cuda-torch (3 hosts, 2 verified, 1 stale)" in table
    line = next(x for x in table.splitlines() if x.startswith("lab-03"))
    assert "stale (changed)" in line and " 3h " in line


def test_an_unreachable_host_shows_the_cause_and_its_last_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    write(folder, "lab-01.json", run_report("lab-01", RUN_B, "2026-11-29T10:00:00Z"))
    last = {"result": "converged", "finished_at": "2026-11-29T08:02:00Z", "verified": True}
    data = unreachable("lab-02", RUN_B, {**last, "run_id": RUN_A})
    parse_report(data)  # the controller's report is one this version reads
    write(folder, "lab-02.json", data)
    code, hosts = rows(capsys, folder)
    assert code == 1
    down = hosts["lab-02"]
    assert down["verified"] is False and down["stale"] is False and down["result"] == "unreachable"
    assert down["problem"].startswith("unreachable: ssh: connect to host")
    assert down["fix"].startswith("check that the host is up")
    assert "last report: converged (verified) at 2026-11-29T08:02:00Z" in down["details"]


def test_reports_outside_fleet_runs_are_not_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    write(folder, "a.json", report_json("lab-01", finished_at="2026-11-29T08:00:00Z"))
    write(folder, "b.json", report_json("lab-02", finished_at="2026-11-29T10:00:00Z"))
    code, hosts = rows(capsys, folder)
    assert code == 0 and not any(h["stale"] for h in hosts.values())


def repaired(host: str) -> dict[str, Any]:
    data = run_report(host, RUN_B, "2026-11-29T10:00:00Z", smoke=CPU_SMOKE)
    data["bundle_id"] = "0123456789abcdef"
    data["environment"]["action"] = "repair"
    data["environment"]["repair"] = [
        {
            "manager": "pip",
            "package": "torch",
            "files": [{"path": "torch/nn/functional.py", "problem": "missing"}],
        }
    ]
    return data


def test_a_repair_shows_as_a_repair_in_table_json_junit_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    write(folder, "lab-01.json", repaired("lab-01"))
    text = "repaired 1 file of torch (torch/nn/functional.py missing)"
    junit, html = tmp_path / "r.xml", tmp_path / "r.html"
    assert report(paths=[folder], junit=junit, html=html, now=NOW) == 0
    out = capsys.readouterr()
    assert text in out.out
    assert f"wrote {html} (1 host)" in out.err and f"wrote {junit} (JUnit, 1 host)" in out.err
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None and case.find("failure") is None
    assert text in ET.tostring(case, encoding="unicode")
    assert f'<div class="repair">{text}</div>' in html.read_text()
    code, hosts = rows(capsys, folder)
    assert code == 0 and hosts["lab-01"]["repairs"] == [text]
    assert hosts["lab-01"]["bundle_id"] == "0123456789abcdef"
    assert hosts["lab-01"]["lock_id"] == "a" * 12


def test_a_cpu_run_says_no_gpu_not_the_cpu_architecture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    write(folder, "cpu.json", report_json("lab-01", smoke=CPU_SMOKE))
    write(folder, "gpu.json", report_json("lab-02"))
    assert report(paths=[folder], now=NOW) == 0
    table = capsys.readouterr().out
    assert "x86_64" not in table
    cpu = next(x for x in table.splitlines() if x.startswith("lab-01"))
    assert "no GPU" in cpu
    assert "NVIDIA RTX A4000 (stand-in)" in next(
        x for x in table.splitlines() if x.startswith("lab-02")
    )


def test_a_failing_hosts_text_appears_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    not_ready = report_json("lab-03", failing_check=NOT_READY)
    not_ready["steps"][0]["reason"] = (
        "host not ready: nvidia.driver: driver 470.82 is older than 525.60 "
        "(fix: install the 535 driver)"
    )
    write(folder, "lab-03.json", not_ready)
    failed = report_json("lab-04", passed=False)
    write(folder, "lab-04.json", failed)
    junit, html = tmp_path / "r.xml", tmp_path / "r.html"
    assert report(paths=[folder], junit=junit, html=html, now=NOW) == 1
    page = html.read_text()
    assert page.count("driver 470.82 is older than 525.60") == 1
    assert page.count("trained on cuda:0") == 1
    for case in ET.parse(junit).getroot().iter("testcase"):
        failure = case.find("failure")
        assert failure is not None and failure.text is not None
        body = failure.text
        assert body.count("driver 470.82") + body.count("trained on cuda:0") == 1, body


def test_one_machine_with_two_environments_is_one_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "reports"
    write(folder, "cpu.json", report_json("ws-1", profile="cpu", env="cpu", smoke=CPU_SMOKE))
    write(folder, "team.json", report_json("ws-1", profile="team", env="team", smoke=CPU_SMOKE))
    html = tmp_path / "r.html"
    assert report(paths=[folder], html=html, now=NOW) == 0
    page = html.read_text()
    assert "<b>1</b>host<" in page and "<b>2</b>environments<" in page
