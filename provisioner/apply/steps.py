"""The steps of plan and apply. Each step knows how to *check* (status and reason, no
changes) and how to *change*; plan and ``apply --dry-run`` run only the checks.

Order: checks (doctor) -> lock -> environment -> verify. A step whose check says
``fail`` stops the run; ``change`` is acted on by apply; ``ok`` and ``skipped`` are
left alone.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from provisioner.apply.run import Outcome, Run
from provisioner.apply.state import State, env_fingerprint, file_sha256, write_state
from provisioner.env import EnvDiff, pause_point
from provisioner.errors import ExternalFailure, HostNotReady, ProvisionError
from provisioner.paths import locks_dir


class Step(Protocol):
    name: str

    def check(self, run: Run) -> Outcome: ...

    def change(self, run: Run, found: Outcome) -> Outcome: ...


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ChecksStep:
    """The host checks from ``provision doctor``; a host that is not ready stops apply."""

    name = "checks"

    def check(self, run: Run) -> Outcome:
        if run.options.skip_checks:
            return Outcome("skipped", "--skip-checks given")
        from provisioner.checks.doctor import diagnose

        diagnosis = diagnose(run.resolved)
        run.diagnosis = diagnosis
        if diagnosis.ready:
            return Outcome("ok", "the host is ready")
        failing = [
            f"{v.id}: {v.summary} (fix: {v.fix})" if v.fix else f"{v.id}: {v.summary}"
            for v in diagnosis.blocking
        ]
        reason = "; ".join(failing) or "the host is not ready"
        return Outcome("fail", f"host not ready: {reason}", {"failing": failing})

    def change(self, run: Run, found: Outcome) -> Outcome:
        return found  # checks never change anything


def data_lock_path(run: Run) -> Path:
    return locks_dir() / f"{run.env}.conda-lock.yml"


class LockStep:
    """Use a fresh committed lockfile beside the profile, or a fresh one under
    ``paths.locks_dir()``; otherwise lock into the latter."""

    name = "lock"

    def check(self, run: Run) -> Outcome:
        from provisioner.lock.lockfile import default_lockfile_path, is_stale, platforms_for

        wanted = platforms_for(run.resolved)
        if run.platform not in wanted:
            target_os = run.resolved.profile.target.os.value
            raise HostNotReady(
                f"the profile targets {target_os} ({', '.join(wanted)}); this machine is "
                f"{run.platform}, and apply builds environments for the machine it runs on",
                hint="run apply on a target machine, or `provision render` the profile and "
                "run its bootstrap script there",
            )
        candidates = [default_lockfile_path(run.resolved), data_lock_path(run)]
        stale: list[str] = []
        for path in candidates:
            if not path.is_file():
                continue
            sha = file_sha256(path)
            if self._recorded(run, path, sha):
                run.lock_path, run.lock_sha256, run.lock_fresh = path, sha, True
                return Outcome("ok", f"fresh lock {path} (recorded)", {"path": str(path)})
            run.lock_path, run.lock_sha256 = path, sha
            run.set_lock(None)
            if path == data_lock_path(run):
                try:  # apply's own cache: an unreadable copy is re-locked, not an error
                    run.lock()
                except ProvisionError as e:
                    stale.append(e.message)
                    continue
            if is_stale(run.lock(), run.resolved):
                stale.append(str(path))
                continue
            if run.platform not in run.lock().platforms:
                raise ExternalFailure(
                    f"the lock {path} has no packages for {run.platform}, the platform apply "
                    f"runs on (it has {', '.join(run.lock().platforms)})",
                    hint="apply on a machine of the profile's target, or re-lock",
                )
            run.lock_fresh = True
            return Outcome("ok", f"fresh lock {path}", {"path": str(path)})
        run.lock_path, run.lock_sha256 = None, ""
        run.set_lock(None)
        target = data_lock_path(run)
        why = f"stale: {', '.join(stale)}" if stale else "no lockfile yet"
        return Outcome("change", f"lock into {target} ({why})", {"path": str(target), "why": why})

    @staticmethod
    def _recorded(run: Run, path: Path, sha: str) -> bool:
        """Same lock bytes and same profile as the recorded run: fresh without parsing
        (parsing a lockfile imports conda-lock, about half a second)."""
        state = run.state
        return (
            state is not None
            and state.lock_path == str(path)
            and state.lock_sha256 == sha
            and state.profile_hash == run.resolved.content_hash
            and state.platform == run.platform
        )

    def change(self, run: Run, found: Outcome) -> Outcome:
        from provisioner.lock.lockfile import lock_profile, write_lockfile

        path = data_lock_path(run)
        lock = lock_profile(run.resolved)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_lockfile(lock, run.resolved, path)
        run.set_lock(lock)
        run.lock_path, run.lock_sha256, run.lock_fresh = path, file_sha256(path), True
        why = found.details.get("why")
        reason = f"locked into {path}" + (f" ({why})" if why else "")
        return Outcome("change", reason, {"path": str(path)})


class EnvironmentStep:
    """Create the environment, update it with the package diff, or leave it alone."""

    name = "environment"

    def check(self, run: Run) -> Outcome:
        state = run.state
        run.fingerprint = env_fingerprint(run.prefix)
        python = run.python()
        if run.prefix.exists() and not python.exists():  # missing, or a dangling symlink
            run.env_action = "rebuild"
            return Outcome("change", f"rebuild {run.prefix}: its Python {python} is missing")
        if not run.lock_fresh:
            action = "update" if run.prefix.exists() else "create"
            run.env_action = action
            return Outcome("change", f"{action} {run.prefix} from the new lock")
        if state is not None and state.prefix == str(run.prefix) and state.phase == "building":
            run.env_action = "rebuild"
            return Outcome(
                "change", f"rebuild {run.prefix}: a previous apply stopped while building it"
            )
        if (
            state is not None
            and not run.options.force
            and state.phase == "verified"  # a failed verify resets it: diff and verify again
            and state.lock_sha256 == run.lock_sha256
            and state.fingerprint == run.fingerprint
        ):
            ok = f"{run.prefix} matches the lock (recorded {state.updated_at})"
            return activation_outcome(run) or Outcome("ok", ok)
        # Where nothing verified is trusted (--force, no state, a failed verify), every
        # installed file is hashed too, and packages with altered files are relinked.
        deep = run.options.force or state is None or state.phase != "verified"
        diff = run.backend().diff(run.prefix, run.lock(), run.platform, files=deep)
        run.diff = diff
        if diff.matches:
            run.state = built_state(run)  # in memory only: verify writes it once it passes
            ok = f"{run.prefix} matches the lock"
            return activation_outcome(run) or Outcome("ok", ok, {"diff": diff_json(diff)})
        if not diff.exists:
            run.env_action = "create"
            n = len(run.lock().for_platform(run.platform))
            notes = f" ({'; '.join(diff.notes)})" if diff.notes else ""
            return Outcome(
                "change", f"create {run.prefix} with {n} packages{notes}", {"diff": diff_json(diff)}
            )
        run.env_action = "update"
        return Outcome(
            "change", f"update {run.prefix}: {diff_summary(diff)}", {"diff": diff_json(diff)}
        )

    def change(self, run: Run, found: Outcome) -> Outcome:
        if run.env_action == "activation":
            return self.activation_only(run, found)
        journal = built_state(run).but(phase="building", fingerprint="")
        write_state(journal)  # before the first change: a crash from here on is detected
        run.state = journal
        pause_point("environment:journal-written")
        if run.env_action == "rebuild" and run.prefix.exists():
            shutil.rmtree(run.prefix)
        backend = run.backend()
        backend.install(
            run.prefix, run.lock(), run.platform, diff=run.diff, quiet=run.options.quiet
        )
        pause_point("environment:installed")
        finish_prefix(run)
        repaired = bool(run.diff and run.diff.altered)  # then check those files again
        after = backend.diff(run.prefix, run.lock(), run.platform, files=repaired)
        if not after.matches:
            raise ExternalFailure(
                f"after installing, {run.prefix} still differs from the lock: "
                f"{diff_summary(after)}",
                hint="remove the environment folder and apply again",
            )
        run.fingerprint = env_fingerprint(run.prefix)
        run.state = built_state(run)
        write_state(run.state)
        return Outcome("change", found.reason, found.details)

    @staticmethod
    def activation_only(run: Run, found: Outcome) -> Outcome:
        """The packages match; only the activation scripts lack the profile's variables."""
        finish_prefix(run)
        run.fingerprint = env_fingerprint(run.prefix)  # conda-meta/state may be new
        if run.state is not None:
            run.state = run.state.but(fingerprint=run.fingerprint, updated_at=now_iso())
            if run.state.phase == "verified":
                write_state(run.state)
        return Outcome("change", found.reason, found.details)


