"""`provision plan PROFILE [--json]`: what apply would do, step by step; changes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from provisioner.cli_arguments import (
    add_lock_mode,
    add_profile,
    lock_mode,
    profile_or_default,
    unusable_folder,
)
from provisioner.errors import HostNotReady


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_profile(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON on stdout")
    p.add_argument("--skip-checks", action="store_true", help="do not run the host checks")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_lock_mode(p)
    p.set_defaults(
        run=lambda a: plan(
            profile=a.profile,
            json_out=a.json,
            skip_checks=a.skip_checks,
            quiet=a.quiet,
            locked=a.locked,
            frozen=a.frozen,
        )
    )


def check_data_home() -> None:
    """Exit 1 now, as apply would, when ``PROVISION_HOME`` (the data folder) is unusable."""
    from provisioner.paths import data_home, envs_dir, state_dir

    for folder in (data_home(), state_dir(), envs_dir()):
        problem = unusable_folder(folder)
        if problem is not None:
            raise HostNotReady(
                f"cannot use {folder}: {problem}",
                hint=f"make sure PROVISION_HOME ({data_home()}) and the folders under it are "
                "folders you can write to, then plan again",
            )


def plan(
    *,
    profile: Path | None = None,
    json_out: bool = False,
    skip_checks: bool = False,
    quiet: bool = False,
    locked: bool = False,
    frozen: bool = False,
) -> int:
    """Print each step with its status and reason; exit 1 when a check fails. The lock
    step says which lock apply would use, update in place, or refuse."""
    from provisioner.apply.run import Options
    from provisioner.apply.workflow import converge
    from provisioner.commands.apply import progress_shown, show
    from provisioner.profile import load_profile

    resolved = load_profile(profile_or_default(profile))
    check_data_home()  # what apply will write to: "planned" must not mean "apply fails"
    mode = lock_mode(locked=locked, frozen=frozen)
    options = Options(skip_checks=skip_checks, quiet=quiet or json_out, lock_mode=mode)
    result = converge(resolved, options, change=False)
    steps = not quiet and not progress_shown(json_out)
    show(result.report, json_out=json_out, steps=steps, details=not quiet)
    if result.error is not None:
        raise result.error  # after the plan: the CLI prints its one line and exit code
    return result.exit_code
