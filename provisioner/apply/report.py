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
from provisioner.apply.run import Context, Findings
from provisioner.apply.steps import diff_json
from provisioner.atomic import write_atomic
from provisioner.paths import reports_dir

SCHEMA = "provision-report/1"


def build_report(ctx: Context, done: Findings, *, mode: str, exit_code: int) -> dict[str, Any]:
    """The report of one plan/apply run as JSON-ready data, from the steps' findings."""
    p = ctx.resolved.profile
    records = done.records
    finished = time.time()
    statuses = [r.outcome.status for r in records]
    if "fail" in statuses:
        result = "failed" if records[-1].name != "checks" else "not-ready"
    elif mode != "apply":
        result = "planned"
    elif any(r.changed for r in records):
        result = "changed"
    else:
        result = "converged"
    state = done.state(ctx)
    lock, env, verify = done.lock, done.environment, done.verify
    ref = lock.locked if lock is not None else None
    fresh = lock is not None and lock.fresh
    sha = ref.sha256 if ref is not None else ""
    packages = state.packages if state is not None and fresh and state.lock_sha256 == sha else []
    checks = done.checks
    diagnosis = checks.diagnosis.as_json() if checks and checks.diagnosis else None
    return {
        "schema": SCHEMA,
        "tool": f"provision {__version__}",
        "mode": mode,
        "result": result,
        "exit_code": exit_code,
        "started_at": _iso(ctx.started),
        "finished_at": _iso(finished),
        "duration_s": round(finished - ctx.started, 3),
        "profile": {
            "name": p.name,
            "path": str(ctx.resolved.path),
            "content_hash": ctx.resolved.content_hash,
            "target": p.target.os.value,
            "manager": p.environment.manager.value,
            "python": p.environment.python,
            "framework": p.smoke_test.framework.value,
            "device": p.smoke_test.device.value,
        },
        "host": {
            "platform": ctx.platform,
            "system": host.system(),
            "release": host.release(),
            "machine": host.machine(),
            "node": host.node(),
        },
        "checks": diagnosis,
        "lock": {
            "path": str(ref.path) if ref is not None else None,
            "sha256": sha or None,
            "fresh": fresh,
        },
        "environment": {
            "name": ctx.env,
            "prefix": str(ctx.prefix),
            "action": env.action if env is not None and env.status == "change" else "none",
            "diff": diff_json(env.diff) if env is not None and env.diff is not None else None,
        },
        "packages": packages,
        "verify": (verify.result if verify is not None else None) or None,
        "steps": [
            {
                "name": r.name,
                "status": r.outcome.status,
                "changed": r.changed,
                "reason": r.outcome.reason,
                "duration_s": round(r.duration_s, 3),
            }
            for r in records
        ],
        "durations": {r.name: round(r.duration_s, 3) for r in records},
    }


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_report(report: dict[str, Any], env: str) -> Path:
    """Write the report under ``paths.reports_dir()`` and return its path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = reports_dir() / f"{env}-{stamp}.json"
    write_atomic(path, json.dumps(report, indent=2) + "\n")
    return path
