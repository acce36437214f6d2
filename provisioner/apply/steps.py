"""The steps of plan and apply. Each step knows how to *check* (a frozen finding, no
changes) and how to *change* (consuming that finding); plan and ``apply --dry-run`` run
only the checks. A step reads the earlier steps' findings from :class:`Findings`.

Order: checks (doctor) -> lock -> environment -> verify. A step whose check says
``fail`` stops the run; ``change`` is acted on by apply; ``ok`` and ``skipped`` are
left alone. A verified environment's files are checked for drift by the
environment step (:mod:`provisioner.apply.repair`).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar

from provisioner.apply.envdiff import diff_json, diff_summary
from provisioner.apply.lockstep import LockStep
from provisioner.apply.run import (
    ChecksFinding,
    Context,
    EnvAction,
    EnvFinding,
    Findings,
    LockRef,
    Outcome,
    VerifyFinding,
)
from provisioner.env import EnvDiff
from provisioner.errors import ExternalFailure
from provisioner.lock import Lock
from provisioner.lock.inputs import inputs_hash
from provisioner.paths import artifact_store
from provisioner.state import PackageRecord, State, write_state
from provisioner.target.fingerprint import env_fingerprint

F = TypeVar("F", bound=Outcome)


class Step(Protocol[F]):
    """One step: ``check`` finds (changes nothing), ``change`` acts on what it found."""

    name: str

    def check(self, ctx: Context, done: Findings) -> F: ...

    def change(self, ctx: Context, done: Findings, found: F) -> F: ...


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ChecksStep:
    """The host checks from ``provision doctor``; a host that is not ready stops apply."""

    name = "checks"

    def check(self, ctx: Context, done: Findings) -> ChecksFinding:
        if ctx.options.skip_checks:
            return ChecksFinding("skipped", "--skip-checks given")
        from provisioner.checks.doctor import diagnose

        diagnosis = diagnose(ctx.resolved)
        if diagnosis.ready:
            return ChecksFinding("ok", "the host is ready", diagnosis=diagnosis)
        failing = [
            f"{v.id}: {v.summary} (fix: {v.fix})" if v.fix else f"{v.id}: {v.summary}"
            for v in diagnosis.blocking
        ]
        reason = "; ".join(failing) or "the host is not ready"
        return ChecksFinding(
            "fail", f"host not ready: {reason}", {"failing": failing}, diagnosis=diagnosis
        )

    def change(self, ctx: Context, done: Findings, found: ChecksFinding) -> ChecksFinding:
        return found  # checks never change anything


def _lock_of(done: Findings) -> LockRef | None:
    """The lock the environment is built from: the lock step's, once there is one."""
    found = done.lock
    return found.locked if found is not None else None


