"""``provision report``: one table per profile over many hosts' reports; exit 0 all
verified, 1 one not verified, 2 for unreadable files (one line each, with the path)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

from provisioner.cli import main
from provisioner.commands.report import report
from tests.report.report_data import fleet, report_json, write

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)  # two hours after FINISHED


def test_fleet_table_names_every_host_and_the_failing_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(paths=[fleet(tmp_path / "reports")], now=NOW) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == ""
    assert lines[0] == "profile cuda-torch (3 hosts, 2 verified)"
    assert lines[1].split() == [
        "host",
        "ready",
        "result",
        "device",
        "GPU",
        "steps/s",
        "speed-up",
        "age",
        "problem",
    ]
    assert lines[2].startswith("lab-01 (ubuntu-clone)  yes")
    assert "cuda:0" in lines[2] and "NVIDIA RTX A4000 (stand-in)" in lines[2]
    assert "812.4" in lines[2] and "9.80x" in lines[2] and " 2h " in lines[2]
    assert lines[4].startswith("lab-03") and " no " in lines[4] and "not-ready" in lines[4]
    assert lines[4].endswith(
        "nvidia.driver: driver 470.82 is older than 525.60 "
        "(fix: install the 535 driver: sudo apt install nvidia-driver-535)"
    )


def test_all_verified_exits_0_and_profiles_get_their_own_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(tmp_path, "a.json", report_json("a", profile="cpu", env="cpu"))
    b = write(tmp_path, "b.json", report_json("b", profile="cuda-torch"))
    assert main(["report", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "profile cpu (1 host, 1 verified)" in out
    assert "\n\nprofile cuda-torch (1 host, 1 verified)\n" in out


def test_the_newest_report_of_a_host_and_environment_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = report_json("lab-01", result="failed", exit_code=1, passed=False)
    new = report_json("lab-01", finished_at="2026-11-29T11:00:00Z")
    write(tmp_path, "history-old.json", old)
    write(tmp_path, "latest.json", new)
    assert report(paths=[tmp_path], now=NOW) == 0
    assert "(1 host, 1 verified)" in capsys.readouterr().out


def test_smoke_failure_shows_the_diagnosis_and_its_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    smoke = {
        "verdict": "fail",
        "reason": "device: no CUDA device visible",
        "device_used": None,
        "diagnosis": [
            {
                "id": "cuda.no-kernel-image",
                "severity": "fail",
                "meaning": "the GPU's architecture is not in this torch build",
                "fix": "install a torch build for sm_89",
                "line": 3,
                "excerpt": "...",
            }
        ],
    }
    path = write(
        tmp_path,
        "r.json",
        report_json("gpu-7", result="failed", exit_code=1, smoke=smoke, passed=False),
    )
    assert report(paths=[path], now=NOW) == 1
    assert (
        capsys.readouterr()
        .out.splitlines()[2]
        .endswith(
            "cuda.no-kernel-image: the GPU's architecture is not in this torch build "
            "(fix: install a torch build for sm_89)"
        )
    )


def test_unreadable_files_are_one_line_each_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "good.json", report_json("ok-host"))
    (tmp_path / "broken.json").write_text('{"schema": "provision-report/2", ')
    write(tmp_path, "other.json", {"hello": "world"})
    write(tmp_path, "future.json", {**report_json("h"), "schema_version": 9})
    write(tmp_path, "deep.json", [])
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    (tmp_path / "binary.json").write_bytes(b"\x00\xff\xfe garbage")
    missing = tmp_path / "nope"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(tmp_path), str(missing), str(empty)]) == 2
    out, err = capsys.readouterr()
    assert "ok-host" in out  # the readable ones are still shown
    lines = err.splitlines()
    assert len(lines) == 7, err
    assert all(line.startswith(f"provision: error: {tmp_path}") for line in lines)
    assert f"{tmp_path / 'broken.json'}: not valid JSON: " in err
    assert f"{tmp_path / 'other.json'}: not a valid report: not a provision report" in err
    assert f"{tmp_path / 'future.json'}: not a valid report: schema_version: " in err
    assert "upgrade provision" in err
    assert f"{tmp_path / 'deep.json'}: not valid JSON: nested too deeply" in err
    assert f"{missing}: no such file or folder (fix: check the path: " in err
    assert f"{empty}: no report files (*.json) in this folder" in err
    assert good.exists()


def test_json_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(paths=[fleet(tmp_path)], json_out=True, now=NOW) == 1
    doc = json.loads(capsys.readouterr().out)
    (group,) = doc["profiles"]
    hosts = {h["host"]: h for h in group["hosts"]}
    assert set(hosts) == {"lab-01", "lab-02", "lab-03"}
    assert hosts["lab-01"]["verified"] and hosts["lab-01"]["age_s"] == 7200
    assert hosts["lab-03"]["problem"].startswith("nvidia.driver: ")
    assert hosts["lab-03"]["fix"].startswith("install the 535 driver")


def test_junit_one_suite_per_profile_one_case_per_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "out" / "fleet.xml"
    assert report(paths=[fleet(tmp_path / "r")], junit=junit, now=NOW) == 1
    (suite,) = ET.parse(junit).getroot().findall("testsuite")
    assert suite.get("name") == "provision.report.cuda-torch" and suite.get("failures") == "1"
    failures = {c.get("name"): c.find("failure") for c in suite.findall("testcase")}
    assert failures["lab-01"] is None and failures["lab-03"] is not None
    assert "nvidia.driver" in (failures["lab-03"].get("message") or "")


def test_hostile_names_cannot_reach_the_terminal_or_break_the_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "evil\x1b]0;pwned\x07\x1b[2J<x>&\x00"
    write(tmp_path, "h.json", report_json(hostile, failing_check=("a\x1b[31m", "b\x00", "c")))
    junit = tmp_path / "j.xml"
    assert report(paths=[tmp_path / "h.json"], junit=junit, now=NOW) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x00" not in out and "\x07" not in out
    assert "evil?]0;pwned??[2J<x>&?" in out
    (case,) = ET.parse(junit).getroot().iter("testcase")  # still well-formed XML
    assert case.get("name") == "evil\ufffd]0;pwned\ufffd\ufffd[2J<x>&\ufffd"


def test_unwritable_html_path_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    code = main(["report", str(fleet(tmp_path / "r")), "--html", str(tmp_path / "file" / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"provision: error: --html {tmp_path / 'file' / 'x'}: ")
