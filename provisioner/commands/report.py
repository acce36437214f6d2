"""``provision report PATH... [--json] [--junit FILE] [--html FILE]``: read the reports
of many runs or machines and show one table per profile (docs/report.md). Exit 0 when
every host is verified, 1 when one is not, 2 for a path or file that gave no report."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from provisioner.report.reader import HostRow


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Read report files (or folders of them) and print one table per "
        "profile: host, ready, result, device, GPU, speed, problem and fix, age. Exit 0 "
        "when every host is verified, 1 when one is not, 2 for unreadable reports."
    )
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="report file or folder")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    p.add_argument("--html", type=Path, metavar="FILE", help="also write one HTML page here")
    p.set_defaults(run=lambda a: report(paths=a.paths, json_out=a.json, junit=a.junit, html=a.html))


def _write(path: Path, text: str, option: str) -> None:
    from provisioner.outputs import write_output

    write_output(path, text, option)


def _hosts(groups: Mapping[str, Sequence[HostRow]]) -> str:
    from provisioner.report.table import host_count

    n = host_count(groups)
    return f"{n} host" if n == 1 else f"{n} hosts"


def report(
    *,
    paths: list[Path],
    json_out: bool = False,
    junit: Path | None = None,
    html: Path | None = None,
    now: datetime | None = None,
) -> int:
    """Read, print, write; the exit code says whether every host is verified."""
    from provisioner.errors import ExitCode
    from provisioner.report.html import render_html
    from provisioner.report.junit import junit_xml
    from provisioner.report.reader import latest_rows, read_reports
    from provisioner.report.table import render_tables, report_suites

    now = now or datetime.now(timezone.utc)
    loaded, bad = read_reports(paths)
    for problem in bad:
        print(f"provision: error: {problem.line()}", file=sys.stderr)
    groups = latest_rows(loaded)
    if json_out:
        doc = {
            "schema": "provision-report-summary/1",
            "profiles": [
                {"profile": name, "hosts": [r.as_json(now) for r in rows]}
                for name, rows in groups.items()
            ],
            "unreadable": [{"path": str(u.path), "cause": u.cause} for u in bad],
        }
        print(json.dumps(doc, indent=2))
    else:
        sys.stdout.write(render_tables(groups, now))
    if junit is not None:
        _write(junit, junit_xml(report_suites(groups)), "--junit")
        print(f"wrote {junit} (JUnit, {_hosts(groups)})", file=sys.stderr)
    if html is not None:
        _write(html, render_html(groups, bad, now), "--html")
        print(f"wrote {html} ({_hosts(groups)})", file=sys.stderr)
    if bad or not groups:
        if not groups and not bad:
            print("provision: error: no reports found", file=sys.stderr)
        return int(ExitCode.INVALID)
    verified = all(r.verified for rows in groups.values() for r in rows)
    return int(ExitCode.OK if verified else ExitCode.NOT_READY)