class EnvironmentStep:
    """Create the environment, update it with the package diff, or leave it alone."""

    name = "environment"

    def check(self, ctx: Context, done: Findings) -> EnvFinding:
        state = ctx.state
        fingerprint = env_fingerprint(ctx.prefix)
        python = ctx.python()
        ref = _lock_of(done)
        if ctx.prefix.exists() and not python.exists():  # missing, or a dangling symlink
            reason = f"rebuild {ctx.prefix}: its Python {python} is missing"
            return EnvFinding("change", reason, action="rebuild", fingerprint=fingerprint)
        if ref is None:  # plan before the first lock: nothing to diff against yet
            action: EnvAction = "update" if ctx.prefix.exists() else "create"
            reason = f"{action} {ctx.prefix} from the new lock"
            return EnvFinding("change", reason, action=action, fingerprint=fingerprint)
        if state is not None and state.prefix == str(ctx.prefix) and state.phase == "building":
            reason = f"rebuild {ctx.prefix}: a previous apply stopped while building it"
            return EnvFinding("change", reason, action="rebuild", fingerprint=fingerprint)
        if (
            state is not None
            and not ctx.options.force
            and state.phase == "verified"  # a failed verify resets it: diff and verify again
            and state.lock_sha256 == ref.sha256
            and state.fingerprint == fingerprint
        ):
            from provisioner.apply.repair import check_drift, repair_finding

            checked = check_drift(ctx, ref)
            if checked.repair is not None:
                return repair_finding(ctx, checked, fingerprint)
            reason = f"{ctx.prefix} matches the lock (recorded {state.updated_at})"
            found = EnvFinding("ok", reason, fingerprint=fingerprint, state=state, drift=checked)
            return activation_finding(ctx, found) or found
        # Where nothing verified is trusted (--force, no state, a failed verify), every
        # installed file is hashed too, and packages with altered files are relinked.
        deep = ctx.options.force or state is None or state.phase != "verified"
        diff = ctx.backend().diff(ctx.prefix, ref.lock, ctx.platform, files=deep)
        details = {"diff": diff_json(diff)}
        if diff.matches:
            built = built_state(ctx, done, fingerprint)  # in memory: verify writes it
            reason = f"{ctx.prefix} matches the lock"
            found = EnvFinding("ok", reason, details, "none", diff, fingerprint, built)
            return activation_finding(ctx, found) or found
        if not diff.exists:
            n = len(ref.lock.for_platform(ctx.platform))
            notes = f" ({'; '.join(diff.notes)})" if diff.notes else ""
            reason = f"create {ctx.prefix} with {n} packages{notes}"
            return EnvFinding("change", reason, details, "create", diff, fingerprint)
        reason = f"update {ctx.prefix}: {diff_summary(diff)}"
        return EnvFinding("change", reason, details, "update", diff, fingerprint)

    def change(self, ctx: Context, done: Findings, found: EnvFinding) -> EnvFinding:
        ref = _lock_of(done)
        if ref is None:
            raise AssertionError("the lock step makes a fresh lock before the environment step")
        if found.action == "activation":
            return activation_only(ctx, ref.lock, found)
        sources_here(ctx, ref.lock, found)  # before anything changes
        write_state(built_state(ctx, done, "").but(phase="building"))  # before the first change
        backend = ctx.backend()
        diff = found.diff
        if found.action == "rebuild":
            if ctx.prefix.exists():
                shutil.rmtree(ctx.prefix)
            diff = EnvDiff(add=ref.lock.for_platform(ctx.platform), exists=False)
        elif diff is None:
            diff = backend.diff(ctx.prefix, ref.lock, ctx.platform)
        backend.install(
            ctx.prefix,
            ref.lock,
            ctx.platform,
            diff=diff,
            quiet=ctx.options.quiet,
            offline=ctx.options.offline,
        )
        finish_prefix(ctx, ref.lock)
        # The result, not the plan: the installer must have made the prefix match (and
        # files it relinked because they were altered must now match their records).
        after = backend.diff(
            ctx.prefix, ref.lock, ctx.platform, files=bool(diff.altered or diff.strays)
        )
        if not after.matches:
            raise ExternalFailure(
                f"after installing, {ctx.prefix} still differs from the lock: "
                f"{diff_summary(after)}",
                hint="remove the environment folder and apply again",
            )
        fingerprint = env_fingerprint(ctx.prefix)
        state = built_state(ctx, done, fingerprint)
        write_state(state)
        return EnvFinding(
            "change", found.reason, found.details, found.action, diff, fingerprint, state
        )


def sources_here(ctx: Context, lock: Lock, found: EnvFinding) -> None:
    """Stop before the first change when a package to install names a local file this
    machine does not have (a lock made from another machine's folder: lock/travel.py)."""
    from provisioner.lock.travel import missing_here

    diff = found.diff
    if diff is None or found.action in ("create", "rebuild"):
        packages = lock.for_platform(ctx.platform)
    else:
        packages = (*diff.add, *(p for _, p in diff.change))
    store = artifact_store()
    stored = [d.name for d in store.iterdir()] if store.is_dir() else []
    missing_here(packages, stored)


def activation_finding(ctx: Context, found: EnvFinding) -> EnvFinding | None:
    """A change when activating the environment would not set ``environment.variables``."""
    from provisioner.env.activation import activation_current

    variables = ctx.resolved.profile.environment.variables
    if activation_current(ctx.prefix, ctx.manager, variables):
        return None
    reason = f"set environment.variables in {ctx.prefix}'s activation"
    return replace(found, status="change", reason=reason, action="activation")


def activation_only(ctx: Context, lock: Lock, found: EnvFinding) -> EnvFinding:
    """The packages match; only the activation files lack the profile's variables."""
    finish_prefix(ctx, lock)
    fingerprint = env_fingerprint(ctx.prefix)  # conda-meta/state may be new
    state = found.state
    if state is not None:
        state = state.but(fingerprint=fingerprint, updated_at=now_iso())
        if state.phase == "verified":
            write_state(state)
    return EnvFinding(
        "change", found.reason, found.details, "activation", found.diff, fingerprint, state
    )


def finish_prefix(ctx: Context, lock: Lock) -> None:
    """What people use the environment with: ``environment.variables`` on activation
    and, in a conda prefix, ``conda-meta/history`` with the profile's specs."""
    from provisioner.env.activation import write_activation

    env = ctx.resolved.profile.environment
    write_activation(ctx.prefix, ctx.manager, env.variables)
    if ctx.manager == "conda":
        from provisioner.env.conda_history import spec_name, write_history

        specs = list(env.conda)
        locked = {p.name for p in lock.for_platform(ctx.platform, "conda")}
        if "python" in locked and "python" not in {spec_name(x) for x in specs}:
            specs.insert(0, f"python={env.python}")  # the solve asked for it too
        write_history(ctx.prefix, specs, f"provision apply {ctx.resolved.path}")


