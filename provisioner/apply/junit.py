"""JUnit for a plan/apply run: one ``testcase`` per step, read from the typed report
and written by the one writer (:mod:`provisioner.report.junit`)."""

from __future__ import annotations

from pathlib import Path

from provisioner.report.junit import Suite, outcome_case
from provisioner.report.junit import write_junit as write_suites
from provisioner.report.model import Report


def apply_suite(report: Report) -> Suite:
    """A failed step is a ``failure``, a skipped one ``skipped``; the rest pass with
    ``status: reason`` as their output."""
    return Suite(
        name=f"provision {report.mode} {report.profile.name}",
        cases=tuple(
            outcome_case(
                f"provision.{report.environment.name}", s.name, s.status, s.reason, s.duration_s
            )
            for s in report.steps
        ),
        time_s=report.duration_s,
        timestamp=report.started_at,
        hostname=report.host.name,
    )


def write_junit(report: Report, path: Path) -> None:
    write_suites([apply_suite(report)], path)
