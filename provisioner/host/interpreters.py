"""Python interpreters and conda-family tools a host offers, found through the probe.

Sources: ``python``/``python3``/``python3.N`` in PATH folders (pyenv shim folders are
skipped: the versions they front are read from ``$PYENV_ROOT/versions``), then pyenv's
version folders under the root. On Windows, where the bootstrap scripts look and in
their order (check.ps1 does the same, tests/checks/test_python_discovery_parity.py):
the 64-bit CPythons the ``py -0p`` launcher list names, then ``python.exe`` on PATH
(not the Microsoft Store's alias) and in the python.org installer's folders, each asked
what it is (:data:`~provisioner.host.patterns.PYTHON_PROBE`: a 64-bit interpreter only),
each interpreter once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from provisioner.host import patterns
from provisioner.host.probe import Probe
from provisioner.platforms import is_windows

_PY_NAME = re.compile(r"^python(3(\.\d+)?)?$")
_PY_VERSION = re.compile(r"Python (\d+\.\d+(?:\.\d+)?)")
_PYENV_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
CONDA_TOOLS = ("conda", "mamba", "micromamba")


@dataclass(frozen=True)
class Interpreter:
    """One Python: its version, where it lives, and how it was found: ``path`` (PATH),
    ``pyenv``, ``py`` (the launcher's list) or ``folder`` (the python.org installer's
    folders on Windows)."""

    version: str
    path: str
    source: str


def path_folders(path: str, windows: bool) -> list[str]:
    sep = ";" if windows else ":"
    return [d for d in path.split(sep) if d and not d.rstrip("/\\").endswith("shims")]


def find_interpreters(probe: Probe) -> list[Interpreter]:
    """Every Python interpreter the host offers: on Windows the launcher's list, PATH and
    the python.org folders (:func:`windows_interpreters`), elsewhere PATH; then pyenv's."""
    windows = is_windows(probe.platform)
    found: list[Interpreter] = windows_interpreters(probe) if windows else []
    seen: set[str] = set()
    if not windows:
        candidates = [
            f"{folder.rstrip('/')}/{name}"
            for folder in path_folders(probe.path, windows)
            for name in probe.host_listdir(folder) or []
            if _PY_NAME.match(name)
        ]
        # An interpreter's version is a property of its file: answers are kept between
        # runs per file (host/program_cache.py), so a no-op apply runs none of them.
        probe.prefetch([(exe, "-V") for exe in candidates], stable=True)
        for exe in candidates:
            if exe in seen:
                continue
            seen.add(exe)
            out = probe.command(exe, "-V", stable=True)
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
    return found


def _win_join(folder: str, name: str) -> str:
    """``folder\\name`` (``folder/name`` for a POSIX-style folder: a stand-in host)."""
    sep = "/" if "/" in folder and "\\" not in folder else "\\"
    return folder.rstrip(sep) + sep + name.replace("\\", sep)


def windows_interpreters(probe: Probe) -> list[Interpreter]:
    """The 64-bit CPythons of a Windows host, in the bootstrap scripts' order."""
    from provisioner.host.parse_windows import py_launcher_interpreters  # Windows only

    found: list[Interpreter] = []
    seen: set[str] = set()  # paths, case-insensitive, as Windows compares them
    out = probe.command("py", "-0p")
    if out is not None and not out.timed_out and out.returncode == 0:
        for version, where in py_launcher_interpreters(out.stdout.decode("utf-8", "replace")):
            if where.lower() not in seen:
                seen.add(where.lower())
                found.append(Interpreter(version, where, "py"))
    local = probe.env.get("LOCALAPPDATA", "")
    store = _win_join(local, patterns.STORE_ALIAS_DIR) if local else ""
    candidates: list[tuple[str, str]] = []
    for folder in probe.path.split(";"):
        folder = folder.rstrip("\\")
        if not folder or (store and _under(folder, store)):
            continue
        if _names(probe, folder, _is_python_exe):
            candidates.append((_win_join(folder, "python.exe"), "path"))
    roots = [_win_join(local, patterns.PYTHON_ORG_USER_DIR)] if local else []
    roots += [probe.env["PROGRAMFILES"].rstrip("\\")] if probe.env.get("PROGRAMFILES") else []
    folder_name = re.compile(patterns.PYTHON_ORG_FOLDER)
    for root in roots:
        for name in _names(probe, root, folder_name.match):
            exe = _win_join(_win_join(root, name), "python.exe")
            if _names(probe, _win_join(root, name), _is_python_exe):
                candidates.append((exe, "folder"))
    todo = [(exe, how) for exe, how in candidates if exe.lower() not in seen]
    probe.prefetch([(exe, "-c", patterns.PYTHON_PROBE) for exe, _ in todo])
    for exe, how in todo:
        if exe.lower() in seen:
            continue
        done = probe.command(exe, "-c", patterns.PYTHON_PROBE)
        if done is None or done.timed_out or done.returncode != 0:
            continue
        parts = done.stdout.decode("utf-8", "replace").strip().split("|")
        if len(parts) != 3 or parts[1] != "64" or parts[2].lower() in seen:
            continue
        seen.add(parts[2].lower())
        found.append(Interpreter(parts[0], parts[2], how))
    return found


def _under(folder: str, top: str) -> bool:
    """``folder`` is ``top`` or inside it (case-insensitive, as Windows compares paths)."""
    folder, top = folder.lower().replace("/", "\\"), top.lower().replace("/", "\\")
    return folder == top or folder.startswith(top + "\\")


def _is_python_exe(name: str) -> bool:
    return name.lower() == "python.exe"


def _names(probe: Probe, folder: str, keep: Callable[[str], object]) -> list[str]:
    """The names in ``folder`` that ``keep`` selects (a replayed listing may hold more)."""
    return [n for n in probe.host_listdir(folder, keep=lambda n: bool(keep(n))) or [] if keep(n)]


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
