"""What ``provision report`` prints and writes (table, --json, JUnit, HTML) from values
another machine chose: text Unicode allows but a terminal, XML or UTF-8 cannot carry
(lone surrogates from a ``\\ud800`` JSON escape, bidirectional overrides that reorder
a row on screen, characters XML 1.0 forbids). Each output stays well formed and
honest, and the command exits as it would for a plain name (never exit 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from provisioner.report.junit import Case, Suite, junit_xml, xml_text
from provisioner.report.table import printable
from tests.report.report_data import report_json, write

REPO = Path(__file__).resolve().parents[2]


def provision(*args: str) -> subprocess.CompletedProcess[bytes]:
    """The CLI in a child: its stdout is a real UTF-8 stream, as on a terminal or a pipe."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def hostile_report(tmp_path: Path, host: str, summary: str = "driver too old") -> Path:
    data = report_json(host, failing_check=("nvidia.driver", summary, "install 535"))
    return write(tmp_path / "reports", "h.json", data)


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("lab-\ud800-01", "lab-\ufffd-01"),  # a lone surrogate (JSON "\ud800")
        ("lab-\udfff", "lab-\ufffd"),
        ("lab-\U0001f600", "lab-\U0001f600"),  # a real astral character stays
    ],
    ids=["high-surrogate", "low-surrogate", "emoji"],
)
def test_every_output_carries_a_name_with_surrogates(tmp_path: Path, host: str, shown: str) -> None:
    path = hostile_report(tmp_path, host)
    junit, html = tmp_path / "r.xml", tmp_path / "r.html"
    done = provision("report", str(path), "--junit", str(junit), "--html", str(html))
    assert done.returncode == 1, done.stderr.decode("utf-8", "replace")  # not verified
    assert shown in done.stdout.decode("utf-8")
    (case,) = ET.parse(junit).getroot().iter("testcase")
    assert case.get("name") == shown
    assert shown in html.read_text(encoding="utf-8")
    rows = json.loads(provision("report", "--json", str(path)).stdout)
    assert rows["profiles"][0]["hosts"][0]["host"] == shown


@pytest.mark.parametrize(
    "override",
    ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"],
)
def test_bidirectional_controls_cannot_reorder_a_row_on_screen(override: str) -> None:
    assert printable(f"lab-01{override}10.0 steps/s") == "lab-01?10.0 steps/s"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("plain", "plain"),
        ("tab\tnewline\ncr\r", "tab\tnewline\ncr\r"),
        ("nul\x00bell\x07esc\x1b", "nul\ufffdbell\ufffdesc\ufffd"),
        ("\ufffe\uffff", "\ufffd\ufffd"),
        ("\ud800", "\ufffd"),
        ("\U0010ffff", "\U0010ffff"),
    ],
)
def test_xml_text_keeps_what_xml_1_0_allows(text: str, kept: str) -> None:
    assert xml_text(text) == kept


def test_a_junit_document_of_hostile_values_parses_back() -> None:
    nasty = "a\x00b\x1b[31m\ud800]]>&<\"'"
    suite = Suite(
        name=nasty,
        cases=(
            Case(nasty, nasty, "fail", message=nasty, text=nasty),
            Case("c", "skipped", "skip", message=nasty),
            Case("c", "passed", "pass", text=nasty),
        ),
        hostname=nasty,
        properties=(("profile", nasty),),
        system_err=nasty,
    )
    root = ET.fromstring(junit_xml([suite]).encode("utf-8"))
    (element,) = root.findall("testsuite")
    clean = "a\ufffdb\ufffd[31m\ufffd]]>&<\"'"
    assert element.get("name") == clean and element.get("hostname") == clean
    assert (element.get("tests"), element.get("failures"), element.get("skipped")) == (
        "3",
        "1",
        "1",
    )
    failure = element.find("testcase/failure")
    assert failure is not None and failure.text == clean and failure.get("message") == clean
    assert element.findtext("system-err") == clean
