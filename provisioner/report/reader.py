"""Read many reports (files or folders) into one row per host: what ``provision report``
shows as a table, JSON, JUnit or HTML. Schema and rules: docs/report.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provisioner.inputs import REPORT, read_bounded
from provisioner.inputs import Unreadable as Unreadable_
from provisioner.report.model import InvalidReport, Report, parse_report

MAX_BYTES = REPORT.cap  # a report is a few KB; a bigger file is not one
# A real report holds ~64 JSON values (objects, arrays, strings) per KB.
MAX_VALUES = 600_000


@dataclass(frozen=True)
class Unreadable:
    """A path that gave no report: printed as ``PATH: cause (fix: ...)``."""

    path: Path
    cause: str
    fix: str = (
        "pass the JSON reports that provision apply, verify or a bootstrap script wrote, "
        "or folders of them"
    )

    def line(self) -> str:
        return f"{self.path}: {self.cause} (fix: {self.fix})"


@dataclass(frozen=True)
class Loaded:
    path: Path
    report: Report


def _files(path: Path) -> tuple[list[Path], Unreadable | None]:
    if path.is_dir():
        try:
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix == ".json" and not p.name.startswith(".") and p.is_file()
            )
        except OSError as e:
            return [], Unreadable(path, f"cannot list the folder: {e.strerror or e}")
        if not found:
            return [], Unreadable(path, "no report files (*.json) in this folder")
        return found, None
    if not path.exists():
        return [], Unreadable(
            path,
            "no such file or folder",
            "check the path: apply and verify write reports to $PROVISION_HOME/reports, "
            "a bootstrap script to its --report file",
        )
    return [path], None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: Any) -> Any:
    """``value`` with each lone surrogate (a ``\\ud800`` JSON escape no UTF-8 output can
    carry; pairs are already one character) replaced by U+FFFD, keys included."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def load(path: Path) -> Loaded | Unreadable:
    """One report file, validated; any problem is a one-line cause, never an exception.

    Read through the one bounded reader (a regular file of at most
    :data:`MAX_BYTES`), and refused before parsing when it holds more JSON values than
    any report (:data:`MAX_VALUES`): memory stays a small multiple of the file's size
    whatever it holds (a file of ``{}`` took 50 times its size)."""
    try:
        raw = read_bounded(path, REPORT)
    except Unreadable_ as e:
        return Unreadable(path, f"{e.reason}: not a report")
    values = raw.count(b"{") + raw.count(b"[") + raw.count(b'"') // 2
    if values > MAX_VALUES:
        return Unreadable(path, f"more than {MAX_VALUES} JSON values: not a report")
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        data = _without_surrogates(json.loads(text))
    except json.JSONDecodeError as e:
        return Unreadable(path, f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})")
    except RecursionError:
        return Unreadable(path, "not valid JSON: nested too deeply")
    except ValueError as e:  # an integer of more digits than Python converts
        return Unreadable(path, f"not valid JSON: {str(e).split(';')[0]}")
    try:
        return Loaded(path, parse_report(data))
    except InvalidReport as e:
        return Unreadable(path, f"not a valid report: {e}")
    except RecursionError:
        return Unreadable(path, "not a valid report: nested too deeply")


def read_reports(paths: Sequence[Path]) -> tuple[list[Loaded], list[Unreadable]]:
    """Every report under ``paths`` (a folder: its ``*.json``, one level) and the paths
    that gave none."""
    loaded: list[Loaded] = []
    bad: list[Unreadable] = []
    for path in paths:
        files, problem = _files(path)
        if problem is not None:
            bad.append(problem)
        for f in files:
            got = load(f)
            (loaded if isinstance(got, Loaded) else bad).append(got)  # type: ignore[arg-type]
    return loaded, bad


