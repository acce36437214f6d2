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

With ``--stamp FILE`` a check that passed is remembered by the stat of every entry of
the venv (type, mode, size, modification and change time, inode), of the bundle's tool
files and of the host interpreter, as apply's drift ledger remembers an environment
(docs/apply.md): while that stat is unchanged, the hashes are not read again. Any write,
rename, ``chmod`` or added file changes a change time (ctime), which no program sets back
(``touch -d`` and ``os.utime`` set only the access and modification times). An entry whose
change time is not older than the check's start (a file written in the same clock tick
as the check) is racy: no stamp is written, and the next run checks every hash again.
``--full`` ignores the stamp (``bootstrap.sh --force``); on Windows, where Python's
``st_ctime`` is the creation time, every run checks every hash.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from provisioner.env.artifacts import file_url
    from provisioner.lock import LockedPackage
    from provisioner.names import canonicalize_name

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
    from provisioner.env.expected import pip_expected
    from provisioner.env.integrity import altered_files

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


def _entry(path: str, rel: str) -> tuple[str, int]:
    """One line of the stat record, and the entry's change time."""
    st = os.lstat(path)
    line = f"{st.st_mode:o} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino} {rel!r}"
    return line, st.st_ctime_ns


def tree_stat(venv: Path, tool: Path, requirements: Path, host_python: Path) -> tuple[str, int]:
    """The stat record of everything the check depends on: every entry under the venv
    (folders included, so an added or removed file anywhere changes it), the requirements
    file and the bundle's tool wheels, the host Python as named and as it runs, and the
    interpreter they lead to. Returns the record's sha256 and the newest change time."""
    # The interpreters (a venv made from another Python, a host Python replaced in
    # place), the requirements and the wheels, then the venv itself.
    entries: list[tuple[str, str]] = []
    for named in (str(host_python), sys.executable, str(venv / "bin" / "python")):
        real = os.path.realpath(named)
        entries.append((real, f"{named} -> {real}"))
    entries += [(str(p), str(p)) for p in (requirements, *sorted(tool.glob("*.whl")))]
    root = str(venv)
    entries.append((root, "."))
    for folder, dirs, files in os.walk(root, onerror=_raise):
        dirs.sort()
        for name in sorted([*dirs, *files]):
            path = os.path.join(folder, name)
            entries.append((path, os.path.relpath(path, root)))
    lines: list[str] = []
    newest = 0
    for path, shown in entries:
        line, ctime = _entry(path, shown)
        lines.append(line)
        newest = max(newest, ctime)
    record = "\n".join(lines).encode("utf-8", "surrogateescape")
    return hashlib.sha256(record).hexdigest(), newest


def _raise(error: OSError) -> None:
    raise error


STAMP_FORMAT = "provision-toolcheck-stamp/1"


def _stamped(stamp: Path, digest: str) -> bool:
    try:
        return stamp.read_text(encoding="utf-8") == f"{STAMP_FORMAT} {digest}\n"
    except (OSError, UnicodeDecodeError):
        return False


def checked(
    venv: Path, tool: Path, requirements: Path, host_python: Path, stamp: Path | None, full: bool
) -> list[str]:
    """:func:`problems`, skipped while the stat record equals the stamp's; a check that
    passes (with nothing racy, and nothing changed while it ran) writes the stamp."""
    if stamp is None or os.name == "nt":
        return problems(venv, tool, requirements, host_python)
    try:
        before, _ = tree_stat(venv, tool, requirements, host_python)
    except OSError:
        before = ""  # something to stat is gone: the full check names it
    if before and not full and _stamped(stamp, before):
        return []
    import tempfile  # here: the remembered path above needs none of it

    # The clock tick the check starts in, by the file system's own clock: the change
    # time of a file made now. An entry changed in that tick or later is racy.
    stamp.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=stamp.parent, prefix=".stamp.")
    try:
        started = os.fstat(fd).st_ctime_ns
        found = problems(venv, tool, requirements, host_python)
        if found or not before:
            return found
        after, newest = tree_stat(venv, tool, requirements, host_python)
        if before == after and newest < started:
            os.write(fd, f"{STAMP_FORMAT} {after}\n".encode())
            os.close(fd)
            fd = -1
            os.replace(tmp, stamp)
        return found
    finally:
        if fd >= 0:
            os.close(fd)
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="toolcheck")
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--tool", type=Path, required=True)
    parser.add_argument("--requirements", type=Path, required=True)
    parser.add_argument("--python", type=Path, required=True)
    parser.add_argument("--stamp", type=Path, help="where a passed check is remembered by stat")
    parser.add_argument("--full", action="store_true", help="check every hash (ignore the stamp)")
    args = parser.parse_args(argv)
    try:
        found = checked(args.venv, args.tool, args.requirements, args.python, args.stamp, args.full)
    except (OSError, ValueError) as e:
        found = [f"cannot check it: {e}"]
    if found:
        shown = "; ".join(found[:3]) + (f" (and {len(found) - 3} more)" if len(found) > 3 else "")
        print(shown)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
