"""``provision shell [PROFILE] [--shell NAME]``: the user's shell (bash, zsh, fish,
PowerShell) with the profile's environment activated after the user's own startup
files; ``exit`` leaves it (provisioner.enter)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from provisioner.cli_arguments import PROFILE_HELP
from provisioner.errors import ExitCode, ProvisionError


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.description = (
        "Start your shell (bash, zsh, fish, PowerShell; $SHELL, or --shell) "
        "with the profile's environment activated after your own startup files. "
        "`exit` leaves it."
    )
    s.add_argument("profile", type=Path, nargs="?", default=None, help=PROFILE_HELP)
    s.add_argument(
        "--shell",
        choices=("bash", "zsh", "fish", "powershell", "pwsh", "sh"),
        help="the shell to start (default: $SHELL; PowerShell on Windows)",
    )
    s.set_defaults(run=lambda a: shell(profile=a.profile, shell_name=a.shell))


def shell(*, profile: Path | None = None, shell_name: str | None = None) -> int:
    """Start the user's shell with the environment activated; return its exit code."""
    import shutil
    import tempfile

    from provisioner.enter import entered, foreground, shell_command, shell_kind, user_shell

    ready = entered(profile)
    if shell_name:
        kind = shell_kind(shell_name)
        executable = shutil.which(shell_name) or shutil.which(kind)
        if executable is None:
            raise ProvisionError(
                f"--shell {shell_name}: not found on PATH",
                hint="install it, or leave --shell out to use $SHELL",
                exit_code=ExitCode.INVALID,
            )
    else:
        kind, executable = user_shell(os.environ)
    with tempfile.TemporaryDirectory(prefix="provision-shell-") as tmp:
        launch = shell_command(ready, kind, executable, os.environ, Path(tmp))
        for path, text in launch.files:
            path.write_text(text, encoding="utf-8")
        print(
            f"entering environment {ready.name} ({ready.prefix}); `exit` leaves it", file=sys.stderr
        )
        return foreground(launch.argv, launch.environ, shown=executable)
