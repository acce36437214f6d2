"""One fleet host, converged from its bundle: what the exported playbook's Ansible
module (``roles/provision/library/provision.py``) does on each host, with the engine's
typed API rather than a command's printed output.

The module runs with the Python of the tool venv the bundle's ``bootstrap.sh
--tool-only`` installed, imports this, and hands back :meth:`HostResult.module_result`:
``changed`` (from provision's own result), ``diff`` (the package diff, for
``ansible-playbook --diff``), ``ansible_facts.provision_facts`` (the doctor's verdict),
the report, and ``failed`` with one line of cause and fix.

Modes: ``apply`` converges (apply ``--frozen`` on the bundle's lock); ``plan`` is what
check mode runs (``provision plan``: nothing changes, no report is written); ``check``
runs only the host checks; ``verify`` converges with every file hashed again and the
smoke test run again (``apply --force``). After a verified run from a new bundle, older
unpacked bundles and cache entries no environment uses are removed
(:mod:`provisioner.bundle.cleanup`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from provisioner.errors import ProvisionError

if TYPE_CHECKING:
    from provisioner.bundle.install import Prepared

Mode = Literal["apply", "plan", "check", "verify"]


@dataclass(frozen=True)
class HostRun:
    """The module's parameters, typed."""

    bundle: Path  # the unpacked bundle's top folder
    home: Path  # PROVISION_HOME on the host
    mode: Mode = "apply"
    verify: str = "smoke"
    force: bool = False
    skip_checks: bool = False
    host_name: str | None = None
    run_id: str = ""
    report: Path | None = None  # also write the report here (the playbook fetches it)
    environment: Mapping[str, str] = field(default_factory=dict)
    keep_bundles: int = 1  # previous bundles kept for a rollback


@dataclass(frozen=True)
class HostResult:
    changed: bool
    failed: bool
    msg: str
    report: dict[str, Any] | None
    facts: dict[str, Any]
    before: str = ""  # installed packages the run changes or removes, one a line
    after: str = ""  # what the lock puts there instead
    freed: tuple[str, ...] = ()  # what the clean-up removed

    def module_result(self, *, diff: bool) -> dict[str, Any]:
        """What the Ansible module returns (``exit_json`` / ``fail_json`` keywords)."""
        out: dict[str, Any] = {
            "changed": self.changed,
            "msg": self.msg,
            "report": self.report,
            "ansible_facts": {"provision_facts": self.facts},
        }
        if self.report is not None:
            out["result"] = self.report.get("result")
        if self.freed:
            out["removed"] = list(self.freed)
        if diff and (self.before or self.after):
            out["diff"] = {
                "before_header": "installed",
                "after_header": "locked",
                "before": self.before,
                "after": self.after,
            }
        return out


def facts(report: Mapping[str, Any] | None, checks: Mapping[str, Any] | None) -> dict[str, Any]:
    """``provision_facts``: the doctor's verdict on this host and what the run found."""
    checks = checks or {}
    items = checks.get("checks") or []
    failing = [c for c in items if isinstance(c, dict) and c.get("status") in ("fail", "unknown")]
    out: dict[str, Any] = {
        "ready": checks.get("ready"),
        "failing": [{k: c.get(k, "") for k in ("id", "status", "summary", "fix")} for c in failing],
        "checks": {c.get("id"): c.get("status") for c in items if isinstance(c, dict)},
    }
    if report is not None:
        verify = report.get("verify") or {}
        environment = report.get("environment") or {}
        out.update(
            result=report.get("result"),
            verified=bool(verify.get("passed")) and report.get("exit_code") == 0,
            environment=environment.get("name"),
            prefix=environment.get("prefix"),
            run_id=report.get("run_id") or "",
            bundle_id=report.get("bundle_id") or "",
            lock_sha256=(report.get("lock") or {}).get("sha256"),
        )
    return out


def package_diff(diff: Mapping[str, Any] | None) -> tuple[str, str]:
    """The report's ``environment.diff`` as two package lists for ``--diff``."""
    if not diff:
        return "", ""
    before: list[str] = []
    after: list[str] = list(diff.get("add") or [])
    for item in diff.get("change") or []:
        if isinstance(item, dict):
            before.append(str(item.get("from")))
            after.append(str(item.get("to")))
    before += [str(r) for r in diff.get("remove") or []]
    return "".join(f"{x}\n" for x in sorted(before)), "".join(f"{x}\n" for x in sorted(after))


