"""JUnit for a plan/apply run: one ``testcase`` per step, read from the typed report
and written by the one writer (:mod:`provisioner.report.junit`)."""

from __future__ import annotations

from pathlib import Path

from provisioner.report.junit import Case, CaseStatus, Suite
from provisioner.report.junit import write_junit as write_suites
from provisioner.report.model import Report

_STATUS: dict[str, CaseStatus] = {"fail": "fail", "skipped": "skip"}


def apply_suite(report: Report) -> Suite:
    """A failed step is a ``failure``, a skipped one ``skipped``; the rest pass with
    ``status: reason`` as their output."""
    return Suite(
        name=f"provision {report.mode} {report.profile.name}",
        cases=tuple(
            Case(
                classname=f"provision.{report.environment.name}",
                name=s.name,
                status=_STATUS.get(s.status, "pass"),
                message=s.reason,
                text=s.reason if s.status == "fail" else f"{s.status}: {s.reason}",
                time_s=s.duration_s,
            )
            for s in report.steps
        ),
        time_s=report.duration_s,
        timestamp=report.started_at,
        hostname=report.host.name,
    )


def write_junit(report: Report, path: Path) -> None:
    write_suites([apply_suite(report)], path)