@dataclass(frozen=True)
class HostRow:
    """One host's latest report for one profile, as the table shows it."""

    profile: str
    host: str
    hostname: str
    environment: str
    ready: bool | None
    result: str
    mode: str
    verified: bool
    device: str | None
    gpu: str | None
    steps_per_s: float | None
    speedup: float | None
    problem: str | None
    fix: str | None
    details: tuple[str, ...]
    finished_at: datetime | None
    path: Path
    tool: str
    run_id: str = ""
    bundle_id: str = ""
    lock_id: str = ""  # the lockfile's sha256, first 12 hex digits
    repairs: tuple[str, ...] = ()  # "repaired 1 file of torch (torch/x.py missing)"
    stale: bool = False  # not from the newest fleet run of its profile

    def age_s(self, now: datetime) -> float | None:
        if self.finished_at is None:
            return None
        return max(0.0, (now - self.finished_at).total_seconds())

    def as_json(self, now: datetime) -> dict[str, Any]:
        age = self.age_s(now)
        return {
            "profile": self.profile,
            "host": self.host,
            "hostname": self.hostname,
            "environment": self.environment,
            "ready": self.ready,
            "result": self.result,
            "mode": self.mode,
            "verified": self.verified,
            "device": self.device,
            "gpu": self.gpu,
            "steps_per_s": self.steps_per_s,
            "speedup": self.speedup,
            "problem": self.problem,
            "fix": self.fix,
            "details": list(self.details),
            "finished_at": self.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            if self.finished_at
            else None,
            "age_s": round(age) if age is not None else None,
            "path": str(self.path),
            "tool": self.tool,
            "run_id": self.run_id or None,
            "stale": self.stale,
            "bundle_id": self.bundle_id or None,
            "lock_id": self.lock_id or None,
            "repairs": list(self.repairs),
        }


