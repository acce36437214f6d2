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
from typing import TYPE_CHECKING, Any

from provisioner.apply.progress import Progress, want_quiet
from provisioner.apply.repair import keep_ledger, start_drift_scan
from provisioner.apply.run import Context, Findings, Options, Outcome, StepRecord
from provisioner.apply.steps import STEPS, Step
from provisioner.errors import ExternalFailure, ProvisionError
from provisioner.paths import data_home, state_dir
from provisioner.profile import ResolvedProfile
from provisioner.report.model import Report
from provisioner.state import write_state

if TYPE_CHECKING:
    from provisioner.apply.drift import Scan


def execute(
    ctx: Context, *, change: bool, progress: Progress, steps: Sequence[Step[Any]] = STEPS
) -> Findings:
    """Check every step in order; with ``change`` act on ``change`` findings.

    Each check sees the findings of the steps before it (after their change, if any).
    A step that fails, or raises a :class:`ProvisionError` (or an OSError, as
    :func:`os_failure`), ends the run: it is recorded as that step's failure, the error
    is kept in ``Findings.error``, and the remaining steps are not run. Anything else
    raised is a bug and propagates.
    """
    done = Findings()
    for step in steps:
        start = time.monotonic()
        progress.start(step.name)
        try:
            found = step.check(ctx, done)
            outcome: Outcome = found
            changed = False
            if found.status == "change" and change:
                progress.changing(step.name, found.reason)
                outcome = step.change(ctx, done, found)
                changed = outcome.status != "fail"
        except ProvisionError as e:
            return _raised(done, step.name, e, start)
        except OSError as e:
            error = os_failure(e)
            error.__cause__ = e
            return _raised(done, step.name, error, start)
        record = StepRecord(step.name, outcome, changed, time.monotonic() - start)
        done = done.plus(record)
        progress.done(record, planned=not change)
        if outcome.status == "fail":
            break
    return done


def _raised(done: Findings, name: str, error: ProvisionError, start: float) -> Findings:
    """The findings with step ``name`` recorded as failed by ``error`` (the CLI prints
    the error itself, after the report)."""
    failed = StepRecord(name, Outcome("fail", error.lines()[0]), False, time.monotonic() - start)
    return Findings((*done.records, failed), error)


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


def keep_validation_key(ctx: Context, done: Findings) -> None:
    """After an apply that ends verified with a fresh lock: the profile's validation key
    in the state, when it is not the one there already (provision upgraded, new
    compatibility data, a state a bootstrap script wrote), so that the next apply knows
    the compatibility rules' verdict and the lock's freshness without computing them
    (:mod:`provisioner.profile.validation_key`)."""
    state = done.state(ctx)
    lock = done.lock
    key = ctx.resolved.validation_key
    if (
        key
        and done.ok
        and state is not None
        and state.phase == "verified"
        and state.validation_key != key
        and lock is not None
        and lock.fresh
        and lock.locked is not None
        and lock.locked.sha256 == state.lock_sha256
    ):
        write_state(state.but(validation_key=key))


def converge(
    resolved: ResolvedProfile,
    options: Options,
    *,
    change: bool,
    host_name: str | None = None,
    run_id: str | None = None,
    bundle_id: str | None = None,
    scan: Scan | None = None,
) -> Converged:
    """Plan (``change=False``) or apply a profile; apply holds the environment's lock,
    reads the state under it, records state through the steps, and writes the report.

    A :class:`ProvisionError` (or an OSError, as :func:`os_failure`) from a step is
    recorded as that step's failure in the report and returned in ``error``, so
    ``--json`` and ``--junit`` still show the run; an OSError before the run starts
    (the lock, the state) or while writing the report is raised as :func:`os_failure`.
    ``host_name`` names this host in the report (else ``$PROVISION_HOST_NAME``, else the
    hostname); ``run_id`` the fleet run (else ``$PROVISION_RUN_ID``); ``bundle_id`` the
    bundle the environment comes from; ``scan`` a drift scan started before the profile
    was read (:func:`provisioner.apply.drift.start_early_scan`), used or stopped here.
    """
    from provisioner.apply.guard import exclusive
    from provisioner.apply.ownership import check_owner, claim
    from provisioner.apply.report import build_report, write_report

    options = replace(options, quiet=want_quiet(options.quiet))
    progress = Progress(quiet=options.quiet)
    mode = "apply" if change else ("dry-run" if options.dry_run else "plan")
    env = resolved.profile.environment.name
    ctx: Context | None = None
    try:
        guard: AbstractContextManager[None] = (
            exclusive(state_dir() / f"{env}.lock", env) if change else nullcontext()
        )
        with guard:
            ctx = Context.of(resolved, options)  # reads the state: only once the lock is held
            check_owner(resolved, ctx.state)  # before the lock step writes locks/<env>
            if change:
                ctx = replace(ctx, state=claim(resolved, ctx.state))
            ctx = start_drift_scan(ctx, scan)
            scan = None  # ctx.scan now, or stopped
            done = execute(ctx, change=change, progress=progress)
            if change:
                keep_ledger(ctx, done)
                keep_validation_key(ctx, done)
            error = done.error
            code = int(error.exit_code) if error is not None else (0 if done.ok else 1)
            report = build_report(
                ctx,
                done,
                mode=mode,
                exit_code=code,
                host_name=host_name,
                run_id=run_id,
                bundle_id=bundle_id,
            )
            path = write_report(report) if change else None
    except OSError as e:
        raise os_failure(e) from e
    finally:
        if scan is not None:  # the run stopped before it reached the drift check
            scan.close()
        if ctx is not None and ctx.scan is not None:
            ctx.scan.close()
    return Converged(code, report, path, error)
