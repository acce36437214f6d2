"""Is the bundle's installed tool still exactly the bundle's tool wheels?

``python -I -c RUN_FROM_WHEEL WHEEL --venv DIR --tool DIR --requirements FILE --python
EXE``: the bundle's ``bootstrap.sh`` and ``bootstrap.ps1`` run this on every run, with
the host Python and from the bundle's own provision wheel (checked against
``SHA256SUMS`` or ``manifest.json`` a moment before), before anything of the tool venv
under ``$PROVISION_HOME/tool/<id>/`` runs. Every file is
compared with the ``RECORD`` inside the bundle's wheel it came from, as apply checks an
environment (:func:`provisioner.env.expected.pip_expected`): an edited or missing
file, a ``.pth`` or a module planted in site-packages, an unchecked-hash pyc, a venv
that reads the host's site-packages or runs another interpreter is named on one line
(exit 1) and the script installs the tool again. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from provisioner.env.artifacts import file_url
from provisioner.env.dist_info import canonicalize_name
from provisioner.env.expected import pip_expected
from provisioner.env.integrity import altered_files
from provisioner.lock import LockedPackage

# What the bundle's bootstrap scripts run with the host Python (``python -I -c CODE
# WHEEL --venv ...``): the bundle's own provision wheel, checked a moment before, first on
# sys.path, then :func:`main`. No space and no double quote, so that Windows PowerShell
# 5.1 passes it to python.exe intact (docs/windows.md); ``-I``: nothing from the
# environment, the user's site-packages or the current folder is imported instead.
RUN_FROM_WHEEL = (
    "__import__('sys').path.insert(0,__import__('sys').argv.pop(1));"
    "__import__('sys').exit(__import__('provisioner.bundle.toolcheck',fromlist=['main'])"
    ".main(__import__('sys').argv[1:]))"
)


def tool_wheels(
    tool: Path, requirements: Path
) -> tuple[tuple[LockedPackage, ...], dict[str, Path]]:
    """The locked tool packages (``name==version --hash=sha256:H`` lines) and the wheel
    in ``tool`` each names (by the name and version in the wheel's file name)."""
    by_spec: dict[tuple[str, str], Path] = {}
    for wheel in tool.glob("*.whl"):
        parts = wheel.name.split("-")
        if len(parts) >= 5:
            by_spec[(canonicalize_name(parts[0]), parts[1])] = wheel
    packages: list[LockedPackage] = []
    wheels: dict[str, Path] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        spec, _, rest = line.strip().partition(" --hash=sha256:")
        name, _, version = spec.partition("==")
        found = by_spec.get((canonicalize_name(name), version))
        if not rest or found is None:
            continue
        packages.append(LockedPackage("pip", name, version, "", file_url(found), rest.strip()))
        wheels[name] = found
    return tuple(packages), wheels


def problems(venv: Path, tool: Path, requirements: Path, host_python: Path) -> list[str]:
    """What differs between the tool venv and the bundle's tool wheels (empty: intact)."""
    windows = (venv / "Scripts").is_dir()
    python = venv / ("Scripts/python.exe" if windows else "bin/python")
    if not python.exists():
        return [f"{python} is missing"]
    found = []
    # The host Python as named (a path) and as it runs: the check is run by that Python,
    # and a launcher such as a pyenv shim (a script that execs the interpreter) names it
    # by another path than the one the venv it made links to.
    host = {os.path.realpath(host_python), os.path.realpath(sys.executable)}
    if not windows and os.path.realpath(python) not in host:
        found.append(f"{python} runs {os.path.realpath(python)}, not {host_python}")
    try:
        config = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        config = ""
    for line in config.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "include-system-site-packages" and value.strip().lower() == "true":
            found.append("pyvenv.cfg reads the host's site-packages")
    packages, wheels = tool_wheels(tool, requirements)
    checked, altered = altered_files(pip_expected(python, packages, wheels, owns_all=True))
    if not checked:
        found.append("no file of the tool is installed")
    return found + [a.describe() for a in altered]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="toolcheck")
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--tool", type=Path, required=True)
    parser.add_argument("--requirements", type=Path, required=True)
    parser.add_argument("--python", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        found = problems(args.venv, args.tool, args.requirements, args.python)
    except (OSError, ValueError) as e:
        found = [f"cannot check it: {e}"]
    if found:
        shown = "; ".join(found[:3]) + (f" (and {len(found) - 3} more)" if len(found) > 3 else "")
        print(shown)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
