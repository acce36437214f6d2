"""``provision report --html``, opened in a real headless Chromium (Debian's
``chromium``, installed by ``.ci/run``): the rendered DOM names every host and the
failing check, shows failures expanded, runs only its own script (sort and filter, the
view read from the address) and loads nothing; a screenshot is kept as a test artifact
under ``tests/artifacts/`` (git-ignored)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from provisioner.cli import main
from tests.report.report_data import fleet, report_json, write

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
HOSTILE = '<script>alert("x")</script><img src=http://evil.example/x.png>&amp;'
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
)


def chromium(profile: Path, *args: str, timeout: float = 120) -> str:
    """Run headless Chromium in its own session (killed as a group on timeout)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # the suite may run as root (CI containers)
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise
    assert child.returncode == 0, f"chromium exited {child.returncode}"
    return out


class Dom(HTMLParser):
    """The tags, attributes and text of the DOM Chromium built."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.html = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.slow
@needs_chromium
def test_html_report_in_headless_chromium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = fleet(tmp_path / "reports")
    write(reports, "hostile.json", report_json(HOSTILE, failing_check=("gpu.count", HOSTILE, "")))
    page = tmp_path / "share" / "fleet.html"
    assert main(["report", str(reports), "--html", str(page)]) == 1

    dom = Dom()
    dom.feed(chromium(tmp_path / "chromium", "--dump-dom", page.as_uri()))
    text = " ".join(" ".join(dom.text).split())
    for host in ("lab-01", "lab-02", "lab-03", HOSTILE):
        assert host in text, host  # the hostile name is text, not markup
    assert "nvidia.driver: driver 470.82 is older than 525.60" in text
    assert "fix: install the 535 driver: sudo apt install nvidia-driver-535" in text
    assert text.index("4 hosts") < text.index("profile cuda-torch (4 hosts, 2 verified)")
    tags = [t for t, _ in dom.tags]
    assert tags.count("script") == 1 and "img" not in tags  # its own script, nothing else
    assert sum(t == "details" and "open" in a for t, a in dom.tags) == 2  # both failures open
    fetched = [v for _, a in dom.tags for k, v in a.items() if k in ("src", "href") and v]
    assert fetched == []  # self-contained: nothing to load from a CDN or elsewhere

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-html.png"
    shot.unlink(missing_ok=True)
    chromium(
        tmp_path / "chromium", f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri()
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nscreenshot of the HTML report: {shot}")


def host_order(dom: Dom) -> list[str]:
    """The first cell of each body row, in DOM order, with ``hidden`` rows marked."""
    rows: list[str] = []
    parser = _Rows(rows)
    parser.feed(dom.html)
    return rows


class _Rows(HTMLParser):
    def __init__(self, out: list[str]) -> None:
        super().__init__()
        self.out = out
        self.in_body = False
        self.hidden = False
        self.cell = -1
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.hidden = "hidden" in dict(attrs)
            self.cell = -1
        elif tag == "td" and self.in_body:
            self.cell += 1
            self.text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.in_body and self.cell == 0:
            self.out.append(("(hidden) " if self.hidden else "") + self.text.strip())

    def handle_data(self, data: str) -> None:
        if self.in_body and self.cell == 0:
            self.text += data


@pytest.mark.slow
@needs_chromium
def test_html_report_sorts_and_filters_by_column_in_headless_chromium(tmp_path: Path) -> None:
    reports = fleet(tmp_path / "reports")
    page = tmp_path / "fleet.html"
    assert main(["report", str(reports), "--html", str(page)]) == 1

    def view(fragment: str) -> list[str]:
        dom = Dom()
        dom.html = chromium(tmp_path / "chromium", "--dump-dom", page.as_uri() + fragment)
        return host_order(dom)

    plain = view("")
    assert plain == ["lab-01 (ubuntu-clone)", "lab-02 (ubuntu-clone)", "lab-03"]
    assert view("#sort=host:desc") == list(reversed(plain))
    assert view("#sort=result") == ["lab-01 (ubuntu-clone)", "lab-02 (ubuntu-clone)", "lab-03"]
    assert view("#sort=result:desc")[0] == "lab-03"  # not-ready first
    assert view("#result=not-ready") == [
        "(hidden) lab-01 (ubuntu-clone)",
        "(hidden) lab-02 (ubuntu-clone)",
        "lab-03",
    ]
    assert view("#host=LAB-02&sort=host") == [
        "(hidden) lab-01 (ubuntu-clone)",
        "lab-02 (ubuntu-clone)",
        "(hidden) lab-03",
    ]
