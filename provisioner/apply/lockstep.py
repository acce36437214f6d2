"""The lock step of plan and apply: which lockfile the environment is built from, and
what ``--locked`` and ``--frozen`` change about that (``docs/lock.md``, lock modes)."""

from __future__ import annotations

import sys
from pathlib import Path

from provisioner.apply.run import Context, Findings, LockFinding, LockRef
from provisioner.errors import ExternalFailure, HostNotReady, ProvisionError, relpath
from provisioner.lock.inputs import inputs_hash
from provisioner.lock.location import LockLocation, lock_location
from provisioner.lock.staleness import Cause, Staleness, staleness
from provisioner.platforms import target_platforms
from provisioner.state import file_sha256


class LockStep:
    """Find the lock to build from (:func:`provisioner.lock.location.lock_location`
    says where). The lockfile beside the profile when there is one: used when fresh,
    re-locked in place when stale (said on stderr), refused when stale under
    ``--locked``, used as it is under ``--frozen``. Without one, apply keeps its own
    lock in ``$PROVISION_HOME/locks`` (``--locked`` refuses; ``--frozen`` needs it to
    exist); that one is also a shipped profile's lockfile, which ``--locked`` uses only
    when it is fresh."""

    name = "lock"

    def check(self, ctx: Context, done: Findings) -> LockFinding:
        wanted = target_platforms(ctx.resolved.profile.target)
        if ctx.platform not in wanted:
            target_os = ctx.resolved.profile.target.os.value
            raise HostNotReady(
                f"the profile targets {target_os} ({', '.join(wanted)}); this machine is "
                f"{ctx.platform}, and apply builds environments for the machine it runs on",
                hint="run apply on a target machine, or `provision render` the profile and "
                "run its bootstrap script there",
            )
        where = lock_location(ctx.resolved)
        if where.beside and where.path.is_file():
            return self._beside(ctx, where.path)
        mode = ctx.options.lock_mode
        profile = relpath(ctx.resolved.path)
        if mode == "locked" and (where.beside or not where.own.is_file()):
            shown = "beside the profile " if where.beside else ""
            raise HostNotReady(
                f"--locked: there is no lockfile {shown}({where.path})",
                hint=f"run `provision lock {profile}`"
                + (f" and commit {where.path.name} with the profile" if where.beside else "")
                + ", or apply without --locked",
            )
        if mode == "frozen" and not where.own.is_file():
            either = f"neither {where.path} nor {where.own} exists" if where.beside else ""
            raise ProvisionError(
                f"--frozen: there is no lock to install: {either or f'{where.own} does not exist'}",
                hint=f"run `provision lock {profile}` first, or apply without --frozen",
            )
        return self._own(ctx, where)

    def _beside(self, ctx: Context, path: Path) -> LockFinding:
        """The committed lock beside the profile (an unreadable one is an error, exit 2)."""
        ref = LockRef(path, file_sha256(path))
        mode = ctx.options.lock_mode
        if self._recorded(ctx, ref):
            return LockFinding("ok", f"fresh lock {path} (recorded)", locked=ref, fresh=True)
        stale = staleness(ref.lock, ctx.resolved)
        if stale is None:
            _has_platform(ctx, ref)
            return LockFinding("ok", f"fresh lock {path}", locked=ref, fresh=True)
        why = stale.describe()
        profile = relpath(ctx.resolved.path)
        if mode == "frozen":
            _has_platform(ctx, ref)
            reason = f"--frozen: install {path} as it is (stale: {why})"
            return LockFinding("ok", reason, locked=ref, stale=stale)
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
        return LockFinding("change", reason, stale=stale, target=path, beside=True)

    def _own(self, ctx: Context, where: LockLocation) -> LockFinding:
        """apply's own lock (a shipped profile's lockfile too): an unreadable or stale copy
        is re-locked (``--frozen`` installs it as it is, ``--locked`` refuses it)."""
        path, mode = where.own, ctx.options.lock_mode
        stale = Staleness(Cause.MISSING)
        if path.is_file():
            ref = LockRef(path, file_sha256(path))
            if self._recorded(ctx, ref):
                return LockFinding("ok", f"fresh lock {path} (recorded)", locked=ref, fresh=True)
            try:
                found = staleness(ref.lock, ctx.resolved)
            except ProvisionError as e:
                if mode != "update":
                    raise
                found = Staleness(Cause.UNREADABLE, detail=e.message)
            if found is None or mode == "frozen":
                _has_platform(ctx, ref)
                reason = f"fresh lock {path}" if found is None else f"--frozen: install {path}"
                return LockFinding("ok", reason, locked=ref, fresh=found is None, stale=found)
            if mode == "locked":
                raise HostNotReady(
                    f"--locked: the lockfile {path} is stale ({found.describe()})",
                    hint=f"run `provision lock {relpath(ctx.resolved.path)}`, or apply "
                    "without --locked",
                )
            stale = found
        why = stale.describe() if stale.cause is Cause.MISSING else f"stale: {stale.describe()}"
        return LockFinding("change", f"lock into {path} ({why})", stale=stale, target=path)

    @staticmethod
    def _recorded(ctx: Context, ref: LockRef) -> bool:
        """Same lock bytes as the recorded run, fresh then for the same lock inputs (or
        ``--frozen``): usable without parsing it (a no-op apply stays fast). The same
        validation key as the recorded run says the inputs are the same without
        computing them (profile/validation_key.py)."""
        state = ctx.state
        if (
            state is None
            or state.lock_path != str(ref.path)
            or state.lock_sha256 != ref.sha256
            or state.platform != ctx.platform
        ):
            return False
        if ctx.options.lock_mode == "frozen":
            return True
        if state.lock_inputs_hash == "":
            return False
        key = ctx.resolved.validation_key
        if key and state.validation_key == key:
            return True
        return state.lock_inputs_hash == inputs_hash(ctx.resolved)

    def change(self, ctx: Context, done: Findings, found: LockFinding) -> LockFinding:
        from provisioner.lock.lockfile import lock_profile, write_lockfile

        if found.target is None:  # a check that finds nothing to change has no target
            raise AssertionError("the lock step changes only what its check found stale")
        path = found.target
        lock = lock_profile(ctx.resolved)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_lockfile(lock, ctx.resolved, path)
        ref = LockRef(path, file_sha256(path), lock)
        why = found.stale.describe() if found.stale is not None else ""
        if found.beside:
            # Loud on purpose: a committed file changed, and the team should review it.
            print(
                f"provision: warning: {relpath(path)} was stale ({why}); re-locked and "
                "updated it in place: review and commit it (or use --locked / --frozen)",
                file=sys.stderr,
                flush=True,
            )
            from provisioner.lock.travel import warn_outside

            warn_outside(lock, ctx.resolved)
            reason = f"updated the stale lock {path} in place ({why})"
        else:
            reason = f"locked into {path}"
            if found.stale is not None:
                missing = found.stale.cause is Cause.MISSING
                reason += f" ({why})" if missing else f" (stale: {why})"
        return LockFinding("change", reason, locked=ref, fresh=True)


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
