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
from typing import Any

from provisioner.apply.progress import Progress
from provisioner.apply.run import Options, Outcome, Run, StepRecord
from provisioner.apply.steps import STEPS, Step
from provisioner.errors import ExternalFailure, ProvisionError
from provisioner.profile import ResolvedProfile


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


def disk_full(e: OSError) -> ProvisionError | OSError:
    """ENOSPC as one clear error; any other OSError is returned as is (a bug to report)."""
    if e.errno != errno.ENOSPC:
        return e
    where = f" writing {e.filename}" if e.filename else ""
    return ExternalFailure(
        f"the disk is full{where}",
        hint="free space on the disk that holds PROVISION_HOME and the package caches, "
        "then apply again (it resumes)",
    )


@dataclass(frozen=True)
class Converged:
    """The result of a plan/apply: the exit code, the report, where it was written."""

    exit_code: int
    report: dict[str, Any]
    report_path: Path | None


def converge(resolved: ResolvedProfile, options: Options, *, change: bool) -> Converged:
    """Plan (``change=False``) or apply a profile; apply holds the environment's lock,
    records state through the steps, and writes the report.

    A :class:`ProvisionError` from a step is recorded as that step's failure in the
    report, then raised again for the CLI to print.
    """
    from provisioner.apply.guard import exclusive
    from provisioner.apply.progress import want_quiet
    from provisioner.apply.report import build_report, write_report
    from provisioner.apply.state import state_dir

    options = replace(options, quiet=want_quiet(options.quiet))
    run = Run(resolved, options)
    progress = Progress(quiet=options.quiet)
    mode = "apply" if change else ("dry-run" if options.dry_run else "plan")
    error: ProvisionError | None = None
    guard: AbstractContextManager[None] = (
        exclusive(state_dir() / f"{run.env}.lock", run.env) if change else nullcontext()
    )
    with guard:
        try:
            try:
                ok = execute(run, change=change, progress=progress)
            except OSError as e:
                mapped = disk_full(e)
                if mapped is e:
                    raise
                raise mapped from e
        except ProvisionError as e:
            ok, error = False, e
            done = {r.name for r in run.records}
            failed = next(s.name for s in STEPS if s.name not in done)
            run.records.append(StepRecord(failed, Outcome("fail", e.lines()[0]), False, 0.0))
        code = int(error.exit_code) if error is not None else (0 if ok else 1)
        report = build_report(run, mode=mode, exit_code=code)
        path = write_report(report, run.env) if change else None
    if error is not None:
        raise error
    return Converged(code, report, path)
