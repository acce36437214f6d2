"""The thin CLI: parse arguments, call one function per command, map errors to exit codes.

Each command lives in ``provisioner/commands/<name>.py`` and exposes
``add_parser(subparsers)``; the parser's ``run`` default takes the parsed
namespace and calls the command function with explicit keyword arguments. To add
a command, import its module here and list it in :data:`COMMANDS` (an import
error is never skipped: a renamed module fails at start-up, not silently).
Command modules import their heavy dependencies inside the function, so the
start-up path stays light (``invoke bench`` measures it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NoReturn

from provisioner import __version__
from provisioner.commands import (
    add,
    apply,
    bundle,
    clean,
    completion,
    doctor,
    envs,
    explain,
    export,
    facts,
    init,
    lock,
    plan,
    remove,
    render,
    report,
    run,
    schema,
    shell,
    show,
    validate,
    verify,
)
from provisioner.commands import list as list_  # the module's name is the command's
from provisioner.crashlog import write_crash_log
from provisioner.errors import ExitCode, ProvisionError

# Order is the order of `provision --help`.
COMMANDS: tuple[ModuleType, ...] = (
    init,
    validate,
    show,
    schema,
    render,
    facts,
    doctor,
    explain,
    lock,
    plan,
    apply,
    verify,
    run,
    shell,
    add,
    remove,
    list_,
    envs,
    clean,
    bundle,
    export,
    report,
    completion,
)


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


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="provision",
        description="Turn a YAML profile into a working, verified GPU ML environment.",
    )
    parser.add_argument("--version", action="version", version=f"provision {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log commands as they run")
    parser.set_defaults(parser=parser)  # for `provision completion`, which reads it
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; never raises, never prints a traceback."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
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
    """
    code = main()
    if "rattler" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
