"""Shell completion scripts for ``provision``, generated from the argparse parser.

:func:`spec` reads the parser once: every command (and ``envs``' actions), its options,
which options take a value and their choices, and whether it takes a profile or file.
Each shell gets that as data in its own script: bash (a ``complete -F`` function), zsh
(the same function through ``bashcompinit``), fish (``complete -c provision`` lines) and
PowerShell (``Register-ArgumentCompleter -Native``). A new command or option appears in
every script without touching this module.
"""

from __future__ import annotations

import argparse
import json
import shlex
from dataclasses import dataclass, field

SHELLS = ("bash", "zsh", "fish", "powershell")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    files: bool  # takes a profile or another file as a positional argument
    actions: tuple[str, ...] = ()  # sub-actions (envs remove)


@dataclass(frozen=True)
class Spec:
    global_options: tuple[Option, ...]
    commands: tuple[Command, ...] = field(default=())


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    out = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        choices = tuple(str(c) for c in action.choices) if action.choices else ()
        out.append(
            Option(
                tuple(action.option_strings),
                " ".join((action.help or "").split()),
                action.nargs != 0,
                choices,
            )
        )
    return tuple(out)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: " ".join((a.help or "").split()) for a in action._choices_actions}
    return {}


def spec(parser: argparse.ArgumentParser) -> Spec:
    """What completion needs to know, read from ``parser`` (provision's own)."""
    helps = _helps(parser)
    commands = []
    for name, sub in _subparsers(parser).items():
        positional = [a for a in sub._actions if not a.option_strings and a.dest != "help"]
        plain = [a for a in positional if not isinstance(a, argparse._SubParsersAction)]
        words = tuple(str(c) for a in plain if a.choices for c in a.choices)
        files = any(not a.choices for a in plain)
        actions = (*_subparsers(sub), *words)  # envs' actions, completion's shells
        commands.append(Command(name, helps.get(name, ""), _options(sub), files, actions))
    return Spec(_options(parser), tuple(commands))


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    s = spec(parser)
    return {"bash": bash, "zsh": zsh, "fish": fish, "powershell": powershell}[shell](s)


def _words(options: tuple[Option, ...]) -> str:
    return " ".join(f for o in options for f in o.flags)


def _bash_case(c: Command) -> list[str]:
    """One ``case`` branch: option values (choices, else files), options, then arguments."""
    lines = [f"    {c.name})", '      case "$prev" in']
    for o in c.options:
        if o.choices:
            words = shlex.quote(" ".join(o.choices))
            lines.append(f"        {'|'.join(o.flags)}) _provision_words {words}; return ;;")
    files = [f for o in c.options if o.takes_value and not o.choices for f in o.flags]
    if files:
        lines.append(f"        {'|'.join(files)}) _provision_files; return ;;")
    lines.append("      esac")
    options = shlex.quote(_words(c.options))
    lines.append(f"      if [[ $cur == -* ]]; then _provision_words {options}; return; fi")
    if c.actions:
        lines.append(f"      _provision_words {shlex.quote(' '.join(c.actions))}")
    elif c.files:
        lines.append("      _provision_files")
    lines.append("      ;;")
    return lines


def bash(s: Spec) -> str:
    commands = " ".join(c.name for c in s.commands)
    top = shlex.quote(f"{commands} {_words(s.global_options)}")
    cases = [line for c in s.commands for line in _bash_case(c)]
    body = "\n".join(cases)
    return f"""\
# bash completion for provision (`provision completion bash`), generated from its parser.
# Load it: source <(provision completion bash), or save it as
# ~/.local/share/bash-completion/completions/provision
_provision_words() {{ COMPREPLY=($(compgen -W "$1" -- "$cur")); }}
_provision_files() {{ COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; }}
_provision() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} cmd= i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${{COMP_WORDS[i]}} in -*) ;; *) cmd=${{COMP_WORDS[i]}}; break ;; esac
  done
  if [[ -z $cmd ]]; then _provision_words {top}; return; fi
  case $cmd in
{body}
  esac
}}
complete -F _provision provision
"""


def zsh(s: Spec) -> str:
    return (
        "# zsh completion for provision (`provision completion zsh`): the bash completion\n"
        "# through zsh's bashcompinit. Load it in ~/.zshrc: source <(provision completion zsh)\n"
        "autoload -U +X compinit && compinit -u\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash(s).split("\n", 3)[3]
    )


def fish(s: Spec) -> str:
    q = json.dumps  # a fish single-word string with escapes: use double quotes via JSON
    names = " ".join(c.name for c in s.commands)
    lines = [
        "# fish completion for provision (`provision completion fish`), generated from its",
        "# parser. Save it as ~/.config/fish/completions/provision.fish",
        "complete -c provision -f",
    ]
    for c in s.commands:
        lines.append(
            f"complete -c provision -n {q('not __fish_seen_subcommand_from ' + names)} "
            f"-a {c.name} -d {q(c.help)}"
        )
    for c in s.commands:
        cond = q(f"__fish_seen_subcommand_from {c.name}")
        if c.files:
            lines.append(f"complete -c provision -n {cond} -F")
        for action in c.actions:
            lines.append(f"complete -c provision -n {cond} -a {action}")
        for o in c.options:
            parts = []
            for flag in o.flags:
                parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
            value = ""
            if o.choices:
                value = f" -x -a {q(' '.join(o.choices))}"
            elif o.takes_value:
                value = " -r -F"
            flags = " ".join(parts)
            lines.append(f"complete -c provision -n {cond} {flags}{value} -d {q(o.help[:80])}")
    return "\n".join(lines) + "\n"


def powershell(s: Spec) -> str:
    def ps(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    table = []
    for c in s.commands:
        flags = ", ".join(ps(f) for f in [*c.actions, *(f for o in c.options for f in o.flags)])
        table.append(f"    {ps(c.name)} = @({flags})")
    commands = ", ".join(ps(c.name) for c in s.commands)
    return f"""\
# PowerShell completion for provision (`provision completion powershell`), generated from
# its parser. Load it: provision completion powershell | Out-String | Invoke-Expression
# (or add that line to $PROFILE).
$ProvisionCommands = @({commands})
$ProvisionOptions = @{{
{chr(10).join(table)}
}}
Register-ArgumentCompleter -Native -CommandName provision -ScriptBlock {{
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | ForEach-Object {{ $_.ToString() }})
    $command = $words | Select-Object -Skip 1 | Where-Object {{ $_ -notlike '-*' }} |
        Select-Object -First 1
    if (-not $command -or ($command -eq $wordToComplete -and $words.Count -le 2)) {{
        $candidates = $ProvisionCommands
    }} elseif ($wordToComplete -like '-*') {{
        $candidates = $ProvisionOptions[$command]
    }} else {{
        return
    }}
    $candidates | Where-Object {{ $_ -like "$wordToComplete*" }} | ForEach-Object {{
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }}
}}
"""
