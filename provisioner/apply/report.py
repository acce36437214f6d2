"""The apply report: one JSON document per run (schema ``provision-report/1``,
documented in ``docs/apply.md``), written to ``paths.reports_dir()/<env>-<UTC
timestamp>.json``. The bootstrap scripts write the same schema.
"""

from __future__ import annotations

import json
import platform as host
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provisioner import __version__
from provisioner.apply.run import Run
from provisioner.apply.steps import diff_json
from provisioner.atomic import write_atomic
from provisioner.paths import reports_dir

SCHEMA = "provision-report/1"


def build_report(run: Run, *, mode: str, exit_code: int) -> dict[str, Any]:
    """The report of one plan/apply run as JSON-ready data."""
    p = run.resolved.profile
    finished = time.time()
    statuses = [r.outcome.status for r in run.records]
    if "fail" in statuses:
        result = "failed" if run.records[-1].name != "checks" else "not-ready"
    elif mode != "apply":
        result = "planned"
    elif any(r.changed for r in run.records):
        result = "changed"
    else:
        result = "converged"
    state = run.state
    fresh = state is not None and run.lock_fresh and state.lock_sha256 == run.lock_sha256
    packages = state.packages if state is not None and fresh else []
    diagnosis = run.diagnosis.as_json() if run.diagnosis is not None else None
    return {
        "schema": SCHEMA,
        "tool": f"provision {__version__}",
        "mode": mode,
        "result": result,
        "exit_code": exit_code,
        "started_at": _iso(run.started),
        "finished_at": _iso(finished),
        "duration_s": round(finished - run.started, 3),
        "profile": {
            "name": p.name,
            "path": str(run.resolved.path),
            "content_hash": run.resolved.content_hash,
            "target": p.target.os.value,
            "manager": p.environment.manager.value,
            "python": p.environment.python,
            "framework": p.smoke_test.framework.value,
            "device": p.smoke_test.device.value,
        },
        "host": {
            "platform": run.platform,
            "system": host.system(),
            "release": host.release(),
            "machine": host.machine(),
            "node": host.node(),
        },
        "checks": diagnosis,
        "lock": {
            "path": str(run.lock_path) if run.lock_path else None,
            "sha256": run.lock_sha256 or None,
            "fresh": run.lock_fresh,
        },
        "environment": {
            "name": run.env,
            "prefix": str(run.prefix),
            "action": run.env_action
            if any(r.name == "environment" and r.outcome.status == "change" for r in run.records)
            else "none",
            "diff": diff_json(run.diff) if run.diff is not None else None,
        },
        "packages": packages,
        "verify": run.verify or None,
        "steps": [
            {
                "name": r.name,
                "status": r.outcome.status,
                "changed": r.changed,
                "reason": r.outcome.reason,
                "duration_s": round(r.duration_s, 3),
            }
            for r in run.records
        ],
        "durations": {r.name: round(r.duration_s, 3) for r in run.records},
    }


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_report(report: dict[str, Any], env: str) -> Path:
    """Write the report under ``paths.reports_dir()`` and return its path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = reports_dir() / f"{env}-{stamp}.json"
    write_atomic(path, json.dumps(report, indent=2) + "\n")
    return path
