"""``provision verify PROFILE``: check every installed file of the provisioned
environment against its recorded hash, run the training smoke test in it and print
what it proved (exit 0 pass, 1 fail). An altered file fails the verify before the
smoke test runs, naming the file and its package (``apply --force`` repairs it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from provisioner.cli_arguments import HOST_NAME_HELP, add_profile
from provisioner.errors import ProvisionError
from provisioner.platforms import is_windows


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "verify",
        help="run the training smoke test in the provisioned environment",
        description="Check every installed file against its package's recorded hash, then "
        "run smoke_test.py with the environment's Python: device, placement, training and "
        "speed. Exit 0 on pass, 1 on fail (a failure clears apply's verified mark).",
    )
    add_profile(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    p.add_argument(
        "--python",
        type=Path,
        metavar="PATH",
        help="run with this interpreter instead of the environment's",
    )
    p.add_argument("--host-name", metavar="NAME", help=HOST_NAME_HELP)
    p.set_defaults(
        run=lambda a: verify(
            profile=a.profile,
            json_out=a.json,
            junit=a.junit,
            python=a.python,
            host_name=a.host_name,
        )
    )


def environment_python(profile_path: Path, resolved: Any) -> Path:
    """The provisioned environment's interpreter, or a one-line error saying to apply."""
    from provisioner.env import env_prefix, env_python
    from provisioner.errors import HostNotReady

    env = resolved.profile.environment
    prefix = env_prefix(env.name)
    python = env_python(prefix, windows=is_windows(), manager=env.manager.value)
    if not python.exists():
        raise HostNotReady(
            f"environment {env.name} not found at {prefix}: run `provision apply {profile_path}`"
        )
    from provisioner.apply.ownership import check_owner
    from provisioner.apply.state import read_state

    check_owner(resolved, read_state(env.name))  # another profile's environment
    return python


def forget_verification(resolved: Any) -> None:
    """A failed verify of the provisioned environment clears apply's verified mark, so
    the next ``provision apply`` diffs the environment and verifies it again."""
    import sys

    from provisioner.apply.state import unverify
    from provisioner.env import env_prefix

    name = resolved.profile.environment.name
    if unverify(name, env_prefix(name)):
        print(
            f"note: environment {name} is no longer marked verified; the next "
            "`provision apply` checks and verifies it again",
            file=sys.stderr,
        )


def file_check(resolved: Any) -> tuple[int, list[str]]:
    """Hash every installed file of the environment (conda ``paths_data``, the ``RECORD``
    inside each locked wheel, verified against the lock); how many were checked and the
    altered ones, as ``pkg: path (why)``."""
    from provisioner.env import env_prefix, env_python

    env = resolved.profile.environment
    prefix = env_prefix(env.name)
    python = env_python(prefix, windows=is_windows(), manager=env.manager.value)
    return files_at(prefix, python, env.manager.value, locked_pip(resolved))


def locked_pip(resolved: Any) -> tuple[Any, ...]:
    """The pip packages of the lock the environment was built from (the one apply's
    state records, while its bytes are unchanged; else the lock apply would use)."""
    from provisioner.apply.state import file_sha256, read_state
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


def files_at(
    prefix: Path, python: Path, manager: str, pip_packages: tuple[Any, ...] = ()
) -> tuple[int, list[str]]:
    """:func:`file_check` of the environment at ``prefix`` (``python`` its interpreter),
    the pip part against the wheels of ``pip_packages`` (a distribution without one is
    checked against its installed ``RECORD``)."""
    from provisioner.env.expected import expected_files
    from provisioner.env.integrity import altered_files
    from provisioner.env.wheels import verified_wheels

    try:
        wheels = verified_wheels(pip_packages)
    except ProvisionError as e:  # offline with an empty store: say so, do not pass
        return 0, [f"pip: the locked wheels cannot be had to check against: {e.message}"]
    found = expected_files(prefix, python, manager, pip_packages, wheels)
    checked, altered = altered_files(found)
    return checked, [a.describe() for a in altered]


def verify(
    *,
    profile: Path | None = None,
    json_out: bool = False,
    junit: Path | None = None,
    python: Path | None = None,
    host_name: str | None = None,
) -> int:
    """Run the smoke test for ``profile``; print a summary (or the report as JSON); write
    the report (not for a ``--python`` of another environment) and JUnit if asked; 0
    pass, 1 fail."""
    import time

    from provisioner.apply.report import verify_report
    from provisioner.cli_arguments import check_output_file, profile_or_default
    from provisioner.env import env_prefix
    from provisioner.errors import ExitCode, ProvisionError
    from provisioner.profile import load_profile
    from provisioner.report.junit import write_junit
    from provisioner.report.store import write_report
    from provisioner.smoke import run_smoke
    from provisioner.smoke.junit import smoke_suite

    check_output_file(junit, "--junit")
    if python is not None and not python.is_file():  # a usage error: exit 2, before any work
        raise ProvisionError(
            f"--python {python}: no such interpreter",
            hint="pass an existing --python",
            exit_code=ExitCode.INVALID,
        )
    profile = profile_or_default(profile)
    resolved = load_profile(profile)
    interpreter = python or environment_python(profile, resolved)
    if python is None:
        checked, altered = file_check(resolved)
        if altered:
            forget_verification(resolved)
            return _altered(altered, checked, json_out)
    started = time.time()
    result = run_smoke(resolved, interpreter)
    if not result.passed and python is None:
        forget_verification(resolved)
    prefix = env_prefix(resolved.profile.environment.name)
    report = verify_report(resolved, result, prefix=prefix, started=started, host_name=host_name)
    path = write_report(report) if python is None else None
    if junit is not None:
        write_junit([smoke_suite(result, hostname=report.host.name)], junit)
    if json_out:
        print(report.to_json(), end="")
    else:
        print("\n".join(result.summary_lines()))
        if path is not None:
            print(f"report: {path}")
    return int(ExitCode.OK if result.passed else ExitCode.NOT_READY)


def _altered(altered: list[str], checked: int, json_out: bool) -> int:
    """Report altered files (the smoke test is not run on them): exit 1."""
    import json
    import sys

    from provisioner.errors import ExitCode

    head = f"{len(altered)} of {checked} installed files differ from their packages' records"
    if json_out:
        print(json.dumps({"passed": False, "summary": head, "altered": altered}, indent=2))
    else:
        print(f"FAIL: {head}:")
        print("\n".join(f"  {line}" for line in altered[:50]))
        if len(altered) > 50:
            print(f"  ... and {len(altered) - 50} more")
    print(
        "fix: `provision apply --force PROFILE` reinstalls the packages that own them",
        file=sys.stderr,
    )
    return int(ExitCode.NOT_READY)
