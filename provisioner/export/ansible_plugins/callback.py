"""Callback ``provision_fleet``: gives every run of this playbook a run id and makes
sure every host ends the run with a report of that run.

At the start it sets ``PROVISION_RUN_ID`` (kept when already set) in the controller's
environment, where the role reads it (``lookup('env', ...)``) and hands it to each
host's report. At the end, for each host that failed or was unreachable and has no
report of this run in ``reports/`` (it never got as far as provision), it writes one:
``unreachable`` or ``failed`` with the cause (the task and its message) and a fix, and
what the host's previous report said. Check mode (``--check``) writes nothing.
Standard library only: it runs in the controller's Ansible.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from ansible import context
from ansible.plugins.callback import CallbackBase

PROFILE = ""  # set by export
ENVIRONMENT = ""  # set by export
TOOL = ""  # set by export


def _now(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class CallbackModule(CallbackBase):  # type: ignore[misc]  # ansible-core ships no types
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "provision_fleet"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self) -> None:
        super().__init__()
        self.started = time.time()
        self.run_id = os.environ.get("PROVISION_RUN_ID") or (
            time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.started)) + "-" + secrets.token_hex(3)
        )
        os.environ["PROVISION_RUN_ID"] = self.run_id
        self.reports: Path | None = None
        self.problems: dict[str, tuple[str, str]] = {}  # host -> (kind, cause)

    def v2_playbook_on_start(self, playbook) -> None:  # type: ignore[no-untyped-def]
        self.reports = Path(playbook._basedir) / "reports"

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:  # type: ignore[no-untyped-def]
        if ignore_errors:
            return
        res = result._result
        msg = str(res.get("msg") or "").strip()
        stderr = str(res.get("stderr") or "").strip().splitlines()
        if stderr and stderr[-1] not in msg:
            msg = f"{msg}: {stderr[-1]}" if msg else stderr[-1]
        # The first failure is the cause (a rescue re-raises it under another name).
        cause = f"{result._task.name or result._task.action}: {msg}"
        self.problems.setdefault(result._host.get_name(), ("failed", cause))

    def v2_runner_on_unreachable(self, result) -> None:  # type: ignore[no-untyped-def]
        msg = str(result._result.get("msg") or "unreachable").strip()
        self.problems[result._host.get_name()] = ("unreachable", msg)

    def v2_playbook_on_stats(self, stats) -> None:  # type: ignore[no-untyped-def]
        if self.reports is None or context.CLIARGS.get("check"):
            return
        for host, (kind, cause) in sorted(self.problems.items()):
            path = self.reports / f"{host}.json"
            previous = self._read(path)
            if previous.get("run_id") == self.run_id:
                continue  # provision on the host wrote this run's report: it says why
            self._write(path, host, kind, cause, previous)

    @staticmethod
    def _read(path: Path) -> dict:  # type: ignore[type-arg]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, path: Path, host: str, kind: str, cause: str, previous: dict) -> None:  # type: ignore[type-arg]
        finished = time.time()
        raw = previous.get("verify")
        verify = raw if isinstance(raw, dict) else {}
        last = {
            "result": str(previous.get("result") or ""),
            "finished_at": str(previous.get("finished_at") or ""),
            "verified": bool(
                previous.get("exit_code") == 0
                and previous.get("result") in ("changed", "converged", "verified")
                and verify.get("passed")
            ),
            "run_id": str(previous.get("run_id") or ""),
        }
        if kind == "unreachable":
            fix = (
                f"check that {host} is up and answers SSH (ansible {host} -m ping), "
                "then run the playbook again"
            )
        else:
            fix = "fix what the task says on the host, then run the playbook again"
        doc = {
            "schema": "provision-report/2",
            "schema_version": 2,
            "tool": TOOL,
            "mode": "apply",
            "result": kind,
            "exit_code": 1,
            "started_at": _now(self.started),
            "finished_at": _now(finished),
            "duration_s": round(finished - self.started, 3),
            "run_id": self.run_id,
            "profile": {"name": PROFILE},
            "host": {"name": host, "hostname": ""},
            "environment": {"name": ENVIRONMENT},
            "cause": f"{kind}: {cause}" if not cause.startswith(kind) else cause,
            "fix": fix,
            "previous": last,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:
            self._display.warning(f"provision: cannot write {path}: {e}")
