"""Where report files live and how many are kept (docs/report.md, "Files").

``$PROVISION_HOME/reports/<env>.json`` is the latest report of each environment (a
stable path for a fleet to fetch); ``reports/history/<env>-<UTC stamp>[-<tool>].json``
keeps the last ``$PROVISION_REPORT_HISTORY`` (default 10) runs. Every run replaces
the latest and prunes its environment's history, so a no-op apply repeated forever
keeps at most 1 + N files. The bootstrap scripts follow the same layout and rule.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

from provisioner.atomic import write_atomic
from provisioner.errors import ProvisionError
from provisioner.paths import reports_dir
from provisioner.report.model import Report

HISTORY_VAR = "PROVISION_REPORT_HISTORY"
DEFAULT_HISTORY = 10
# What follows "<env>-" in a history file name: a sortable UTC stamp (microseconds) and
# the writer when not provision itself ("-bootstrap").
_STAMPED = re.compile(r"\d{8}T\d{6}(\d{6})?Z(-[a-z]+)?\.json")


def history_size() -> int:
    """``$PROVISION_REPORT_HISTORY`` (0 keeps none), else 10."""
    raw = os.environ.get(HISTORY_VAR, "").strip()
    if not raw:
        return DEFAULT_HISTORY
    if not (raw.isascii() and raw.isdigit()):  # as the scripts' [0-9]+
        raise ProvisionError(
            f"{HISTORY_VAR}={raw!r} is not a number of reports",
            hint=f"set it to 0 or more (default {DEFAULT_HISTORY}), or unset it",
        )
    return int(raw)


def stamp(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSffffffZ``: sorts by time as text, also across writers."""
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")


def history_of(folder: Path, env: str) -> list[Path]:
    """``env``'s stamped reports, oldest first (not those of ``env-other``)."""
    if not folder.is_dir():
        return []
    prefix = f"{env}-"
    found = [
        p
        for p in folder.iterdir()
        if p.name.startswith(prefix) and _STAMPED.fullmatch(p.name[len(prefix) :])
    ]
    return sorted(found, key=lambda p: p.name)


def write_report(report: Report, folder: Path | None = None, *, keep: int | None = None) -> Path:
    """Write ``report`` as its environment's latest report, add it to the history, prune
    the history to ``keep`` (default :func:`history_size`); return the latest's path.

    Stamped reports an older provision left directly in ``folder`` join the history."""
    folder = folder or reports_dir()
    keep = history_size() if keep is None else keep
    env = report.environment.name
    history = folder / "history"
    history.mkdir(parents=True, exist_ok=True)
    text = report.to_json()
    for legacy in history_of(folder, env):
        os.replace(legacy, history / legacy.name)
    if keep > 0:
        write_atomic(history / f"{env}-{stamp()}.json", text)
    kept = history_of(history, env)
    for old in kept[: max(0, len(kept) - keep)]:
        old.unlink(missing_ok=True)
    latest = folder / f"{env}.json"
    write_atomic(latest, text)
    return latest