def _when(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def problem_of(report: Report) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Why the host is not verified: the first failing check (and its fix), else the
    smoke test's diagnosis, else its reason, else the failed step; with every line
    worth showing under it."""
    details: list[str] = []
    checks = report.checks
    failing = [c for c in checks.checks if c.status == "fail"] if checks else []
    if checks is not None and not checks.ready and not failing:
        failing = [c for c in checks.checks if c.status == "unknown"]
    details += [
        f"check {c.id}: {c.status}: {c.summary}" + (f" (fix: {c.fix})" if c.fix else "")
        for c in failing
    ]
    verify = report.verify
    record = verify.result if verify is not None else None
    findings = [f for f in record.diagnosis if f.severity == "fail"] if record else []
    if verify is not None and not verify.passed:
        details.append(f"verify ({verify.kind}): {verify.summary}")
        details += [f"  {line.strip()}" for line in verify.lines[1:]]
    failed_steps = [s for s in report.steps if s.status == "fail"]
    # A step that failed with the failing checks (or the verification) says the same
    # again: it is shown once.
    said = {c.id for c in failing}
    details += [
        f"step {s.name}: {s.reason}"
        for s in failed_steps
        if not (s.name == "checks" and failing)
        and not (s.name == "verify" and verify is not None and not verify.passed)
        and not any(f"{cid}:" in s.reason for cid in said)
    ]
    if report.previous is not None:
        details.append(_previous_text(report))
    if report.verified:
        return None, None, tuple(details)
    if report.result == "unreachable" or report.cause:
        fix = report.fix or None
        return report.cause or report.result, fix, tuple(details)
    if failing:
        c = failing[0]
        return f"{c.id}: {c.summary}", c.fix or None, _without(details, 0)
    if findings:
        f = findings[0]
        return f"{f.id}: {f.meaning}", f.fix or None, tuple(details)
    if verify is not None and not verify.passed:
        reason = record.reason if record is not None and record.reason else verify.summary
        if reason == verify.summary:  # the first detail says just that
            return reason or "verification failed", None, _without(details, len(said))
        return reason or "verification failed", None, tuple(details)
    if failed_steps:
        first = f"{failed_steps[0].name}: {failed_steps[0].reason}"
        return first, None, tuple(d for d in details if d != f"step {first}")
    if report.mode in ("plan", "dry-run"):
        return f"only a {report.mode}: nothing was applied or verified", None, tuple(details)
    return (
        f"{report.result} (exit {report.exit_code}) without a passed verification",
        None,
        (tuple(details)),
    )


def _without(details: list[str], index: int) -> tuple[str, ...]:
    """``details`` less the line at ``index`` (the one the problem already says)."""
    return tuple(d for i, d in enumerate(details) if i != index)


def _previous_text(report: Report) -> str:
    last = report.previous
    assert last is not None
    if not last.result:
        return "no earlier report of this host"
    state = "verified" if last.verified else "not verified"
    when = f" at {last.finished_at}" if last.finished_at else ""
    return f"last report: {last.result} ({state}){when}"


def gpu_of(report: Report) -> str | None:
    """What the GPU column shows: the accelerator the smoke test used, ``no GPU`` when
    it ran on the CPU (the smoke test names the CPU's architecture there), ``None``
    when nothing ran."""
    record = report.verify.result if report.verify is not None else None
    if record is None:
        return None
    if not record.accelerator_used or (record.device_used or "").startswith("cpu"):
        return "no GPU"
    return record.device_name


def host_row(loaded: Loaded) -> HostRow:
    r = loaded.report
    record = r.verify.result if r.verify is not None else None
    problem, fix, details = problem_of(r)
    return HostRow(
        profile=r.profile.name,
        host=r.host.name,
        hostname=r.host.hostname,
        environment=r.environment.name,
        ready=r.checks.ready if r.checks is not None else None,
        result=r.result,
        mode=r.mode,
        verified=r.verified,
        device=record.device_used if record else None,
        gpu=gpu_of(r),
        steps_per_s=record.steps_per_s if record else None,
        speedup=record.speedup if record else None,
        problem=problem,
        fix=fix,
        details=details,
        finished_at=_when(r.finished_at),
        path=loaded.path,
        tool=r.tool,
        run_id=r.run_id,
        bundle_id=r.bundle_id,
        lock_id=(r.lock.sha256 or "")[:12] if r.lock is not None else "",
        repairs=tuple(f"repaired {x.text()}" for x in r.environment.repair),
    )


def latest_rows(loaded: Iterable[Loaded]) -> dict[str, list[HostRow]]:
    """One row per (host, environment): the report that finished last; grouped by
    profile name (sorted), rows sorted by host name."""
    best: dict[tuple[str, str], HostRow] = {}
    for item in loaded:
        row = host_row(item)
        key = (row.host, row.environment)
        old = best.get(key)
        stamp = row.finished_at or datetime.min.replace(tzinfo=timezone.utc)
        if old is None or stamp >= (old.finished_at or stamp):
            best[key] = row
    groups: dict[str, list[HostRow]] = {}
    for row in sorted(best.values(), key=lambda r: (r.profile, r.host, r.environment)):
        groups.setdefault(row.profile, []).append(row)
    return {name: mark_stale(rows) for name, rows in groups.items()}


def newest_run(rows: Iterable[HostRow]) -> HostRow | None:
    """The row of the fleet run that finished last (``None``: no row has a run id)."""
    runs = [r for r in rows if r.run_id]
    if not runs:
        return None
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    return max(runs, key=lambda r: (r.finished_at or oldest, r.run_id))


def mark_stale(rows: list[HostRow]) -> list[HostRow]:
    """Rows of hosts without a report from the newest fleet run of their profile are
    stale: never verified, their problem says which run they missed and what they
    last reported."""
    newest = newest_run(rows)
    if newest is None:
        return rows
    out = []
    for row in rows:
        if row.run_id == newest.run_id:
            out.append(row)
            continue
        state = "verified" if row.verified else "not verified"
        when = row.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ") if row.finished_at else "?"
        problem = f"stale: no report from the newest run {newest.run_id}"
        detail = f"last report: {row.result} ({state}) at {when}" + (
            f", run {row.run_id}" if row.run_id else ", outside a fleet run"
        )
        fix = "run the playbook for this host again (is it in the inventory and reachable?)"
        out.append(
            replace(
                row,
                stale=True,
                verified=False,
                problem=problem,
                fix=fix,
                details=(detail, *row.details),
            )
        )
    return out
