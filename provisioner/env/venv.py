"""The ``venv`` backend: a host interpreter matching ``environment.python``, a virtual
environment made from it with ``uv venv``, and the locked pip part installed with hashes.

The candidates come from the host probe (:func:`provisioner.host.interpreters.find_interpreters`,
the same discovery ``provision doctor`` judges ``python.available`` by): PATH first,
then ``$PYENV_ROOT/versions``, then on Windows the ``py`` launcher. Each candidate of
version X.Y is then asked for its version and real executable, because a file can
report one version to ``-V`` and still not start (a broken install). When none
matches, the error lists what was found.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from provisioner.env import EnvDiff, env_python
from provisioner.env.pip_part import diff_pip_part, install_pip_part
from provisioner.errors import ExternalFailure, HostNotReady
from provisioner.host.interpreters import find_interpreters, matching
from provisioner.host.probe import Probe
from provisioner.lock import Lock
from provisioner.platforms import is_windows
from provisioner.process import CommandFailed, run
from provisioner.uvbin import uv_executable

_VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"


@dataclass(frozen=True)
class Interpreter:
    """A working host Python: its X.Y version and the real executable path."""

    version: str
    executable: Path


def _candidates(host: Probe, version: str) -> Iterator[list[str]]:
    """Commands that may start Python ``version`` (X.Y), in the probe's order."""
    windows = is_windows(host.platform)
    for found in matching(find_interpreters(host), version):  # doctor names the first too
        if found.source == "pyenv":
            folder = found.path.rstrip("/")
            yield [f"{folder}/python.exe" if windows else f"{folder}/bin/python{version}"]
        else:  # a PATH executable, or the path ``py -0p`` lists for that version
            yield [found.path]


def ask_version(command: list[str]) -> Interpreter | None:
    """Ask a candidate command for its version; ``None`` when it does not run."""
    try:
        done = run([*command, "-c", _VERSION_PROBE], timeout=20, check=False)
    except (FileNotFoundError, PermissionError, OSError):
        return None
    # One line each: X.Y, then the executable (whose path may hold any spaces).
    lines = [line.rstrip("\r") for line in done.out.splitlines() if line.strip()]
    if done.returncode != 0 or len(lines) < 2:
        return None
    return Interpreter(lines[0].strip(), Path(lines[1]))


def find_interpreter(version: str, host: Probe | None = None) -> Interpreter:
    """The first host interpreter whose X.Y is ``version``; a clear error listing others.

    ``host`` defaults to a live probe of this machine (as ``provision doctor`` uses)."""
    host = host if host is not None else Probe()
    seen: dict[str, str] = {}
    for command in _candidates(host, version):
        found = ask_version(command)
        if found is None:
            continue
        if found.version == version:
            return found
        seen.setdefault(str(found.executable), found.version)
    for other in find_interpreters(host):  # cached by the probe: no second run
        seen.setdefault(other.path, other.version)
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
        return env_python(prefix, windows=is_windows(), manager="venv")

    def diff(self, prefix: Path, lock: Lock, platform: str, *, files: bool = False) -> EnvDiff:
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
        # Everything in a venv is the pip part's.
        return diff_pip_part(python, packages, owns_all=True, files=files)

    def install(
        self,
        prefix: Path,
        lock: Lock,
        platform: str,
        *,
        diff: EnvDiff | None = None,
        quiet: bool = False,
        offline: bool = False,
    ) -> None:
        current = diff if diff is not None else self.diff(prefix, lock, platform)
        packages = lock.for_platform(platform, "pip")
        if not current.exists:
            self.create(prefix)
            current = EnvDiff(add=packages, exists=False)  # an empty venv: all of it
        python = self.python(prefix)
        install_pip_part(
            python, packages, quiet=quiet, owns_all=True, current=current, offline=offline
        )

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
        seed_pip(self.python(prefix))


def seed_pip(python: Path) -> bool:
    """Install pip into the venv from the interpreter's own bundled wheel (``ensurepip``:
    offline, as ``python -m venv`` does), so ``pip install`` in the activated environment
    installs there and not into a global Python. An interpreter without ensurepip
    (Debian's, without python3-venv) gets none: said once on stderr, not an error."""
    import sys

    done = run([str(python), "-m", "ensurepip", "--default-pip"], timeout=300, check=False)
    if done.returncode == 0 and not done.timed_out:
        return True
    print(
        f"provision: note: {python} has no ensurepip, so the environment has no pip "
        "(Debian/Ubuntu: apt install python3-venv); `uv pip install --python "
        f"{python} ...` installs into it",
        file=sys.stderr,
    )
    return False


def _venv_version(prefix: Path) -> str | None:
    """X.Y from ``pyvenv.cfg`` (``version = 3.11.7`` or uv's ``version_info``)."""
    try:
        text = (prefix / "pyvenv.cfg").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # unknown: the pip part's diff decides
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            parts = value.strip().split(".")
            if len(parts) >= 2:
                return f"{parts[0]}.{parts[1]}"
    return None
