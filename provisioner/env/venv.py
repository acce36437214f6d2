"""The ``venv`` backend: a host interpreter matching ``environment.python``, a virtual
environment made from it with ``uv venv``, and the locked pip part installed with hashes.

Interpreter discovery, in order: ``python3.X`` (and ``python3``/``python``) on PATH,
``$PYENV_ROOT/versions/X.Y.*/bin/python3.X``, and on Windows the ``py -X.Y``
launcher. Each candidate is asked for its version, because pyenv shims and Windows
Store aliases exist on PATH without a working interpreter behind them. When none
matches, the error lists what was found.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from provisioner.env import EnvDiff, env_python
from provisioner.env.pip_part import diff_pip_part, install_pip_part
from provisioner.errors import ExternalFailure, HostNotReady
from provisioner.lock import Lock
from provisioner.process import CommandFailed, run
from provisioner.uvbin import uv_executable

_VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"


@dataclass(frozen=True)
class Interpreter:
    """A working host Python: its X.Y version and the real executable path."""

    version: str
    executable: Path


def _candidates(version: str) -> Iterator[list[str]]:
    """Commands that may start a Python ``version`` (X.Y), most specific first."""
    path_dirs = os.environ.get("PATH", "").split(os.pathsep)
    for name in (f"python{version}", "python3", "python"):
        for d in path_dirs:
            exe = Path(d or ".") / name
            for cand in (exe, exe.with_suffix(".exe")):
                if cand.is_file() and os.access(cand, os.X_OK):
                    yield [str(cand)]
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    for inst in sorted(Path(root, "versions").glob(f"{version}.*"), reverse=True):
        for exe in (inst / "bin" / f"python{version}", inst / "python.exe"):
            if exe.is_file():
                yield [str(exe)]
    launcher = shutil.which("py")
    if launcher is not None:
        yield [launcher, f"-{version}"]


def probe(command: list[str]) -> Interpreter | None:
    """Ask a candidate command for its version; ``None`` when it does not run."""
    try:
        done = run([*command, "-c", _VERSION_PROBE], timeout=20, check=False)
    except (FileNotFoundError, PermissionError, OSError):
        return None
    lines = done.out.split()
    if done.returncode != 0 or len(lines) < 2:
        return None
    return Interpreter(lines[0], Path(" ".join(lines[1:])))


def find_interpreter(version: str) -> Interpreter:
    """The first host interpreter whose X.Y is ``version``; a clear error listing others."""
    seen: dict[str, str] = {}
    for command in _candidates(version):
        found = probe(command)
        if found is None:
            continue
        if found.version == version:
            return found
        seen.setdefault(str(found.executable), found.version)
    listing = ", ".join(f"{v} ({exe})" for exe, v in seen.items()) or "none"
    raise HostNotReady(
        f"no Python {version} interpreter found on PATH, under $PYENV_ROOT/versions or via "
        f"the py launcher; found: {listing}",
        hint=f"install Python {version} (e.g. `pyenv install {version}`) or use "
        "environment.manager: conda, which brings its own Python",
    )


class VenvBackend:
    """Make and check a virtual environment that matches the lock's pip part."""

    name = "venv"

    def __init__(self, python_version: str) -> None:
        self.python_version = python_version

    def python(self, prefix: Path) -> Path:
        return env_python(prefix, windows=sys.platform == "win32", manager="venv")

    def diff(self, prefix: Path, lock: Lock, platform: str) -> EnvDiff:
        packages = lock.for_platform(platform, "pip")
        python = self.python(prefix)
        if not (prefix / "pyvenv.cfg").is_file() or not python.exists():
            return EnvDiff(add=packages, exists=False)
        have = _venv_version(prefix)
        if have is not None and have != self.python_version:
            return EnvDiff(
                add=packages,
                exists=False,
                notes=(f"the venv has Python {have}, the profile wants {self.python_version}",),
            )
        return diff_pip_part(python, packages)

    def install(self, prefix: Path, lock: Lock, platform: str, *, quiet: bool = False) -> None:
        current = self.diff(prefix, lock, platform)
        if not current.exists:
            self.create(prefix)
        install_pip_part(self.python(prefix), lock.for_platform(platform, "pip"), quiet=quiet)

    def create(self, prefix: Path) -> None:
        """(Re)create an empty venv at ``prefix`` from a matching host interpreter."""
        interpreter = find_interpreter(self.python_version)
        if prefix.exists():
            shutil.rmtree(prefix)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        argv = [uv_executable(), "venv", "--no-project", "--python"]
        argv += [str(interpreter.executable), str(prefix)]
        try:
            run(argv, timeout=300)
        except CommandFailed as e:
            raise ExternalFailure(
                f"creating the venv at {prefix} failed: {e.result.tail(300)}",
                hint="check that the disk has space and the interpreter works",
            ) from e


def _venv_version(prefix: Path) -> str | None:
    """X.Y from ``pyvenv.cfg`` (``version = 3.11.7`` or uv's ``version_info``)."""
    try:
        text = (prefix / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            parts = value.strip().split(".")
            if len(parts) >= 2:
                return f"{parts[0]}.{parts[1]}"
    return None
