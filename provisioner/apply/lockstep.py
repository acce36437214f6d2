"""The lock step of plan and apply: which lockfile the environment is built from, and
what ``--locked`` and ``--frozen`` change about that (``docs/lock.md``, lock modes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from provisioner.apply.run import Context, Findings, LockFinding, LockRef
from provisioner.errors import ExternalFailure, HostNotReady, ProvisionError, relpath
from provisioner.paths import locks_dir
from provisioner.state import file_sha256


def data_lock_path(ctx: Context) -> Path:
    return locks_dir() / f"{ctx.env}.conda-lock.yml"


class LockStep:
    """Find the lock to build from. The lock beside the profile
    (``<profile stem>.conda-lock.yml``) when there is one: used when fresh, re-locked in
    place when stale (said on stderr), refused when stale under ``--locked``, used as it
    is under ``--frozen``. Without one, apply keeps its own lock in
    ``$PROVISION_HOME/locks`` (``--locked`` refuses; ``--frozen`` needs it to exist)."""

    name = "lock"

    def check(self, ctx: Context, done: Findings) -> LockFinding:
        from provisioner.lock.lockfile import default_lockfile_path, platforms_for

        wanted = platforms_for(ctx.resolved)
        if ctx.platform not in wanted:
            target_os = ctx.resolved.profile.target.os.value
            raise HostNotReady(
                f"the profile targets {target_os} ({', '.join(wanted)}); this machine is "
                f"{ctx.platform}, and apply builds environments for the machine it runs on",
                hint="run apply on a target machine, or `provision render` the profile and "
                "run its bootstrap script there",
            )
        beside = default_lockfile_path(ctx.resolved)
        if beside.is_file():
            return self._beside(ctx, beside)
        mode = ctx.options.lock_mode
        profile = relpath(ctx.resolved.path)
        if mode == "locked":
            raise HostNotReady(
                f"--locked: there is no lockfile beside the profile ({beside})",
                hint=f"run `provision lock {profile}` and commit {beside.name} with the "
                "profile, or apply without --locked",
            )
        cached = data_lock_path(ctx)
        if mode == "frozen" and not cached.is_file():
            raise ProvisionError(
                f"--frozen: there is no lock to install: neither {beside} nor {cached} exists",
                hint=f"run `provision lock {profile}` first, or apply without --frozen",
            )
        return self._cached(ctx, cached)

    def _beside(self, ctx: Context, path: Path) -> LockFinding:
        """The committed lock beside the profile (an unreadable one is an error, exit 2)."""
        from provisioner.lock.lockfile import stale_reason

        ref = LockRef(path, file_sha256(path))
        mode = ctx.options.lock_mode
        details: dict[str, Any] = {"path": str(path), "mode": mode}
        if self._recorded(ctx, ref):
            return LockFinding("ok", f"fresh lock {path} (recorded)", details, ref, True)
        why = stale_reason(ref.lock, ctx.resolved)
        if why is None:
            _has_platform(ctx, ref)
            return LockFinding("ok", f"fresh lock {path}", details, ref, True)
        profile = relpath(ctx.resolved.path)
        if mode == "frozen":
            _has_platform(ctx, ref)
            reason = f"--frozen: install {path} as it is (stale: {why})"
            return LockFinding("ok", reason, {**details, "stale": why}, ref, False)
        if mode == "locked":
            raise HostNotReady(
                f"--locked: the lockfile {path} is stale ({why})",
                hint=f"run `provision lock {profile}` and commit {path.name}, or apply "
                "without --locked to update it in place",
            )
        unwritable = lockfile_unwritable(path)
        if unwritable:
            raise HostNotReady(
                f"the lockfile {path} beside the profile is stale ({why}) and apply cannot "
                f"update it there: {unwritable}",
                hint=f"run `provision lock {profile}` where {path.name} is writable, or "
                "`provision apply --frozen` to install the lock as it is",
            )
        reason = f"update the stale lock {path} in place ({why})"
        return LockFinding("change", reason, {**details, "why": why, "beside": True})

    def _cached(self, ctx: Context, path: Path) -> LockFinding:
        """apply's own lock for a profile with none beside it: an unreadable or stale copy
        is re-locked (``--frozen`` installs it as it is)."""
        from provisioner.lock.lockfile import stale_reason

        details: dict[str, Any] = {"path": str(path), "mode": ctx.options.lock_mode}
        stale = "no lockfile yet"
        if path.is_file():
            ref = LockRef(path, file_sha256(path))
            if self._recorded(ctx, ref):
                return LockFinding("ok", f"fresh lock {path} (recorded)", details, ref, True)
            try:
                why = stale_reason(ref.lock, ctx.resolved)
            except ProvisionError as e:
                if ctx.options.lock_mode == "frozen":
                    raise
                why = e.message
            if why is None or ctx.options.lock_mode == "frozen":
                _has_platform(ctx, ref)
                reason = f"fresh lock {path}" if why is None else f"--frozen: install {path}"
                return LockFinding("ok", reason, details, ref, why is None)
            stale = f"stale: {why}"
        reason = f"lock into {path} ({stale})"
        return LockFinding("change", reason, {**details, "why": stale})

    @staticmethod
    def _recorded(ctx: Context, ref: LockRef) -> bool:
        """Same lock bytes as the recorded run, fresh then for the same lock inputs (or
        ``--frozen``): usable without parsing it (a no-op apply stays fast)."""
        from provisioner.lock.inputs import inputs_hash

        state = ctx.state
        if (
            state is None
            or state.lock_path != str(ref.path)
            or state.lock_sha256 != ref.sha256
            or state.platform != ctx.platform
        ):
            return False
        return ctx.options.lock_mode == "frozen" or (
            state.lock_inputs_hash != "" and state.lock_inputs_hash == inputs_hash(ctx.resolved)
        )

    def change(self, ctx: Context, done: Findings, found: LockFinding) -> LockFinding:
        from provisioner.lock.lockfile import lock_profile, write_lockfile

        path = Path(found.details["path"])
        lock = lock_profile(ctx.resolved)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_lockfile(lock, ctx.resolved, path)
        ref = LockRef(path, file_sha256(path), lock)
        why = found.details.get("why")
        if found.details.get("beside"):
            # Loud on purpose: a committed file changed, and the team should review it.
            print(
                f"provision: warning: {relpath(path)} was stale ({why}); re-locked and "
                "updated it in place: review and commit it (or use --locked / --frozen)",
                file=sys.stderr,
                flush=True,
            )
            reason = f"updated the stale lock {path} in place ({why})"
        else:
            reason = f"locked into {path}" + (f" ({why})" if why else "")
        return LockFinding("change", reason, {"path": str(path)}, ref, True)


def _has_platform(ctx: Context, ref: LockRef) -> None:
    if ctx.platform not in ref.lock.platforms:
        raise ExternalFailure(
            f"the lock {ref.path} has no packages for {ctx.platform}, the platform apply "
            f"runs on (it has {', '.join(ref.lock.platforms)})",
            hint="apply on a machine of the profile's target, or re-lock",
        )


def lockfile_unwritable(path: Path) -> str:
    """Why ``path`` cannot be replaced (a new file in its folder, then a rename), or ""."""
    import tempfile

    try:
        Path(tempfile.mkdtemp(prefix=f".{path.name}.check-", dir=path.parent)).rmdir()
    except OSError as e:
        return f"cannot create files in {path.parent} ({e.strerror})"
    return ""
