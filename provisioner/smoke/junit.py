"""JUnit XML for a smoke-test result: one testsuite, one testcase per stage, so CI
dashboards show which stage failed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

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


def junit_xml(result: SmokeResult) -> str:
    """The result as a JUnit XML document (UTF-8 text)."""
    stages = junit_stages(result)
    suite = ET.Element(
        "testsuite",
        name=f"provision.smoke.{result.profile}",
        tests=str(len(stages)),
        failures=str(sum(s.status == "fail" for s in stages)),
        skipped=str(sum(s.status == "skip" for s in stages)),
        errors="0",
        time=f"{result.duration_s:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key in ("framework", "framework_version", "device_used", "accelerator_used", "verdict"):
        ET.SubElement(props, "property", name=key, value=str(result.as_json()[key]))
    for stage in stages:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"smoke.{result.profile}",
            name=stage.name,
            time=f"{stage.duration_s:.3f}",
        )
        if stage.status == "fail":
            failure = ET.SubElement(case, "failure", message=stage.detail)
            failure.text = "\n".join(result.summary_lines())
        elif stage.status == "skip":
            ET.SubElement(case, "skipped", message=stage.detail)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{stage.status}: {stage.detail}"
    if result.warnings:
        ET.SubElement(suite, "system-err").text = "\n".join(result.warnings)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
