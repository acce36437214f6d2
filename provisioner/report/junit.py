"""The one JUnit XML writer: apply (a testcase per step), verify (per smoke-test stage)
and ``provision report`` (per host) each build :class:`Suite` values; this module
writes them as one ``testsuites`` document that CI dashboards read.

Text that XML 1.0 cannot carry (terminal escapes, NULs from a crashed tool's log) is
replaced by U+FFFD, so a hostile message never makes the file unreadable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CaseStatus = Literal["pass", "fail", "skip"]
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True)
class Case:
    """One testcase: passed (``text`` goes to system-out), failed (``message`` and the
    failure body ``text``) or skipped (``message``)."""

    classname: str
    name: str
    status: CaseStatus
    message: str = ""
    text: str = ""
    time_s: float = 0.0


# Step (apply: ok/change/fail/skipped) and stage (smoke test: pass/warn/fail/skip) statuses.
_OUTCOME: dict[str, CaseStatus] = {"fail": "fail", "skip": "skip", "skipped": "skip"}


def outcome_case(
    classname: str,
    name: str,
    status: str,
    detail: str,
    time_s: float,
    *,
    failure: str | None = None,
) -> Case:
    """An apply step or a smoke-test stage as a testcase: ``fail`` fails with ``failure``
    (default: ``detail``) as its body, ``skip``/``skipped`` is skipped, any other status
    passes with ``status: detail`` as its output."""
    kind = _OUTCOME.get(status, "pass")
    text = (detail if failure is None else failure) if kind == "fail" else f"{status}: {detail}"
    return Case(classname, name, kind, message=detail, text=text, time_s=time_s)


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...]
    time_s: float = 0.0
    timestamp: str | None = None
    hostname: str | None = None
    properties: tuple[tuple[str, str], ...] = ()
    system_err: str = ""


def _suite(suite: Suite) -> ET.Element:
    attrs = {
        "name": xml_text(suite.name),
        "tests": str(len(suite.cases)),
        "failures": str(sum(c.status == "fail" for c in suite.cases)),
        "skipped": str(sum(c.status == "skip" for c in suite.cases)),
        "errors": "0",
        "time": f"{suite.time_s:.3f}",
    }
    if suite.timestamp:
        attrs["timestamp"] = suite.timestamp
    if suite.hostname:
        attrs["hostname"] = xml_text(suite.hostname)
    element = ET.Element("testsuite", attrs)
    if suite.properties:
        props = ET.SubElement(element, "properties")
        for key, value in suite.properties:
            ET.SubElement(props, "property", name=key, value=xml_text(value))
    for c in suite.cases:
        case = ET.SubElement(
            element,
            "testcase",
            classname=xml_text(c.classname),
            name=xml_text(c.name),
            time=f"{c.time_s:.3f}",
        )
        if c.status == "fail":
            ET.SubElement(case, "failure", message=xml_text(c.message)).text = xml_text(
                c.text or c.message
            )
        elif c.status == "skip":
            ET.SubElement(case, "skipped", message=xml_text(c.message))
        elif c.text:
            ET.SubElement(case, "system-out").text = xml_text(c.text)
    if suite.system_err:
        ET.SubElement(element, "system-err").text = xml_text(suite.system_err)
    return element


def junit_xml(suites: Sequence[Suite]) -> str:
    """The suites as one ``testsuites`` document (UTF-8 text with its declaration)."""
    root = ET.Element("testsuites")
    for suite in suites:
        root.append(_suite(suite))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(suites: Sequence[Suite], path: Path) -> None:
    """Write :func:`junit_xml` to ``path``, the ``--junit`` the user named (its folder
    is created; a device or a pipe is written through, see :mod:`provisioner.outputs`)."""
    from provisioner.outputs import write_output

    write_output(path, junit_xml(suites), "--junit")
