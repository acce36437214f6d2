"""The steps of plan and apply. Each step knows how to *check* (a frozen finding, no
changes) and how to *change* (consuming that finding); plan and ``apply --dry-run`` run
only the checks. A step reads the earlier steps' findings from :class:`Findings`.

Order: checks (doctor) -> lock -> environment -> verify. A step whose check says
``fail`` stops the run; ``change`` is acted on by apply; ``ok`` and ``skipped`` are
left alone.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar

from provisioner.apply.run import (
    ChecksFinding,
    Context,
    EnvAction,
    EnvFinding,
    Findings,
    LockFinding,
    LockRef,
    Outcome,
    VerifyFinding,
)
from provisioner.apply.state import State, env_fingerprint, file_sha256, write_state
from provisioner.env import EnvDiff, data_home, pause_point
from provisioner.errors import ExternalFailure, HostNotReady, ProvisionError

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
        from provisioner.doctor import diagnose

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


def data_lock_path(ctx: Context) -> Path:
    return data_home() / "locks" / f"{ctx.env}.conda-lock.yml"


class LockStep:
    """Use a fresh committed lockfile beside the profile, or a fresh one under
    ``data_home()/locks``; otherwise lock into the latter."""

    name = "lock"

    def check(self, ctx: Context, done: Findings) -> LockFinding:
        from provisioner.lock.lockfile import default_lockfile_path, is_stale, platforms_for

        wanted = platforms_for(ctx.resolved)
        if ctx.platform not in wanted:
            target_os = ctx.resolved.profile.target.os.value
            raise HostNotReady(
                f"the profile targets {target_os} ({', '.join(wanted)}); this machine is "
                f"{ctx.platform}, and apply builds environments for the machine it runs on",
                hint="run apply on a target machine, or `provision render` the profile and "
                "run its bootstrap script there",
            )
        candidates = [default_lockfile_path(ctx.resolved), data_lock_path(ctx)]
        stale: list[str] = []
        for path in candidates:
            if not path.is_file():
                continue
            ref = LockRef(path, file_sha256(path))
            details = {"path": str(path)}
            if self._recorded(ctx, ref):
                return LockFinding("ok", f"fresh lock {path} (recorded)", details, ref, True)
            if path == data_lock_path(ctx):
                try:  # apply's own cache: an unreadable copy is re-locked, not an error
                    ref.lock  # noqa: B018 (parse it now)
                except ProvisionError as e:
                    stale.append(e.message)
                    continue
            if is_stale(ref.lock, ctx.resolved):
                stale.append(str(path))
                continue
            if ctx.platform not in ref.lock.platforms:
                raise ExternalFailure(
                    f"the lock {path} has no packages for {ctx.platform}, the platform apply "
                    f"runs on (it has {', '.join(ref.lock.platforms)})",
                    hint="apply on a machine of the profile's target, or re-lock",
                )
            return LockFinding("ok", f"fresh lock {path}", details, ref, True)
        target = data_lock_path(ctx)
        why = f"stale: {', '.join(stale)}" if stale else "no lockfile yet"
        return LockFinding(
            "change", f"lock into {target} ({why})", {"path": str(target), "why": why}
        )

    @staticmethod
    def _recorded(ctx: Context, ref: LockRef) -> bool:
        """Same lock bytes and same profile as the recorded run: fresh without parsing
        (parsing a lockfile imports conda-lock, about half a second)."""
        state = ctx.state
        return (
            state is not None
            and state.lock_path == str(ref.path)
            and state.lock_sha256 == ref.sha256
            and state.profile_hash == ctx.resolved.content_hash
            and state.platform == ctx.platform
        )

    def change(self, ctx: Context, done: Findings, found: LockFinding) -> LockFinding:
        from provisioner.lock.lockfile import lock_profile, write_lockfile

        path = data_lock_path(ctx)
        lock = lock_profile(ctx.resolved)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_lockfile(lock, ctx.resolved, path)
        ref = LockRef(path, file_sha256(path), lock)
        why = found.details.get("why")
        reason = f"locked into {path}" + (f" ({why})" if why else "")
        return LockFinding("change", reason, {"path": str(path)}, ref, True)


def _fresh_lock(done: Findings) -> LockRef | None:
    found = done.lock
    return found.locked if found is not None and found.fresh else None


class EnvironmentStep:
    """Create the environment, update it with the package diff, or leave it alone."""

    name = "environment"

    def check(self, ctx: Context, done: Findings) -> EnvFinding:
        state = ctx.state
        fingerprint = env_fingerprint(ctx.prefix)
        python = ctx.python()
        ref = _fresh_lock(done)
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
            reason = f"{ctx.prefix} matches the lock (recorded {state.updated_at})"
            return EnvFinding("ok", reason, fingerprint=fingerprint, state=state)
        diff = ctx.backend().diff(ctx.prefix, ref.lock, ctx.platform)
        details = {"diff": diff_json(diff)}
        if diff.matches:
            built = built_state(ctx, ref, fingerprint)  # in memory: verify writes it
            reason = f"{ctx.prefix} matches the lock"
            return EnvFinding("ok", reason, details, "none", diff, fingerprint, built)
        if not diff.exists:
            n = len(ref.lock.for_platform(ctx.platform))
            notes = f" ({'; '.join(diff.notes)})" if diff.notes else ""
            reason = f"create {ctx.prefix} with {n} packages{notes}"
            return EnvFinding("change", reason, details, "create", diff, fingerprint)
        reason = f"update {ctx.prefix}: {diff_summary(diff)}"
        return EnvFinding("change", reason, details, "update", diff, fingerprint)

    def change(self, ctx: Context, done: Findings, found: EnvFinding) -> EnvFinding:
        ref = _fresh_lock(done)
        if ref is None:
            raise AssertionError("the lock step makes a fresh lock before the environment step")
        write_state(built_state(ctx, ref, "").but(phase="building"))  # before the first change
        pause_point("environment:journal-written")
        backend = ctx.backend()
        diff = found.diff
        if found.action == "rebuild":
            if ctx.prefix.exists():
                shutil.rmtree(ctx.prefix)
            diff = EnvDiff(add=ref.lock.for_platform(ctx.platform), exists=False)
        elif diff is None:
            diff = backend.diff(ctx.prefix, ref.lock, ctx.platform)
        backend.install(ctx.prefix, ref.lock, ctx.platform, diff=diff, quiet=ctx.options.quiet)
        pause_point("environment:installed")
        # The result, not the plan: the installer must have made the prefix match.
        after = backend.diff(ctx.prefix, ref.lock, ctx.platform)
        if not after.matches:
            raise ExternalFailure(
                f"after installing, {ctx.prefix} still differs from the lock: "
                f"{diff_summary(after)}",
                hint="remove the environment folder and apply again",
            )
        fingerprint = env_fingerprint(ctx.prefix)
        state = built_state(ctx, ref, fingerprint)
        write_state(state)
        return EnvFinding(
            "change", found.reason, found.details, found.action, diff, fingerprint, state
        )


class VerifyStep:
    """The smoke test (or, without one, an import check of the framework) in the env."""

    name = "verify"

    def check(self, ctx: Context, done: Findings) -> VerifyFinding:
        state = done.state(ctx)
        ref = _fresh_lock(done)
        env = done.environment
        if (
            not ctx.options.force
            and state is not None
            and ref is not None
            and env is not None
            and state.good_for(
                lock_sha256=ref.sha256,
                fingerprint=env.fingerprint,
                verify_kind=ctx.options.verify,
            )
        ):
            result = {"passed": True, "cached": True, "verified_at": state.verified_at}
            reason = f"verified at {state.verified_at} for this lock and environment"
            return VerifyFinding("ok", reason, result=result, state=state)
        what = "the import check" if ctx.options.verify == "import" else "the smoke test"
        return VerifyFinding("change", f"run {what} in the environment")

    def change(self, ctx: Context, done: Findings, found: VerifyFinding) -> VerifyFinding:
        from provisioner.apply.verify import verify_environment

        pause_point("verify:start")
        start = time.monotonic()
        result = verify_environment(ctx.resolved, ctx.python(), ctx.options.verify)
        result["duration_s"] = round(time.monotonic() - start, 3)
        if not result["passed"]:
            reason = f"verification failed: {result['summary']}"
            return VerifyFinding("fail", reason, result, result)
        pause_point("verify:passed")
        state = done.state(ctx)
        assert state is not None, "the environment step records the built state first"
        state = state.but(
            phase="verified",
            verify_kind=str(result["kind"]),
            verified_at=now_iso(),
            updated_at=now_iso(),
        )
        write_state(state)
        return VerifyFinding("change", f"verified: {result['summary']}", result, result, state)


def built_state(ctx: Context, ref: LockRef, fingerprint: str) -> State:
    """The state of an environment that matches the lock but is not verified yet."""
    packages = [
        {
            "manager": k.manager,
            "name": k.name,
            "version": k.version,
            "build": k.build,
            "url": k.url,
            "sha256": k.sha256,
        }
        for k in ref.lock.for_platform(ctx.platform)
    ]
    return State(
        env=ctx.env,
        prefix=str(ctx.prefix),
        manager=ctx.manager,
        platform=ctx.platform,
        phase="built",
        profile_hash=ctx.resolved.content_hash,
        lock_path=str(ref.path),
        lock_sha256=ref.sha256,
        fingerprint=fingerprint,
        updated_at=now_iso(),
        packages=packages,
    )


STEPS: tuple[Step[Any], ...] = (ChecksStep(), LockStep(), EnvironmentStep(), VerifyStep())


def diff_summary(diff: EnvDiff) -> str:
    """The diff in one line for messages: at most five packages per kind."""
    parts = []
    if diff.add:
        parts.append("add " + ", ".join(p.spec() for p in diff.add[:5]))
    if diff.change:
        parts.append(
            "change " + ", ".join(f"{old} -> {new.spec()}" for old, new in diff.change[:5])
        )
    if diff.remove:
        parts.append("remove " + ", ".join(diff.remove[:5]))
    return "; ".join(parts) or "no differences"


def diff_json(diff: EnvDiff) -> dict[str, Any]:
    return {
        "exists": diff.exists,
        "add": [p.spec() for p in diff.add],
        "change": [{"from": old, "to": new.spec()} for old, new in diff.change],
        "remove": list(diff.remove),
        "notes": list(diff.notes),
    }
