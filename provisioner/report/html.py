"""``provision report --html``: one self-contained page a lab admin opens from a share.

Inline CSS and one inline script, nothing fetched: the Content-Security-Policy allows
no source but that script, by its sha256. The summary comes first, then one table per
profile with a row per host (bundle and lock id included); each host that is not
verified has its details expanded (``<details open>``), a repaired one says what was
repaired. Every column sorts (click its heading) and filters (the box under it); the
view is kept in the address (``#sort=age:desc&result=stale``), so a link shows the
same rows. Every value from a report is HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from importlib import resources

from provisioner import __version__
from provisioner.report.reader import HostRow, Unreadable
from provisioner.report.table import cells, host_count, printable, profile_heading

COLUMNS = (
    "host",
    "ready",
    "result",
    "device",
    "GPU",
    "steps/s",
    "speed-up",
    "age",
    "bundle",
    "lock",
    "problem",
)
# Sorts and filters the tables; reads and writes the view in location.hash.
SCRIPT = (resources.files("provisioner") / "templates" / "report" / "sort_filter.js").read_text(
    encoding="utf-8"
)
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
# Nothing to fetch, inline styles, and only the script above.
CSP = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{SCRIPT_HASH}'"

CSS = """
body { font: 14px/1.4 system-ui, "Segoe UI", sans-serif; margin: 2em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin: 0 0 .3em; }
h2 { font-size: 1.15em; margin: 1.6em 0 .4em; }
.meta { color: #555; margin: 0 0 1em; }
.summary { display: flex; gap: 1em; margin: 1em 0; flex-wrap: wrap; }
.tile { border-radius: 6px; padding: .6em 1.1em; background: #f2f2f4; min-width: 7em; }
.tile b { display: block; font-size: 1.6em; }
.tile.ok { background: #e3f4e6; }
.tile.bad { background: #fbe4e4; }
.tile.warn { background: #fff3d6; }
table { border-collapse: collapse; width: 100%; margin-bottom: .5em; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #ddd; }
td { vertical-align: top; }
th { background: #f6f6f8; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.ok td.state { color: #17692a; font-weight: 600; }
tr.bad td.state { color: #b3261e; font-weight: 600; }
tr.bad { background: #fff7f7; }
details { margin: .2em 0 .6em; }
details summary { cursor: pointer; font-weight: 600; color: #b3261e; }
details ul { margin: .3em 0; padding-left: 1.4em; }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .92em; }
.fix { color: #17692a; }
.files li { font-family: ui-monospace, Menlo, Consolas, monospace; }
tr.stale { background: #fffaf0; }
th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0;
  cursor: pointer; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
tr.filters th { background: #fff; padding-top: 0; }
tr.filters input { width: 100%; box-sizing: border-box; font: inherit; font-size: .85em; }
.repair { color: #7a4d00; }
"""


def _e(text: object) -> str:
    return escape(printable(str(text)), quote=True)


def _summary(groups: Mapping[str, Sequence[HostRow]], bad: Sequence[Unreadable]) -> str:
    rows = [r for g in groups.values() for r in g]
    verified = sum(r.verified for r in rows)
    machines = host_count(groups)
    tiles = [("", machines, "host" if machines == 1 else "hosts")]
    if len(rows) != machines:
        tiles.append(("", len(rows), "environments"))
    tiles += [
        ("ok", verified, "verified"),
        ("bad" if len(rows) - verified else "", len(rows) - verified, "not verified"),
    ]
    stale = sum(r.stale for r in rows)
    if stale:
        tiles.append(("warn", stale, "stale"))
    if bad:
        tiles.append(("warn", len(bad), "unreadable reports"))
    html = ['<section class="summary" id="summary">']
    html += [f'<div class="tile {c}"><b>{n}</b>{_e(label)}</div>' for c, n, label in tiles]
    html.append("</section>")
    html.append("<ul>")
    html += [f"<li>{_e(profile_heading(name, g))}</li>" for name, g in groups.items()]
    html.append("</ul>")
    if bad:
        html.append('<h2>Unreadable reports</h2><ul class="files">')
        html += [f"<li>{_e(u.line())}</li>" for u in bad]
        html.append("</ul>")
    return "\n".join(html)


def _details(row: HostRow) -> str:
    items = [f"<li>{_e(line)}</li>" for line in row.details]
    fix = f'<div class="fix">fix: {_e(row.fix)}</div>' if row.fix else ""
    return (
        f"<details open><summary>{_e(row.problem or row.result)}</summary>{fix}"
        f"<ul>{''.join(items)}</ul>"
        f'<div class="meta mono">{_e(row.tool)} &middot; {_e(row.path)}</div></details>'
    )


def _table(name: str, rows: Sequence[HostRow], now: datetime) -> str:
    head = "".join(
        f'<th data-col="{_e(c)}" aria-sort="none"><button type="button">{_e(c)}</button></th>'
        for c in COLUMNS
    )
    filters = "".join(
        f'<th><input data-col="{_e(c)}" type="search" aria-label="filter {_e(c)}"></th>'
        for c in COLUMNS
    )
    body = []
    for row in rows:
        values = cells(row, now)
        age = row.age_s(now)
        tds = [f"<td>{_e(values[0])}</td>", f'<td class="state">{_e(values[1])}</td>']
        tds.append(f'<td class="state">{_e(values[2])}</td>')
        tds += [f"<td>{_e(v)}</td>" for v in values[3:5]]
        numbers = (row.steps_per_s, row.speedup, age)
        tds += [
            f'<td class="num" data-v="{"" if n is None else round(n, 3)}">{_e(v)}</td>'
            for v, n in zip(values[5:8], numbers, strict=True)
        ]
        tds += [f'<td class="mono">{_e(v or "-")}</td>' for v in (row.bundle_id, row.lock_id)]
        if not row.verified:
            tds.append(f"<td>{_details(row)}</td>")
        elif row.repairs:
            repairs = "".join(f'<div class="repair">{_e(x)}</div>' for x in row.repairs)
            tds.append(f"<td>{repairs}</td>")
        else:
            tds.append("<td>-</td>")
        cls = "ok" if row.verified else ("bad stale" if row.stale else "bad")
        body.append(f'<tr class="{cls}">{"".join(tds)}</tr>')
    return (
        f"<h2>{_e(profile_heading(name, rows))}</h2>\n"
        f'<table class="hosts"><thead><tr>{head}</tr><tr class="filters">{filters}</tr></thead>'
        "<tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def render_html(
    groups: Mapping[str, Sequence[HostRow]], bad: Sequence[Unreadable], now: datetime
) -> str:
    """The whole page as text."""
    tables = "\n".join(_table(name, rows, now) for name, rows in groups.items())
    generated = _e(f"{now:%Y-%m-%d %H:%M} UTC by provision {__version__}")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>provision report</title>
<style>{CSS}</style>
</head>
<body>
<h1>provision report</h1>
<p class="meta">generated {generated}</p>
{_summary(groups, bad)}
{tables}
<script>{SCRIPT}</script>
</body>
</html>
"""
