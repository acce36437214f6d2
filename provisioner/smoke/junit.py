"""JUnit for a smoke-test result: one testsuite, one testcase per stage, so CI
dashboards show which stage failed; written by :mod:`provisioner.report.junit`."""

from __future__ import annotations

from provisioner.report.junit import Suite, outcome_case
from provisioner.report.junit import junit_xml as suites_xml
from provisioner.smoke.result import STAGES, SmokeResult, Stage


def junit_stages(result: SmokeResult) -> list[Stage]:
    """The five stages in order. A run that ended early (crash, timeout, no result)
    fails the first stage it never reported and skips the rest."""
    by_name = {s.name: s for s in result.stages}
    stages: list[Stage] = []
    blamed = False
    for name in STAGES:
        stage = by_name.get(name)
        if stage is not None and stage.status != "skip":
            stages.append(stage)
        elif not result.passed and not blamed and not any(s.status == "fail" for s in stages):
            stages.append(Stage(name, "fail", result.reason))
            blamed = True
        else:
            stages.append(Stage(name, "skip", stage.detail if stage else "not run"))
    extra = [s for s in result.stages if s.name not in STAGES and s.status == "fail"]
    return stages + extra


def smoke_suite(result: SmokeResult, *, hostname: str | None = None) -> Suite:
    """The stages as testcases; a failure's body is the printed summary."""
    record = result.as_json()
    summary = "\n".join(result.summary_lines())
    keys = ("framework", "framework_version", "device_used", "accelerator_used", "verdict")
    return Suite(
        name=f"provision.smoke.{result.profile}",
        cases=tuple(
            outcome_case(
                f"smoke.{result.profile}",
                stage.name,
                stage.status,
                stage.detail,
                stage.duration_s,
                failure=summary,
            )
            for stage in junit_stages(result)
        ),
        time_s=result.duration_s,
        hostname=hostname,
        properties=tuple((k, str(record[k])) for k in keys),
        system_err="\n".join(result.warnings),
    )


def junit_xml(result: SmokeResult) -> str:
    """The result as a JUnit XML document (UTF-8 text)."""
    return suites_xml([smoke_suite(result)])
