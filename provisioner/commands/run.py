"""``provision run [PROFILE] -- CMD [ARG...]``: run CMD inside the profile's environment
(its folders first on PATH, VIRTUAL_ENV or CONDA_PREFIX, environment.variables) and
exit with CMD's exit code. A missing, unverified or other profile's environment is one
line with the fix (provisioner.enter)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from provisioner.cli_arguments import PROFILE_HELP
from provisioner.errors import ExitCode, ProvisionError

# A command that cannot be found: the shells' convention.
NOT_FOUND = 127


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = "provision run [-h] [PROFILE] -- CMD [ARG...]"
    p.description = (
        "Run CMD inside the profile's environment (PATH, VIRTUAL_ENV or "
        "CONDA_PREFIX, environment.variables) and exit with its exit code. "
        f"PROFILE: {PROFILE_HELP}."
    )
    p.add_argument("words", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(run=lambda a: run(*split_words(a.words)))


def split_words(words: list[str]) -> tuple[Path | None, list[str]]:
    """``[PROFILE] -- CMD [ARG...]`` as (profile, command); exit 2 without ``--`` or CMD."""
    if "--" not in words:
        raise ProvisionError(
            "no command: put it after `--`",
            hint="provision run [PROFILE] -- CMD [ARG...], e.g. provision run -- python -V",
            exit_code=ExitCode.INVALID,
        )
    cut = words.index("--")
    before, command = words[:cut], words[cut + 1 :]
    if len(before) > 1 or (before and before[0].startswith("-")):
        raise ProvisionError(
            f"unexpected {' '.join(before)!r} before `--`",
            hint="provision run [PROFILE] -- CMD [ARG...]: at most one profile before `--`",
            exit_code=ExitCode.INVALID,
        )
    if not command:
        raise ProvisionError(
            "no command after `--`",
            hint="provision run [PROFILE] -- CMD [ARG...], e.g. provision run -- python -V",
            exit_code=ExitCode.INVALID,
        )
    return (Path(before[0]) if before else None), command


def run(profile: Path | None, command: list[str]) -> int:
    """Run ``command`` inside the environment; return its exit code (128+N when a
    signal N ended it, 127 when it was not found)."""
    from provisioner.enter import activated, entered, find_command, foreground

    ready = entered(profile)
    environ = activated(ready, os.environ)
    executable = find_command(command[0], environ)
    if executable is None:
        print(
            f"provision: error: {command[0]}: command not found in environment "
            f"{ready.name} or on PATH (fix: add the package that provides it: "
            f"provision add -p PROFILE NAME)",
            file=sys.stderr,
        )
        return NOT_FOUND
    return foreground([executable, *command[1:]], environ, shown=command[0])
