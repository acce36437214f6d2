"""``provision report`` as text: one table per profile, and the same rows as JUnit.

Host names and messages come from other machines: control characters (terminal
escapes) and bidirectional controls (which reorder the rest of a row on screen) are
shown as ``?`` so a report cannot rewrite the admin's terminal or disguise a row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from provisioner.report.junit import Case, Suite
from provisioner.report.reader import HostRow

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
COLUMNS = ("host", "ready", "result", "device", "GPU", "steps/s", "speed-up", "age", "problem")


def printable(text: str) -> str:
    return _CONTROL.sub("?", text)


def age_text(seconds: float | None) -> str:
    """``45s``, ``12m``, ``5h``, ``3d``; ``?`` when the report's time is unreadable."""
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def ready_text(ready: bool | None) -> str:
    return "-" if ready is None else ("yes" if ready else "no")


def problem_text(row: HostRow) -> str:
    """The problem with its fix; for a verified host what was repaired, else ``-``."""
    if row.problem is None:
        return "; ".join(row.repairs) or "-"
    return row.problem + (f" (fix: {row.fix})" if row.fix else "")


def result_text(row: HostRow) -> str:
    return f"stale ({row.result})" if row.stale else row.result


def host_text(row: HostRow) -> str:
    """The inventory name, with the machine's own hostname when that differs."""
    return row.host if row.hostname in ("", row.host) else f"{row.host} ({row.hostname})"


def cells(row: HostRow, now: datetime) -> tuple[str, ...]:
    return (
        host_text(row),
        ready_text(row.ready),
        result_text(row),
        row.device or "-",
        row.gpu or "-",
        f"{row.steps_per_s:.1f}" if row.steps_per_s is not None else "-",
        f"{row.speedup:.2f}x" if row.speedup is not None else "-",
        age_text(row.age_s(now)),
        problem_text(row),
    )


def profile_heading(name: str, rows: Sequence[HostRow]) -> str:
    verified = sum(r.verified for r in rows)
    hosts = "host" if len(rows) == 1 else "hosts"
    stale = sum(r.stale for r in rows)
    more = f", {stale} stale" if stale else ""
    return f"profile {name} ({len(rows)} {hosts}, {verified} verified{more})"


def host_count(groups: Mapping[str, Sequence[HostRow]]) -> int:
    """Machines, not rows: a host with two environments (two profiles) counts once."""
    return len({r.host for rows in groups.values() for r in rows})


def render_tables(groups: Mapping[str, Sequence[HostRow]], now: datetime) -> str:
    """One aligned table per profile, separated by a blank line."""
    blocks: list[str] = []
    for name, rows in groups.items():
        table = [COLUMNS, *(tuple(printable(c) for c in cells(r, now)) for r in rows)]
        widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
        lines = [printable(profile_heading(name, rows))]
        for line in table:
            head = "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False))
            lines.append(f"{head}  {line[-1]}".rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def report_suites(groups: Mapping[str, Sequence[HostRow]]) -> list[Suite]:
    """One testsuite per profile, one testcase per host; not verified is a failure."""
    return [
        Suite(
            name=f"provision.report.{name}",
            cases=tuple(
                Case(
                    classname=f"provision.{name}",
                    name=r.host,
                    status="pass" if r.verified else "fail",
                    message=problem_text(r),
                    text="\n".join((problem_text(r), *r.details, f"report: {r.path}"))
                    if not r.verified
                    else "\n".join(
                        (f"{r.result}: {r.device or '-'} {r.gpu or ''}".rstrip(), *r.repairs)
                    ),
                )
                for r in rows
            ),
        )
        for name, rows in groups.items()
    ]
