"""`provision apply [PROFILE]`: check the host, lock, create or update the environment,
verify it, record state and write a report. A second run on a converged machine
changes nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.cli_arguments import (
    HOST_NAME_HELP,
    add_lock_mode,
    check_output_file,
    lock_mode,
    profile_or_default,
)

if TYPE_CHECKING:
    from provisioner.report.model import Report


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "profile",
        type=Path,
        nargs="?",
        default=None,
        help="profile YAML file (default: the built-in default profile)",
    )
    p.add_argument("--dry-run", action="store_true", help="only check; change nothing")
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="do not ask (apply never asks; accepted for scripts)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    p.add_argument(
        "--skip-checks", action="store_true", help="apply even when the host checks fail"
    )
    p.add_argument(
        "--verify",
        choices=("smoke", "import"),
        default="smoke",
        help="smoke: the training smoke test (default); import: only import the "
        "framework (for images built without their GPU)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="ignore the recorded state: compare every package with the lock and run the "
        "smoke test again",
    )
    add_lock_mode(p)
    p.add_argument("--host-name", metavar="NAME", help=HOST_NAME_HELP)
    p.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress output (also when CI=true or not a terminal)",
    )
    p.set_defaults(
        run=lambda a: apply(
            profile=a.profile,
            dry_run=a.dry_run,
            json_out=a.json,
            junit=a.junit,
            skip_checks=a.skip_checks,
            verify=a.verify,
            quiet=a.quiet,
            force=a.force,
            locked=a.locked,
            frozen=a.frozen,
            host_name=a.host_name,
        )
    )


def apply(
    *,
    profile: Path | None = None,
    dry_run: bool = False,
    json_out: bool = False,
    junit: Path | None = None,
    skip_checks: bool = False,
    verify: str = "smoke",
    quiet: bool = False,
    force: bool = False,
    locked: bool = False,
    frozen: bool = False,
    host_name: str | None = None,
) -> int:
    """Converge, print the outcome (or the report as JSON), write JUnit if asked; when a
    step raised, print and write those first, then raise its error."""
    from provisioner.apply import drift
    from provisioner.paths import default_profile_path

    check_output_file(junit, "--junit")  # before any work: a typo is exit 2 now
    # The stat scan of the drift check, started before provision's heaviest imports
    # from the hint of the environment this profile converged last (apply/drift.py).
    scan = None if force else drift.start_early_scan(profile or default_profile_path())
    try:
        from provisioner.apply.run import Options
        from provisioner.apply.workflow import converge
        from provisioner.profile import load_profile
        from provisioner.state import recorded_validation_key

        # The compatibility rules run unless the last verified apply recorded their
        # verdict for this very profile, data and provision (profile/validation_key.py).
        resolved = load_profile(profile_or_default(profile), recorded=recorded_validation_key)
        options = Options(
            dry_run=dry_run,
            skip_checks=skip_checks,
            quiet=quiet or json_out,
            verify=verify,
            force=force,
            lock_mode=lock_mode(locked=locked, frozen=frozen),
        )
        early, scan = scan, None  # converge uses it or stops it
        result = converge(resolved, options, change=not dry_run, host_name=host_name, scan=early)
    finally:
        if scan is not None:  # the profile did not load
            scan.close()
    if junit is not None:  # JUnit only when asked: a no-op apply does not load it
        from provisioner.apply.junit import write_junit

        write_junit(result.report, junit)
    # --quiet: no step lines at all (neither as progress nor in the summary)
    steps = not quiet and not progress_shown(json_out)
    show(result.report, json_out=json_out, steps=steps, details=not quiet)
    if result.exit_code == 0 and not dry_run and not json_out:
        print(enter_hint(profile))
    if result.report_path is not None and not json_out:
        print(f"report: {result.report_path}")
    if result.error is not None:
        raise result.error  # after the report: the CLI prints its one line and exit code
    return result.exit_code


def enter_hint(profile: Path | None) -> str:
    """The line after every apply that says how to enter the environment."""
    import shlex

    target = f" {shlex.quote(str(profile))}" if profile is not None else ""
    return f"enter it: provision shell{target}  (or: provision run{target} -- CMD)"


def progress_shown(quiet: bool) -> bool:
    """Whether the step lines already went to the terminal as progress (stderr)."""
    from provisioner.apply.progress import want_quiet

    return not want_quiet(quiet)


def show(report: Report, *, json_out: bool, steps: bool = True, details: bool = True) -> None:
    """The report as JSON, or one line per step (unless progress showed them) and the
    result."""
    if json_out:
        sys.stdout.write(report.to_json())
        return
    for s in report.steps if steps else ():
        # A failure's reason is said once, on stderr (the error line, or the step's own
        # line when progress is not on a terminal): not again here.
        reason = "(the reason is on stderr)" if s.status == "fail" else s.reason
        print(f"{s.name:<12} {s.status:<8} {reason}")
    if details and report.mode in ("plan", "dry-run"):  # --quiet: the result line only
        for line in package_lines(report):
            print(line)
    if report.verify is not None and not report.verify.cached:
        for line in report.verify.lines[1:]:  # the first line is the verify step's reason
            print(line)
    print(f"result: {report.result} ({report.duration_s:.2f}s)")


SHOWN_PACKAGES = 60


def package_lines(report: Report) -> list[str]:
    """What a plan would do to the packages: ``+`` add, ``~`` change, ``-`` remove."""
    env = report.environment
    step = next((s for s in report.steps if s.name == "environment"), None)
    if env is None or step is None or step.status != "change":
        return []
    if env.diff is None:
        return ["packages: shown once a lock exists (`provision lock PROFILE`, then plan again)"]
    lines = [f"  + {spec}" for spec in env.diff.get("add", [])]
    lines += [f"  ~ {c['from']} -> {c['to']}" for c in env.diff.get("change", [])]
    lines += [f"  - {name}" for name in env.diff.get("remove", [])]
    if not lines:
        return []
    more = len(lines) - SHOWN_PACKAGES
    shown = lines[:SHOWN_PACKAGES] + (
        [f"  ... and {more} more (--json lists them)"] if more > 0 else []
    )
    return ["packages:", *shown]
