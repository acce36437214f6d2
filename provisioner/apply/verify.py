"""``provision verify``'s workflow: check the installed files, run the verify stage
(``provisioner.verify``) in the provisioned environment, drop apply's verified mark
when either fails, and write the report. The command prints what this returns."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import HostNotReady
from provisioner.lock import LockedPackage
from provisioner.paths import state_dir
from provisioner.profile import ResolvedProfile
from provisioner.report.model import Report
from provisioner.state import file_sha256, read_state, write_state
from provisioner.verify.result import VerifyResult


@dataclass(frozen=True)
class Reverified:
    """The outcome: the verify stage's result (``None`` when altered files stopped the
    run before it), the report and where it was written, the altered files, and whether
    apply's verified mark was dropped."""

    result: VerifyResult | None
    report: Report | None = None
    report_path: Path | None = None
    checked: int = 0
    altered: tuple[str, ...] = ()
    unverified: bool = False

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed


def environment_python(resolved: ResolvedProfile, profile_path: Path) -> Path:
    """The provisioned environment's interpreter, or a one-line error saying to apply."""
    from provisioner.env import env_prefix, env_python
    from provisioner.platforms import is_windows

    env = resolved.profile.environment
    prefix = env_prefix(env.name)
    python = env_python(prefix, windows=is_windows(), manager=env.manager.value)
    if not python.exists():
        raise HostNotReady(
            f"environment {env.name} not found at {prefix}: run `provision apply {profile_path}`"
        )
    from provisioner.apply.ownership import check_owner

    check_owner(resolved, read_state(env.name))  # another profile's environment
    return python


def reverify(
    resolved: ResolvedProfile,
    profile_path: Path,
    *,
    python: Path | None = None,
    host_name: str | None = None,
) -> Reverified:
    """Verify the provisioned environment (or, with ``python``, that interpreter: then its
    files are not checked, apply's state is left alone and no report is written)."""
    from provisioner.env import env_prefix
    from provisioner.report.store import write_report
    from provisioner.verify.run import verify_environment

    prefix = env_prefix(resolved.profile.environment.name)
    own = python is None
    interpreter = python or environment_python(resolved, profile_path)
    if own:
        from provisioner.env.installed_files import files_at

        manager = resolved.profile.environment.manager.value
        checked, altered = files_at(prefix, interpreter, manager, locked_pip(resolved))
        if altered:
            return Reverified(
                None, checked=checked, altered=tuple(altered), unverified=_drop(resolved)
            )
    started = time.time()
    result = verify_environment(resolved, interpreter)
    from provisioner.apply.report import verify_report

    report = verify_report(resolved, result, prefix=prefix, started=started, host_name=host_name)
    path = write_report(report) if own else None
    dropped = own and not result.passed and _drop(resolved)
    return Reverified(result, report, path, unverified=dropped)


def locked_pip(resolved: ResolvedProfile) -> tuple[LockedPackage, ...]:
    """The pip packages of the lock the environment was built from (the one apply's
    state records, while its bytes are unchanged; else the lock apply would use)."""
    from provisioner.lock.location import lock_location
    from provisioner.lock.lockfile import read_lockfile
    from provisioner.platforms import host_subdir

    env = resolved.profile.environment
    state = read_state(env.name)
    where = lock_location(resolved)
    candidates = [where.path, where.own]
    if state is not None and state.lock_path:
        recorded = Path(state.lock_path)
        if recorded.is_file() and file_sha256(recorded) == state.lock_sha256:
            candidates.insert(0, recorded)
    for path in candidates:
        if path.is_file():
            return read_lockfile(path).for_platform(host_subdir(), "pip")
    return ()


def _drop(resolved: ResolvedProfile) -> bool:
    from provisioner.env import env_prefix

    name = resolved.profile.environment.name
    return unverify(name, env_prefix(name))


def unverify(env: str, prefix: Path) -> bool:
    """Drop the verified mark of ``env`` at ``prefix`` (phase back to ``built``) after a
    failed ``provision verify``, so the next apply diffs and verifies it again.

    Skipped (False) when nothing verified is recorded, when an apply holds the
    environment (it writes its own state), or when the state cannot be written."""
    from datetime import datetime, timezone

    from provisioner.apply.guard import ApplyBusy, exclusive

    try:
        with exclusive(state_dir() / f"{env}.lock", env):
            state = read_state(env)
            if state is None or state.prefix != str(prefix) or state.phase != "verified":
                return False
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            write_state(state.unverified(now))
            return True
    except (ApplyBusy, OSError):
        return False
