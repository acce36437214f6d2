"""Reports for the reader tests, built as the writers build them (schema 2 from the
typed model's JSON; schema 1 as provision 0.x wrote it).

The GPU names and speeds are stand-ins: no GPU runs here. The shapes follow the
smoke test's record (docs/smoke-test.md) and doctor's JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FINISHED = "2026-11-29T10:00:00Z"


def report_json(
    host: str,
    *,
    profile: str = "cuda-torch",
    env: str = "torch-cuda",
    hostname: str | None = None,
    result: str = "changed",
    exit_code: int = 0,
    failing_check: tuple[str, str, str] | None = None,
    smoke: dict[str, Any] | None = None,
    passed: bool = True,
    finished_at: str = FINISHED,
    mode: str = "apply",
) -> dict[str, Any]:
    """One apply report; ``failing_check`` is ``(id, summary, fix)`` of a not-ready host."""
    checks: list[dict[str, str]] = [
        {"id": "os.kind", "status": "pass", "summary": "Linux 6.1", "fix": ""}
    ]
    if failing_check is not None:
        cid, summary, fix = failing_check
        checks.append({"id": cid, "status": "fail", "summary": summary, "fix": fix})
        result, exit_code, passed = "not-ready", 1, False
    record = (
        smoke
        if smoke is not None
        else {
            "schema": "provision.smoke-result/1",
            "verdict": "pass",
            "reason": "trained on cuda:0",
            "device_used": "cuda:0",
            "device_name": "NVIDIA RTX A4000 (stand-in)",
            "accelerator_used": True,
            "steps_per_s": 812.44,
            "cpu_steps_per_s": 82.9,
            "speedup": 9.8,
            "diagnosis": [],
        }
    )
    steps = [
        {
            "name": "checks",
            "status": "fail" if failing_check else "ok",
            "changed": False,
            "reason": "host not ready" if failing_check else "the host is ready",
            "duration_s": 0.4,
        },
    ]
    verify = None
    if failing_check is None:
        steps.append(
            {
                "name": "verify",
                "status": "change" if passed else "fail",
                "changed": passed,
                "reason": "smoke test",
                "duration_s": 12.0,
            }
        )
        verify = {
            "kind": "smoke",
            "passed": passed,
            "summary": record.get("reason", ""),
            "lines": [],
            "result": record,
        }
    return {
        "schema": "provision-report/2",
        "schema_version": 2,
        "tool": "provision 0.1.0",
        "mode": mode,
        "result": result,
        "exit_code": exit_code,
        "started_at": "2026-11-29T09:59:00Z",
        "finished_at": finished_at,
        "duration_s": 60.0,
        "profile": {
            "name": profile,
            "path": f"{profile}.yaml",
            "content_hash": "x" * 64,
            "target": "linux",
            "manager": "conda",
            "python": "3.11",
            "framework": "pytorch",
            "device": "cuda",
        },
        "host": {
            "name": host,
            "hostname": hostname or host,
            "platform": "linux-64",
            "system": "Linux",
            "release": "6.1.0",
            "machine": "x86_64",
        },
        "checks": {"profile": profile, "ready": failing_check is None, "checks": checks},
        "lock": {"path": "/srv/lock.yml", "sha256": "a" * 64, "fresh": True},
        "environment": {
            "name": env,
            "prefix": f"/opt/envs/{env}",
            "action": "create",
            "diff": None,
        },
        "packages": [
            {
                "manager": "conda",
                "name": "python",
                "version": "3.11.9",
                "build": "h1",
                "url": "https://conda.anaconda.org/x.conda",
                "sha256": "b" * 64,
            }
        ],
        "verify": verify,
        "steps": steps,
        "durations": {s["name"]: s["duration_s"] for s in steps},
    }


def write(folder: Path, name: str, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def fleet(folder: Path) -> Path:
    """Three hosts of one profile, as a fleet run collects them: two verified (one a
    cloned image whose hostname is another's), one not ready on the driver check."""
    write(folder, "lab-01.json", report_json("lab-01", hostname="ubuntu-clone"))
    write(folder, "lab-02.json", report_json("lab-02", hostname="ubuntu-clone", result="converged"))
    write(
        folder,
        "lab-03.json",
        report_json(
            "lab-03",
            failing_check=(
                "nvidia.driver",
                "driver 470.82 is older than 525.60",
                "install the 535 driver: sudo apt install nvidia-driver-535",
            ),
        ),
    )
    return folder