class VerifyStep:
    """The verify stage (``provisioner.verify``): the smoke test, or without one an import
    check of the framework, in the environment; or, for a no-op, the verification the
    state recorded for this lock and environment."""

    name = "verify"

    def check(self, ctx: Context, done: Findings) -> VerifyFinding:
        state = done.state(ctx)
        ref = _lock_of(done)
        env = done.environment
        if (
            not ctx.options.force
            and state is not None
            and state.verification is not None
            and ref is not None
            and env is not None
            and state.profile_hash == ctx.resolved.content_hash  # e.g. smoke_test edited
            and state.good_for(
                lock_sha256=ref.sha256,
                fingerprint=env.fingerprint,
                verify_kind=ctx.options.verify,
            )
        ):
            from provisioner.verify.result import VerifyResult

            result = VerifyResult.cached_from(state.verification)
            reason = (
                f"verified at {state.verification.verified_at} for this lock and environment "
                f"(it runs again when the lock, the environment or the profile changes, "
                f"after a failed `provision verify`, or with --force)"
            )
            return VerifyFinding("ok", reason, result=result, state=state)
        what = "the import check" if ctx.options.verify == "import" else "the smoke test"
        why = rerun_reason(ctx, done)
        return VerifyFinding("change", f"run {what} in the environment ({why})")

    def change(self, ctx: Context, done: Findings, found: VerifyFinding) -> VerifyFinding:
        from provisioner.verify.run import verify_environment

        result = verify_environment(ctx.resolved, ctx.python(), ctx.options.verify)
        if not result.passed:
            failed = done.state(ctx)
            if failed is not None:  # whatever was recorded, this is not verified now
                failed = failed.unverified(now_iso())
                write_state(failed)
            reason = f"verification failed: {result.summary}"
            return VerifyFinding("fail", reason, result=result, state=failed)
        state = done.state(ctx)
        assert state is not None, "the environment step records the built state first"
        now = now_iso()
        built = built_state(ctx, done, "")
        state = state.but(
            phase="verified",
            profile_hash=ctx.resolved.content_hash,
            lock_inputs_hash=built.lock_inputs_hash,
            validation_key=built.validation_key,
            verification=result.summary_record(now),
            updated_at=now,
        )
        write_state(state)
        return VerifyFinding("change", f"verified: {result.summary}", result=result, state=state)


def rerun_reason(ctx: Context, done: Findings) -> str:
    """Why the verify step runs: the first thing that differs from the recorded pass."""
    ref = _lock_of(done)
    env = done.environment
    recorded = ctx.state
    if ctx.options.force:
        return "--force"
    if recorded is None:
        return "never verified here"
    if recorded.phase != "verified":
        return "not verified since it was built, or the last verification failed"
    if env is not None and env.status == "change":
        if env.action == "activation":
            return "environment.variables changed: the test runs with them"
        return "the environment changes"
    if ref is not None and recorded.lock_sha256 != ref.sha256:
        return "the lock changed"
    if recorded.profile_hash != ctx.resolved.content_hash:
        return "the profile changed since the last pass (any edit: packages, variables, test)"
    kind = recorded.verification.kind if recorded.verification else ""
    if ctx.options.verify == "smoke" and kind == "import":
        return "only the import check passed before (--verify import)"
    if env is not None and recorded.fingerprint != env.fingerprint:
        return "files in the environment changed"
    return "nothing verified is recorded for this lock and environment"


def built_state(ctx: Context, done: Findings, fingerprint: str) -> State:
    """The state of an environment that matches the lock step's lock, not verified yet."""
    found = done.lock
    ref = _lock_of(done)
    assert found is not None and ref is not None, "the lock step found a lock first"
    packages = tuple(PackageRecord.of(k) for k in ref.lock.for_platform(ctx.platform))
    return State(
        env=ctx.env,
        prefix=str(ctx.prefix),
        manager=ctx.manager,
        platform=ctx.platform,
        phase="built",
        profile_hash=ctx.resolved.content_hash,
        profile=ctx.resolved.profile.name,
        lock_path=str(ref.path),
        lock_sha256=ref.sha256,
        lock_inputs_hash=inputs_hash(ctx.resolved) if found.fresh else "",
        # the lock's freshness and the compatibility rules' verdict hold for this key
        validation_key=ctx.resolved.validation_key if found.fresh else "",
        fingerprint=fingerprint,
        updated_at=now_iso(),
        packages=packages,
    )


STEPS: tuple[Step[Any], ...] = (ChecksStep(), LockStep(), EnvironmentStep(), VerifyStep())