def activation_outcome(run: Run) -> Outcome | None:
    """A change when activating the environment would not set ``environment.variables``."""
    from provisioner.env.activation import activation_current

    variables = run.resolved.profile.environment.variables
    if activation_current(run.prefix, run.manager, variables):
        return None
    run.env_action = "activation"
    return Outcome("change", f"set environment.variables in {run.prefix}'s activation")


def finish_prefix(run: Run) -> None:
    """What people use the environment with: ``environment.variables`` on activation
    and, in a conda prefix, ``conda-meta/history`` with the profile's specs."""
    from provisioner.env.activation import write_activation

    env = run.resolved.profile.environment
    write_activation(run.prefix, run.manager, env.variables)
    if run.manager == "conda":
        from provisioner.env.conda_history import spec_name, write_history

        specs = list(env.conda)
        locked = {p.name for p in run.lock().for_platform(run.platform, "conda")}
        if "python" in locked and "python" not in {spec_name(x) for x in specs}:
            specs.insert(0, f"python={env.python}")  # the solve asked for it too
        write_history(run.prefix, specs, f"provision apply {run.resolved.path}")


class VerifyStep:
    """The smoke test (or, without one, an import check of the framework) in the env."""

    name = "verify"

    def check(self, run: Run) -> Outcome:
        state = run.state
        if (
            not run.options.force
            and state is not None
            and state.good_for(
                lock_sha256=run.lock_sha256,
                fingerprint=run.fingerprint,
                verify_kind=run.options.verify,
            )
        ):
            run.verify = {"passed": True, "cached": True, "verified_at": state.verified_at}
            return Outcome("ok", f"verified at {state.verified_at} for this lock and environment")
        what = "the import check" if run.options.verify == "import" else "the smoke test"
        return Outcome("change", f"run {what} in the environment")

    def change(self, run: Run, found: Outcome) -> Outcome:
        from provisioner.apply.verify import verify_environment

        pause_point("verify:start")
        start = time.monotonic()
        result = verify_environment(run.resolved, run.python(), run.options.verify)
        result["duration_s"] = round(time.monotonic() - start, 3)
        run.verify = result
        if not result["passed"]:
            if run.state is not None:  # whatever was recorded, this is not verified now
                run.state = run.state.but(phase="built", verified_at="", verify_kind="")
                write_state(run.state)
            return Outcome("fail", f"verification failed: {result['summary']}", result)
        pause_point("verify:passed")
        assert run.state is not None
        run.state = run.state.but(
            phase="verified",
            verify_kind=str(result["kind"]),
            verified_at=now_iso(),
            updated_at=now_iso(),
        )
        write_state(run.state)
        return Outcome("change", f"verified: {result['summary']}", result)


def built_state(run: Run) -> State:
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
        for k in run.lock().for_platform(run.platform)
    ]
    return State(
        env=run.env,
        prefix=str(run.prefix),
        manager=run.manager,
        platform=run.platform,
        phase="built",
        profile_hash=run.resolved.content_hash,
        lock_path=str(run.lock_path),
        lock_sha256=run.lock_sha256,
        fingerprint=run.fingerprint,
        updated_at=now_iso(),
        packages=packages,
    )


STEPS: tuple[Step, ...] = (ChecksStep(), LockStep(), EnvironmentStep(), VerifyStep())


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
