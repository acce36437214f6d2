"""Python interpreters and conda-family tools a host offers, found through the probe.

Sources: ``python``/``python3``/``python3.N`` in PATH folders (pyenv shim folders are
skipped: the versions they front are read from ``$PYENV_ROOT/versions``), pyenv's
version folders under the root, and the ``py -0p`` launcher list on Windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provisioner.host.parse_windows import py_launcher_interpreters
from provisioner.host.probe import Probe
from provisioner.platforms import is_windows

_PY_NAME = re.compile(r"^python(3(\.\d+)?)?$")
_PY_VERSION = re.compile(r"Python (\d+\.\d+(?:\.\d+)?)")
_PYENV_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
CONDA_TOOLS = ("conda", "mamba", "micromamba")


@dataclass(frozen=True)
class Interpreter:
    """One Python: its version, where it lives, and how it was found (path|pyenv|py)."""

    version: str
    path: str
    source: str


def path_folders(path: str, windows: bool) -> list[str]:
    sep = ";" if windows else ":"
    return [d for d in path.split(sep) if d and not d.rstrip("/\\").endswith("shims")]


def find_interpreters(probe: Probe) -> list[Interpreter]:
    """Every distinct Python interpreter version the host offers, PATH first."""
    found: list[Interpreter] = []
    seen: set[str] = set()
    windows = is_windows(probe.platform)
    if not windows:
        candidates = [
            f"{folder.rstrip('/')}/{name}"
            for folder in path_folders(probe.path, windows)
            for name in probe.host_listdir(folder) or []
            if _PY_NAME.match(name)
        ]
        probe.prefetch([(exe, "-V") for exe in candidates])
        for exe in candidates:
            if exe in seen:
                continue
            seen.add(exe)
            out = probe.command(exe, "-V")
            if out is None or out.timed_out or out.returncode != 0:
                continue
            m = _PY_VERSION.search((out.stdout + out.stderr).decode("utf-8", "replace"))
            if m:
                found.append(Interpreter(m.group(1), exe, "path"))
    pyenv_root = probe.env.get("PYENV_ROOT")
    if pyenv_root and pyenv_root.startswith("/"):
        for name in probe.listdir(f"{pyenv_root.rstrip('/')}/versions") or []:
            if _PYENV_VERSION.match(name):
                found.append(Interpreter(name, f"{pyenv_root}/versions/{name}", "pyenv"))
    if windows:
        out = probe.command("py", "-0p")
        if out is not None and not out.timed_out and out.returncode == 0:
            for version, where in py_launcher_interpreters(out.stdout.decode("utf-8", "replace")):
                found.append(Interpreter(version, where, "py"))
    return found


def conda_tools(probe: Probe) -> dict[str, str]:
    """conda/mamba/micromamba executables first on PATH: name -> path."""
    tools: dict[str, str] = {}
    for name in CONDA_TOOLS:
        where = probe.which(name)
        if where:
            tools[name] = where
    return tools


def matching(interpreters: list[Interpreter], version: str) -> list[Interpreter]:
    """The interpreters of Python ``version`` (X.Y) in the order they are tried: the one
    both ``doctor`` names and a venv is built with is the first of them that runs."""
    return [i for i in interpreters if i.version == version or i.version.startswith(f"{version}.")]


def distinct(interpreters: list[Interpreter]) -> list[tuple[Interpreter, list[str]]]:
    """Each interpreter once with the other paths that are the same file (``/usr/bin/python3``
    and ``/bin/python3.11`` through a /bin link): (first found, its other names)."""
    import os

    out: dict[tuple[str, str], tuple[Interpreter, list[str]]] = {}
    for i in interpreters:
        real = os.path.realpath(i.path) if i.source == "path" else i.path
        key = (i.version, real)
        if key in out:
            out[key][1].append(i.path)
        else:
            out[key] = (i, [])
    return list(out.values())
