"""Run the steps: check each one, and (apply only) change what the check says needs
changing. Plan and ``apply --dry-run`` are the same loop with changes turned off.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from provisioner.apply.progress import Progress
from provisioner.apply.run import Options, Outcome, Run, StepRecord
from provisioner.apply.steps import STEPS, Step
from provisioner.errors import ExternalFailure, ProvisionError
from provisioner.profile import ResolvedProfile
from provisioner.report.model import Report


def execute(run: Run, *, change: bool, progress: Progress, steps: Sequence[Step] = STEPS) -> bool:
    """Check every step in order; with ``change`` act on ``change`` outcomes.

    Returns False when a step failed (the remaining steps are not run). A planned
    change that a later check depends on (a new lock, a rebuilt environment) is shown
    as a change of that later step too.
    """
    for step in steps:
        start = time.monotonic()
        progress.start(step.name)
        found = step.check(run)
        changed = False
        outcome: Outcome = found
        if found.status == "change" and change:
            progress.changing(step.name, found.reason)
            outcome = step.change(run, found)
            changed = outcome.status != "fail"
        record = StepRecord(step.name, outcome, changed, time.monotonic() - start)
        run.records.append(record)
        progress.done(record, planned=not change)
        if outcome.status == "fail":
            return False
    return True


def os_failure(e: OSError) -> ExternalFailure:
    """An OSError from our own reads and writes (state, reports, the prefix) as one line
    naming the path, with a fix; ENOSPC and EDQUOT say the disk is full."""
    path = e.filename2 if e.filename2 is not None and e.errno == errno.EXDEV else e.filename
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {path}" if path is not None else ""
        return ExternalFailure(
            f"the disk is full{where}",
            hint="free space on the disk that holds PROVISION_HOME and the package caches, "
            "then apply again (it resumes)",
        )
    from provisioner.paths import data_home

    reason = e.strerror or type(e).__name__
    what = (
        f"cannot access {path}: {reason}"
        if path is not None
        else f"a file operation failed: {reason}"
    )
    return ExternalFailure(
        what,
        hint=f"make sure PROVISION_HOME ({data_home()}) and the folders under it are "
        "folders you can write to, then apply again",
    )


@dataclass(frozen=True)
class Converged:
    """The result of a plan/apply: the exit code, the report, where it was written, and
    the error that stopped a step (printed by the CLI after the report)."""

    exit_code: int
    report: Report
    report_path: Path | None
    error: ProvisionError | None = None


def converge(
    resolved: ResolvedProfile, options: Options, *, change: bool, host_name: str | None = None
) -> Converged:
    """Plan (``change=False``) or apply a profile; apply holds the environment's lock,
    reads the state under it, records state through the steps, and writes the report.

    A :class:`ProvisionError` (or an OSError, as :func:`os_failure`) from a step is
    recorded as that step's failure in the report and returned in ``error``, so
    ``--json`` and ``--junit`` still show the run; an OSError before the run starts
    (the lock, the state) or while writing the report is raised as :func:`os_failure`.
    ``host_name`` names this host in the report (else ``$PROVISION_HOST_NAME``, else the
    hostname).
    """
    from provisioner.apply.guard import exclusive
    from provisioner.apply.progress import want_quiet
    from provisioner.apply.report import build_report, write_report
    from provisioner.paths import state_dir

    options = replace(options, quiet=want_quiet(options.quiet))
    progress = Progress(quiet=options.quiet)
    mode = "apply" if change else ("dry-run" if options.dry_run else "plan")
    env = resolved.profile.environment.name
    try:
        guard: AbstractContextManager[None] = (
            exclusive(state_dir() / f"{env}.lock", env) if change else nullcontext()
        )
        with guard:
            run = Run(resolved, options)  # reads the state: only once the lock is held
            error = _execute_recorded(run, change=change, progress=progress)
            code = int(error.exit_code) if error is not None else (0 if _ok(run) else 1)
            report = build_report(run, mode=mode, exit_code=code, host_name=host_name)
            path = write_report(report) if change else None
    except OSError as e:
        raise os_failure(e) from e
    return Converged(code, report, path, error)


def _execute_recorded(run: Run, *, change: bool, progress: Progress) -> ProvisionError | None:
    """Run the steps; a step that raised is recorded as that step's failure."""
    try:
        execute(run, change=change, progress=progress)
        return None
    except ProvisionError as e:
        error = e
    except OSError as e:
        error = os_failure(e)
        error.__cause__ = e
    done = {r.name for r in run.records}
    failed = next(s.name for s in STEPS if s.name not in done)
    run.records.append(StepRecord(failed, Outcome("fail", error.lines()[0]), False, 0.0))
    return error


def _ok(run: Run) -> bool:
    return all(r.outcome.status != "fail" for r in run.records)
