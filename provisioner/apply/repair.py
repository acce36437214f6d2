"""The environment step's side of drift (:mod:`provisioner.apply.drift`): check a
verified environment's files against the ledger recorded when it was verified, turn
what drifted into a repair (an update diff that reinstalls those packages past any
cache entry), and record the ledger after an apply that ends verified."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from provisioner.apply.run import Context, DriftCheck, EnvFinding, Findings, LockRef
from provisioner.env import EnvDiff
from provisioner.lock import Lock, LockedPackage

if TYPE_CHECKING:
    from provisioner.apply.drift import Drift, Scan


def check_drift(ctx: Context, ref: LockRef) -> DriftCheck:
    """The files of a verified environment against the ledger recorded when it was
    verified (a stat each, a hash where the stat changed); with no ledger for this
    prefix and lock, every file is hashed against its package's record once."""
    from provisioner.apply import drift

    ledger = drift.read_ledger(ctx.env, ctx.scan)
    state = ctx.state
    if (
        ledger is not None
        and ledger.prefix == str(ctx.prefix)
        and state is not None
        and ledger.lock_sha256 == state.lock_sha256  # recorded for this very environment
    ):
        found = drift.check(ledger, ctx.prefix, ctx.scan)
        if not found.altered:
            return DriftCheck(ledger, found)
        return DriftCheck(ledger, found, repair=_drift_diff(ref.lock, ctx.platform, found))
    diff = ctx.backend().diff(ctx.prefix, ref.lock, ctx.platform, files=True)
    return DriftCheck(None, None, repair=None if diff.matches else diff)


def start_drift_scan(ctx: Context, early: Scan | None = None) -> Context:
    """``ctx`` with the drift check's stat scan (:func:`drift.start_scan`) when the
    environment step will check drift: a verified environment at this prefix, no
    ``--force``, a core to spare. ``early`` is a scan started before the profile was
    read (:func:`drift.start_early_scan`): taken when it scans this environment, else
    stopped. The scan runs beside the host checks; :func:`check_drift` takes its answer."""
    from provisioner.apply import drift

    state = ctx.state
    if (
        ctx.options.force
        or state is None
        or state.phase != "verified"
        or state.prefix != str(ctx.prefix)
    ):
        if early is not None:
            early.close()
        return ctx
    if early is not None:
        if early.env == ctx.env:
            return replace(ctx, scan=early)
        early.close()
    if not drift.idle_core():
        return ctx
    return replace(ctx, scan=drift.start_scan(ctx.env))


def _drift_diff(lock: Lock, platform: str, found: Drift) -> EnvDiff:
    """The packages with drifted files as an update diff that reinstalls them past any
    cache entry (``altered``)."""
    from packaging.utils import canonicalize_name

    locked: dict[tuple[str, str], LockedPackage] = {
        (p.manager, canonicalize_name(p.name) if p.manager == "pip" else p.name): p
        for p in lock.for_platform(platform)
    }
    change: list[tuple[str, LockedPackage]] = []
    for key, items in found.packages.items():
        manager, name = key.split(":", 1)
        pkg = locked.get((manager, canonicalize_name(name) if manager == "pip" else name))
        if pkg is None:  # a record of something the lock lacks: the full diff removes it
            continue
        files = ", ".join(f"{a.path} {a.problem}" for a in items[:3])
        more = " ..." if len(items) > 3 else ""
        change.append((f"{pkg.spec()} (drift: {files}{more})", pkg))
    altered = tuple(f"{p.manager}:{p.name}" for _, p in change)
    return EnvDiff(change=tuple(change), altered=altered)


def repair_finding(ctx: Context, checked: DriftCheck, fingerprint: str) -> EnvFinding:
    """A verified environment whose files drifted: reinstall the packages they belong
    to, then verify again."""
    from provisioner.apply.envdiff import diff_json, diff_summary

    diff = checked.repair
    assert diff is not None
    details: dict[str, Any] = {"diff": diff_json(diff)}
    if checked.drift is not None and checked.drift.altered:
        details["repair"] = checked.drift.repairs()
        what = checked.drift.summary()
    else:
        what = diff_summary(diff)
    reason = f"repair {ctx.prefix}: {what}"
    return EnvFinding("change", reason, details, "repair", diff, fingerprint, drift=checked)


def keep_ledger(ctx: Context, done: Findings) -> None:
    """After an apply that ends verified: record which environment the profile
    converged (:func:`drift.keep_hint`) and the environment's files (the drift
    ledger, :mod:`provisioner.apply.drift`) unless the drift check just used a ledger
    for this very lock and prefix, whose re-stat'ed intact files are then updated.
    Best effort: an unwritable ledger means a full hash on the next apply."""
    from provisioner.apply import drift

    state = done.state(ctx)
    if state is None or state.phase != "verified" or state.prefix != str(ctx.prefix):
        return
    drift.keep_hint(ctx.resolved.path, ctx.env)  # the next apply's scan starts early
    found = done.environment
    checked = found.drift if found is not None else None
    if (
        found is not None
        and found.action in ("none", "activation")
        and checked is not None
        and checked.ledger is not None
        and checked.drift is not None
        and checked.ledger.lock_sha256 == state.lock_sha256
    ):
        drift.refresh(checked.ledger, checked.drift)
        return
    from provisioner.env.pip_part import site_packages

    old = checked.ledger if checked is not None else drift.read_ledger(ctx.env)
    pip_names = [p.name for p in state.packages if p.manager == "pip"]
    items = drift.expectations(ctx.prefix, site_packages(ctx.python()), pip_names)
    with contextlib.suppress(OSError):
        drift.record(ctx.env, ctx.prefix, state.lock_sha256, items, old)