def _failure_text(report: Mapping[str, Any], error: ProvisionError | None) -> str:
    """One line: why this host is not verified, with the fixes it has."""
    if error is not None:
        return " ".join(error.lines())
    checks = report.get("checks") or {}
    failing = [
        c
        for c in checks.get("checks") or []
        if isinstance(c, dict) and c.get("status") in ("fail", "unknown")
    ]
    if report.get("result") == "not-ready" and failing:
        parts = [
            f"{c.get('id')}: {c.get('summary')}" + (f" (fix: {c['fix']})" if c.get("fix") else "")
            for c in failing
            if c.get("status") == "fail" or not any(x.get("status") == "fail" for x in failing)
        ]
        return "host not ready: " + "; ".join(parts)
    verify = report.get("verify") or {}
    if verify and not verify.get("passed"):
        return f"not verified: {verify.get('summary') or 'the smoke test failed'}"
    failed = [s for s in report.get("steps") or [] if s.get("status") == "fail"]
    if failed:
        return f"{failed[0].get('name')}: {failed[0].get('reason')}"
    return f"{report.get('result')} (exit {report.get('exit_code')})"


def run_on_host(run: HostRun) -> HostResult:
    """Prepare the bundle's profile and lock, then check, plan or converge this host."""
    from provisioner.bundle.install import prepare

    # The module's process is this run's alone: the home and the variables the play
    # gives (caches, PYENV_ROOT, ...) are its environment, as for bootstrap.sh.
    os.environ.update(run.environment)
    os.environ["PROVISION_HOME"] = str(run.home)
    try:
        prepared = prepare(run.bundle, None)
        if run.mode == "check":
            return _check(prepared)
        return _converge(prepared, run)
    except ProvisionError as e:
        return HostResult(False, True, " ".join(e.lines()), None, {"ready": None})


def _check(prepared: Prepared) -> HostResult:
    from provisioner.checks.doctor import diagnose
    from provisioner.profile import load_profile

    diagnosis = diagnose(load_profile(prepared.profile))
    checks = diagnosis.as_json()
    found = facts(None, checks)
    if diagnosis.ready:
        return HostResult(False, False, "the host is ready", None, found)
    failing = "; ".join(
        f"{v.id}: {v.summary}" + (f" (fix: {v.fix})" if v.fix else "") for v in diagnosis.blocking
    )
    return HostResult(False, True, f"host not ready: {failing}", None, found)


def _converge(prepared: Prepared, run: HostRun) -> HostResult:
    from provisioner.bundle.install import converge_bundle

    change = run.mode != "plan"
    result = converge_bundle(
        prepared,
        verify=run.verify,
        skip_checks=run.skip_checks,
        host_name=run.host_name,
        run_id=run.run_id or None,
        dry_run=not change,
        force=run.force or run.mode == "verify",
    )
    report = result.report.as_json()
    if change and run.report is not None:
        from provisioner.atomic import write_atomic

        write_atomic(run.report, json.dumps(report, indent=2) + "\n")
    env_diff = (report.get("environment") or {}).get("diff")
    before, after = package_diff(env_diff)
    found = facts(report, report.get("checks"))
    if change:
        changed = report.get("result") == "changed"
    else:  # check mode: what apply would change
        changed = any(s.get("status") == "change" for s in report.get("steps") or [])
    failed = result.exit_code != 0
    msg = _failure_text(report, result.error) if failed else _summary(report, change)
    freed: tuple[str, ...] = ()
    if change and not failed and found.get("verified"):
        from provisioner.bundle.cleanup import clean_after_switch

        freed = clean_after_switch(run.home, run.bundle, keep=run.keep_bundles)
    return HostResult(changed, failed, msg, report, found, before, after, freed)


def _summary(report: Mapping[str, Any], change: bool) -> str:
    steps = report.get("steps") or []
    doing = [f"{s.get('name')}: {s.get('reason')}" for s in steps if s.get("status") == "change"]
    if not change:
        return "; ".join(doing) or "nothing to change"
    return f"{report.get('result')}" + (f": {'; '.join(doing)}" if doing else "")
