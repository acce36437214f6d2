"""The typed report: every writer's shape is read back (schema 2, schema 1 from older
releases, PowerShell 5.1's wrapped arrays); a newer or broken one is refused in one line."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.report.model import (
    SCHEMA,
    HostInfo,
    InvalidReport,
    Report,
    host_info,
    parse_report,
)
from tests.report.report_data import report_json


def test_round_trip_is_stable_and_keeps_the_smoke_record() -> None:
    data = report_json("lab-01")
    data["verify"]["result"]["libraries"] = {"cuda": "12.1"}  # a field the model does not name
    report = parse_report(data)
    again = parse_report(report.as_json())
    assert again == report
    assert report.as_json()["verify"]["result"]["libraries"] == {"cuda": "12.1"}
    assert report.verified and report.durations == {"checks": 0.4, "verify": 12.0}


def test_powershell_51_wrapped_arrays_are_read_as_arrays() -> None:
    data = report_json("win-01")
    data["steps"] = {"value": data["steps"], "Count": len(data["steps"])}
    data["packages"] = {"value": data["packages"], "Count": 1}
    data["checks"]["checks"] = {"value": data["checks"]["checks"], "Count": 1}
    report = parse_report(data)
    assert [s.name for s in report.steps] == ["checks", "verify"]
    assert len(report.packages) == 1 and report.checks is not None


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"schema_version": 3}, "schema_version: Value error, schema_version 3 is not one"),
        ({"schema": "something-else/1"}, "not a provision report"),
        ({"host": None}, "host:"),
        ({"steps": [{"name": "x", "status": "exploded"}]}, "steps.0.status:"),
        ({"exit_code": "zero"}, "exit_code:"),
    ],
)
def test_invalid_reports_are_one_line_with_the_field(change: dict[str, Any], cause: str) -> None:
    data = {**report_json("h"), **change}
    with pytest.raises(InvalidReport) as e:
        parse_report(data)
    assert cause in str(e.value) and "\n" not in str(e.value)


def test_not_a_json_object_is_refused() -> None:
    with pytest.raises(InvalidReport, match="not a JSON object"):
        parse_report([1, 2])


def test_not_verified_without_a_passed_verification() -> None:
    plan = parse_report({**report_json("h"), "mode": "plan", "result": "planned"})
    failed = parse_report(report_json("h", result="failed", exit_code=1, passed=False))
    no_verify = parse_report({**report_json("h"), "verify": None})
    assert not plan.verified and not failed.verified and not no_verify.verified


def test_host_name_from_option_then_environment_then_hostname(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    monkeypatch.setenv("PROVISION_HOST_NAME", "inventory-7")
    assert host_info("from-option", "linux-64").name == "from-option"
    assert host_info(None, "linux-64").name == "inventory-7"
    monkeypatch.delenv("PROVISION_HOST_NAME")
    info: HostInfo = host_info(None, "linux-64")
    assert info.name == info.hostname == socket.gethostname()


def test_the_schema_constant_is_what_reports_carry() -> None:
    assert Report.model_validate(report_json("h")).as_json()["schema"] == SCHEMA
