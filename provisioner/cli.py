"""The thin CLI: parse arguments, call one function per command, map errors to exit codes.

:data:`COMMANDS` is the light table of commands: a name and the line ``provision --help``
shows. Each command lives in ``provisioner/commands/<name>.py`` and exposes
``add_arguments(parser)``; the parser's ``run`` default takes the parsed namespace and
calls the command function with explicit keyword arguments. Only the module of the
command that runs is imported (``provision --help`` imports none), so the start-up
path stays light (``invoke bench`` measures it); to add a command, add its module and
its row here (a test fails on a module without a row, or a row without a module).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import NoReturn

from provisioner import __version__
from provisioner.crashlog import write_crash_log
from provisioner.errors import ExitCode, ProvisionError


@dataclass(frozen=True)
class Command:
    """One command as ``provision --help`` lists it; its arguments and function live in
    ``provisioner/commands/<name>.py`` (``add_arguments(parser)``), imported only when
    the command runs (or when the whole parser is asked for: completion)."""

    name: str
    help: str
    # reads every command's arguments (the completion scripts are made from them)
    whole_parser: bool = False

    @property
    def module(self) -> str:
        return f"provisioner.commands.{self.name}"


# Order is the order of `provision --help`.
COMMANDS: tuple[Command, ...] = (
    Command(
        "init",
        "write a new profile (extending a shipped one, or from environment.yml, "
        "requirements.txt or pixi.toml)",
    ),
    Command("validate", "check profiles and report every error with its line"),
    Command("show", "print the resolved profile (after extends)"),
    Command("schema", "print or write the profile JSON Schema"),
    Command("render", "write environment.yml, scripts and manifest.json"),
    Command("facts", "show the host facts checks are judged on (save/replay a snapshot)"),
    Command("doctor", "check this host against a profile; exit 0 ready, 1 not ready"),
    Command("explain", "recognise known failure signatures in a log (FILE or - for stdin)"),
    Command("lock", "solve the profile and write a conda-lock lockfile (conda part + pip part)"),
    Command("plan", "show what apply would do (checks, lock, environment, verify); no changes"),
    Command("apply", "converge this machine to the profile's environment, then verify it"),
    Command("verify", "run the training smoke test in the provisioned environment"),
    Command("run", "run a command inside the profile's environment"),
    Command("shell", "start your shell with the profile's environment activated"),
    Command("add", "add packages to a profile (edited in place) and update the lock beside it"),
    Command(
        "remove", "remove packages from a profile (edited in place) and update the lock beside it"
    ),
    Command("list", "list the packages installed in the profile's environment"),
    Command("envs", "list the environments on this machine, or remove one"),
    Command("clean", "remove cached packages, unpacked bundles and leftovers no environment uses"),
    Command("bundle", "write an offline bundle (lock, packages, tool, scripts) of a profile"),
    Command("export", "write a fleet playbook (ansible) that installs the profile's bundle"),
    Command("report", "summarise apply/verify/bootstrap reports from many hosts"),
    Command(
        "completion",
        "print a shell completion script (bash, zsh, fish, powershell)",
        whole_parser=True,
    ),
)
BY_NAME = {c.name: c for c in COMMANDS}
YOUNG_GC_THRESHOLD = 50_000  # allocations between young collections (entry())


class Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command or choice (``provision aply``);
    every subcommand's parser is one too (argparse makes them of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        import difflib
        import re

        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if m:  # choices are quoted up to Python 3.11, bare later
            choices = [c.strip().strip("'") for c in m.group(2).split(",")]
            guess = difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.6)
            what = "command" if message.startswith("argument COMMAND") else "choice"
            message = f"unknown {what} {m.group(1)!r}" + (
                f" (did you mean {guess[0]!r}?)" if guess else f" (one of: {', '.join(choices)})"
            )
        super().error(message)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """provision's parser: the arguments of ``command`` only (its module imported), or,
    when ``command`` is None, not a command, or reads the whole parser (completion),
    every command listed with its help and every command's arguments."""
    parser = Parser(
        prog="provision",
        description="Turn a YAML profile into a working, verified GPU ML environment.",
    )
    parser.add_argument("--version", action="version", version=f"provision {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log commands as they run")
    parser.set_defaults(parser=parser)  # for `provision completion`, which reads it
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    whole = command is None or (command in BY_NAME and BY_NAME[command].whole_parser)
    # A known command parses with its own parser alone (each parser argparse builds costs
    # a run ~0.2 ms); help, a mistyped command and completion list every one.
    only = command if command in BY_NAME and not whole else None
    for c in COMMANDS:
        if only is not None and c.name != only:
            continue
        p = sub.add_parser(c.name, help=c.help)
        if whole or c.name == command:
            import_module(c.module).add_arguments(p)
    return parser


def command_word(argv: Sequence[str]) -> str:
    """The command ``argv`` names: its first word that is not an option (the global
    options take no value), or "" when there is none (``--help``, a usage error)."""
    for word in argv:
        if word == "--":
            break
        if not word.startswith("-"):
            return word
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; never raises, never prints a traceback."""
    try:
        words = sys.argv[1:] if argv is None else list(argv)
        parser = build_parser(command_word(words))
        try:
            args = parser.parse_args(words)
        except SystemExit as e:  # argparse: usage error (2) or --help/--version (0)
            return int(e.code or 0)
        if args.verbose:
            import logging

            logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        run: Callable[[argparse.Namespace], int] = args.run
        return int(run(args))
    except ProvisionError as e:
        for line in e.printed():
            print(line, file=sys.stderr)
        return int(e.exit_code)
    except KeyboardInterrupt:
        print(
            "provision: interrupted (fix: run the same command again; apply rebuilds an "
            "environment it did not finish)",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:
        # The reader went away (`provision show … | head`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        # https://docs.python.org/3/library/signal.html#note-on-sigpipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(ExitCode.OK)
    except Exception as e:  # the single error boundary for bugs
        log = write_crash_log(argv)
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
        print(
            f"provision: internal error: {type(e).__name__}: {first} "
            f"(this is a bug; details in {log})",
            file=sys.stderr,
        )
        return int(ExitCode.INTERNAL)


def entry() -> None:
    """Console-script entry point.

    py-rattler can crash the interpreter at exit (SIGABRT/SIGSEGV) after it has done
    its work; when it was loaded, flush and leave with ``os._exit`` instead.

    The collector's young generation is collected every :data:`YOUNG_GC_THRESHOLD`
    allocations instead of every 700: starting a command (the imports, pydantic building
    its models' validators) leaves some 35,000 tracked objects alive, and the default
    threshold collects young objects 70 times on the way, 12 ms of a no-op apply's ~300
    (measured with ``gc.callbacks``; ``benchmarks/bench_noop.py``). Cyclic garbage is
    still collected, in bounded batches; this process's own command only, not a
    library caller's.
    """
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
    code = main()
    if "rattler" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
