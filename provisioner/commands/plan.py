"""`provision plan PROFILE [--json]`: what apply would do, step by step; changes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from provisioner.cli_arguments import add_profile, profile_or_default
from provisioner.commands.apply import add_lock_mode, lock_mode


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "plan", help="show what apply would do (checks, lock, environment, verify); no changes"
    )
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
    mode = lock_mode(locked=locked, frozen=frozen)
    options = Options(skip_checks=skip_checks, quiet=quiet or json_out, lock_mode=mode)
    result = converge(resolved, options, change=False)
    show(result.report, json_out=json_out, steps=not quiet and not progress_shown(json_out))
    if result.error is not None:
        raise result.error  # after the plan: the CLI prints its one line and exit code
    return result.exit_code
