"""Entering an environment: ``provision run`` and ``provision shell``.

:func:`ready_environment` finds a profile's environment and refuses, in one line with
the fix, one that is missing, not verified, or another profile's. :func:`activated`
is the process environment a command gets inside it, as activation gives it: the
environment's executable folders first on ``PATH``, ``VIRTUAL_ENV`` (venv) or
``CONDA_PREFIX``/``CONDA_DEFAULT_ENV`` (conda), ``PYTHONHOME`` unset, and the profile's
``environment.variables``. :func:`shell_command` starts the user's shell (bash, zsh,
fish, PowerShell; others get ``sh``) with the environment's own activation run after
the user's startup files, so a ``PATH`` the startup files set (pyenv, conda init)
cannot hide it.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import HostNotReady
from provisioner.platforms import is_windows
from provisioner.profile import ResolvedProfile, default_profile_path, load_profile

SHELLS = ("bash", "zsh", "fish", "powershell", "sh")


@dataclass(frozen=True)
class Ready:
    """A verified environment to enter: its name, prefix, manager and profile."""

    name: str
    prefix: Path
    manager: str
    variables: Mapping[str, str]
    note: str = ""  # said on stderr before entering (a profile changed since apply)


def ready_environment(resolved: ResolvedProfile, shown: str) -> Ready:
    """The profile's environment if it exists and its last apply verified it; else a
    one-line error saying what to run (``shown``: the profile as the user named it)."""
    from provisioner.apply.ownership import check_owner
    from provisioner.env import env_prefix, env_python
    from provisioner.state import read_state

    env = resolved.profile.environment
    prefix = env_prefix(env.name)
    state = read_state(env.name)
    check_owner(resolved, state)
    python = env_python(prefix, windows=is_windows(), manager=env.manager.value)
    apply = f"provision apply {shown}".rstrip()
    if not python.exists():
        raise HostNotReady(
            f"environment {env.name} not found at {prefix}", hint=f"run `{apply}` to build it"
        )
    if state is None or state.prefix != str(prefix) or state.phase != "verified":
        phase = "not recorded" if state is None else state.phase
        raise HostNotReady(
            f"environment {env.name} at {prefix} is not verified (state: {phase})",
            hint=f"run `{apply}`: it finishes the build and verifies it",
        )
    note = ""
    if state.profile_hash and state.profile_hash != resolved.content_hash:
        note = (
            f"note: {shown or 'the profile'} changed since environment {env.name} was "
            f"applied; `{apply}` updates it"
        )
    return Ready(env.name, prefix, env.manager.value, dict(env.variables), note)


def bin_dirs(prefix: Path, manager: str, *, windows: bool) -> list[Path]:
    """The folders activation puts first on PATH, in order."""
    if not windows:
        return [prefix / "bin"]
    if manager == "venv":
        return [prefix / "Scripts"]
    library = prefix / "Library"
    return [
        prefix,
        library / "mingw-w64" / "bin",
        library / "usr" / "bin",
        library / "bin",
        prefix / "Scripts",
        prefix / "bin",
    ]


def activated(
    ready: Ready, base: Mapping[str, str], *, windows: bool | None = None
) -> dict[str, str]:
    """``base`` (the caller's environment) as it is inside the environment."""
    windows = is_windows() if windows is None else windows
    out = dict(base)
    out.pop("PYTHONHOME", None)
    path_key = next((k for k in out if k.upper() == "PATH"), "PATH")
    folders = [str(d) for d in bin_dirs(ready.prefix, ready.manager, windows=windows)]
    out[path_key] = os.pathsep.join([*folders, out.get(path_key, "")]).rstrip(os.pathsep)
    if ready.manager == "venv":
        out["VIRTUAL_ENV"] = str(ready.prefix)
        out.pop("CONDA_PREFIX", None)
    else:
        out["CONDA_PREFIX"] = str(ready.prefix)
        out["CONDA_DEFAULT_ENV"] = ready.name
        out.pop("VIRTUAL_ENV", None)
    out.update(ready.variables)
    return out


def find_command(command: str, environ: Mapping[str, str]) -> str | None:
    """``command`` resolved on the entered ``PATH`` (a path with a separator as it is)."""
    if os.sep in command or (os.altsep and os.altsep in command):
        return command if Path(command).exists() else None
    path_key = next((k for k in environ if k.upper() == "PATH"), "PATH")
    return shutil.which(command, path=environ.get(path_key, ""))


def user_shell(environ: Mapping[str, str], *, windows: bool | None = None) -> tuple[str, str]:
    """(kind, executable) of the user's shell: ``$SHELL`` on POSIX (bash, zsh, fish; any
    other is run as ``sh``), PowerShell on Windows (pwsh when present)."""
    windows = is_windows() if windows is None else windows
    if windows:
        exe = shutil.which("pwsh") or shutil.which("powershell") or "powershell.exe"
        return "powershell", exe
    shell = environ.get("SHELL") or "/bin/sh"
    name = Path(shell).name
    if name in ("pwsh", "powershell"):
        return "powershell", shell
    return (name if name in ("bash", "zsh", "fish") else "sh"), shell


def shell_kind(name: str) -> str:
    """The kind of a shell named on the command line (``--shell``)."""
    base = Path(name).name.removesuffix(".exe")
    return "powershell" if base in ("pwsh", "powershell") else base


@dataclass(frozen=True)
class ShellLaunch:
    """How to start an activated shell: argv, environment, and files to write first
    (an rc file the shell reads), each ``(path, text)``."""

    argv: list[str]
    environ: dict[str, str]
    files: tuple[tuple[Path, str], ...] = ()


def shell_command(
    ready: Ready, kind: str, executable: str, base: Mapping[str, str], workdir: Path
) -> ShellLaunch:
    """The user's shell of ``kind``, activated: the user's startup files first, then the
    environment's activation (``workdir`` holds the small rc file some shells need)."""
    environ = activated(ready, base)
    environ["PROVISION_ENV"] = ready.name
    sets = _exports(ready, environ)
    prompt = f"({ready.name}) "
    if kind == "bash":
        rc = workdir / "bashrc"
        text = (
            '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n'
            + sets
            + f'PS1={shlex.quote(prompt)}"$PS1"\n'
        )
        return ShellLaunch([executable, "--rcfile", str(rc), "-i"], environ, ((rc, text),))
    if kind == "zsh":
        home = base.get("ZDOTDIR") or base.get("HOME") or str(Path.home())
        rc = workdir / ".zshrc"
        text = (
            f"ZDOTDIR={shlex.quote(home)}\n"
            '[ -f "$ZDOTDIR/.zshrc" ] && . "$ZDOTDIR/.zshrc"\n'
            + sets
            + f'PS1={shlex.quote(prompt)}"$PS1"\n'
        )
        environ["ZDOTDIR"] = str(workdir)
        return ShellLaunch([executable, "-i"], environ, ((rc, text),))
    if kind == "fish":
        init = "; ".join(_fish_sets(ready, environ))
        return ShellLaunch([executable, "-i", "-C", init], environ)
    if kind == "powershell":
        init = "; ".join(_powershell_sets(ready, environ))
        init += f"; function global:prompt {{ '{prompt}PS ' + (Get-Location) + '> ' }}"
        return ShellLaunch([executable, "-NoExit", "-NoLogo", "-Command", init], environ)
    rc = workdir / "shrc"
    environ["ENV"] = str(rc)  # what an interactive POSIX sh reads
    return ShellLaunch([executable, "-i"], environ, ((rc, sets + f"PS1={shlex.quote(prompt)}\n"),))


def _changed(ready: Ready, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    path_key = next((k for k in environ if k.upper() == "PATH"), "PATH")
    keys = [path_key, "VIRTUAL_ENV" if ready.manager == "venv" else "CONDA_PREFIX"]
    if ready.manager != "venv":
        keys.append("CONDA_DEFAULT_ENV")
    keys += list(ready.variables)
    return [(k, environ[k]) for k in keys if k in environ]


def _exports(ready: Ready, environ: Mapping[str, str]) -> str:
    """POSIX-shell lines that set the entered environment again after the user's rc files
    (which may put pyenv or conda first on PATH)."""
    lines = [f"export {k}={shlex.quote(v)}" for k, v in _changed(ready, environ)]
    lines.append("unset PYTHONHOME")
    return "\n".join(lines) + "\n"


def _fish_sets(ready: Ready, environ: Mapping[str, str]) -> list[str]:
    out = []
    for key, value in _changed(ready, environ):
        if key == "PATH":
            parts = " ".join(shlex.quote(p) for p in value.split(os.pathsep) if p)
            out.append(f"set -gx PATH {parts}")
        else:
            out.append(f"set -gx {key} {shlex.quote(value)}")
    return out


def _powershell_sets(ready: Ready, environ: Mapping[str, str]) -> list[str]:
    def quoted(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return [f"$env:{key} = {quoted(value)}" for key, value in _changed(ready, environ)]


def entered(profile: Path | None) -> Ready:
    """The ready environment of ``profile`` (default: the embedded one); its note, if
    any, said on stderr."""
    import sys

    resolved = load_profile(profile if profile is not None else default_profile_path())
    ready = ready_environment(resolved, str(profile) if profile is not None else "")
    if ready.note:
        print(ready.note, file=sys.stderr)
    return ready


def foreground(argv: list[str], environ: Mapping[str, str], *, shown: str) -> int:
    """Run ``argv`` in the foreground with ``environ``; Ctrl-C goes to it (we wait), and
    its exit code comes back (128+N when signal N ended it, 126 when it cannot start).
    Not :mod:`provisioner.process`: nothing is captured, there is no time limit."""
    import signal
    import subprocess
    import sys

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child gets the terminal's
    try:
        try:
            child = subprocess.Popen(argv, env=environ)
        except PermissionError:
            print(f"provision: error: {shown}: not executable", file=sys.stderr)
            return 126
        except OSError as e:
            print(f"provision: error: {shown}: cannot start: {e.strerror}", file=sys.stderr)
            return 126
        code = child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - code if code < 0 else code
