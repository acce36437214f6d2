"""``provision verify PROFILE``: check every installed file of the provisioned
environment against its recorded hash, run the training smoke test in it and print
what it proved (exit 0 pass, 1 fail). An altered file fails the verify before the
smoke test runs, naming the file and its package (``apply --force`` repairs it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from provisioner.cli_arguments import (
    HOST_NAME_HELP,
    add_profile,
    check_output_file,
    profile_or_default,
)
from provisioner.errors import ExitCode, ProvisionError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Check every installed file against its package's recorded hash, then "
        "run smoke_test.py with the environment's Python: device, placement, training and "
        "speed. Exit 0 on pass, 1 on fail (a failure clears apply's verified mark)."
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


def verify(
    *,
    profile: Path | None = None,
    json_out: bool = False,
    junit: Path | None = None,
    python: Path | None = None,
    host_name: str | None = None,
) -> int:
    """Run the verify stage for ``profile`` (``apply.verify.reverify``); print a summary
    (or the report as JSON); write JUnit if asked; 0 pass, 1 fail."""
    from provisioner.apply.verify import reverify
    from provisioner.profile import load_profile

    check_output_file(junit, "--junit")
    if python is not None and not python.is_file():  # a usage error: exit 2, before any work
        raise ProvisionError(
            f"--python {python}: no such interpreter",
            hint="pass an existing --python",
            exit_code=ExitCode.INVALID,
        )
    profile = profile_or_default(profile)
    resolved = load_profile(profile)
    done = reverify(resolved, profile, python=python, host_name=host_name)
    if done.unverified:
        name = resolved.profile.environment.name
        print(
            f"note: environment {name} is no longer marked verified; the next "
            "`provision apply` checks and verifies it again",
            file=sys.stderr,
        )
    if done.result is None or done.report is None:
        return _altered(list(done.altered), done.checked, json_out)
    if junit is not None and done.result.smoke is not None:
        from provisioner.report.junit import write_junit
        from provisioner.smoke.junit import smoke_suite

        write_junit([smoke_suite(done.result.smoke, hostname=done.report.host.name)], junit)
    if json_out:
        print(done.report.to_json(), end="")
    else:
        print("\n".join(done.result.lines or (done.result.summary,)))
        if done.report_path is not None:
            print(f"report: {done.report_path}")
    if done.passed and python is None:
        print(rerun_note(resolved), file=sys.stderr)
    return int(ExitCode.OK if done.passed else ExitCode.NOT_READY)


def rerun_note(resolved: Any) -> str:
    """When the next apply runs the smoke test again, after a passing verify."""
    from provisioner.state import read_state

    state = read_state(resolved.profile.environment.name)
    if state is not None and state.phase == "verified":
        return (
            "note: apply keeps its recorded verification: it runs the smoke test again when "
            "the lock, the environment or the profile changes, or with `provision apply --force`"
        )
    return (
        "note: verify does not mark an environment verified, apply does: the next "
        "`provision apply` runs the smoke test again"
    )


def _altered(altered: list[str], checked: int, json_out: bool) -> int:
    """Report altered files (the smoke test is not run on them): exit 1."""
    import json

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
