"""``provision completion bash|zsh|fish|powershell``: print the shell's completion script,
generated from provision's own argument parser (provisioner.cli_completion)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Print the completion script for SHELL. bash: source <(provision "
        "completion bash); zsh: the same in ~/.zshrc; fish: provision completion fish > "
        "~/.config/fish/completions/provision.fish; PowerShell: provision completion "
        "powershell | Out-String | Invoke-Expression."
    )
    p.add_argument("shell", choices=("bash", "zsh", "fish", "powershell"), help="the shell")
    # ``parser``: the whole CLI's parser, which cli.build_parser puts on every namespace
    # (a command never imports the CLI).
    p.set_defaults(run=lambda a: completion(shell=a.shell, parser=a.parser))


def completion(*, shell: str, parser: argparse.ArgumentParser) -> int:
    from provisioner.cli_completion import script

    print(script(shell, parser), end="")
    return 0
