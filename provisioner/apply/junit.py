"""JUnit XML for CI dashboards: one ``testcase`` per step of a plan/apply run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def junit_xml(report: dict[str, Any]) -> str:
    """A ``testsuites`` document from an apply report (failed step -> ``failure``,
    skipped step -> ``skipped``)."""
    steps = report["steps"]
    suite = ET.Element(
        "testsuite",
        name=f"provision {report['mode']} {report['profile']['name']}",
        tests=str(len(steps)),
        failures=str(sum(s["status"] == "fail" for s in steps)),
        skipped=str(sum(s["status"] == "skipped" for s in steps)),
        errors="0",
        time=f"{report['duration_s']:.3f}",
        timestamp=report["started_at"],
        hostname=str(report["host"]["node"]),
    )
    for s in steps:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"provision.{report['environment']['name']}",
            name=s["name"],
            time=f"{s['duration_s']:.3f}",
        )
        if s["status"] == "fail":
            ET.SubElement(case, "failure", message=s["reason"]).text = s["reason"]
        elif s["status"] == "skipped":
            ET.SubElement(case, "skipped", message=s["reason"])
        else:
            ET.SubElement(case, "system-out").text = f"{s['status']}: {s['reason']}"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(report), encoding="utf-8")
