"""The pip part of an environment: install the locked ``manager: pip`` entries with
hashes, and compare what is installed with the lock without reinstalling.

Install uses ``uv pip install --python <env python> --require-hashes --no-deps
--compile-bytecode`` from the URLs recorded in the lock (uv ships with this tool, is
several times faster than pip, and byte-compiles so the first import is fast even
with ``PYTHONDONTWRITEBYTECODE=1``). Every line of the requirements file is
``name @ url --hash=sha256:...``, so nothing is resolved again and pip's or uv's
index configuration does not matter; a changed artifact is refused.

uv checks a wheel's hash when it downloads it, not when it links a wheel it has
already unpacked into its cache (and it hard-links environments to that cache, so a
file edited in one venv is edited in the cache). So after each install the files of
the distributions just installed are hashed against their ``RECORD``; a mismatch
removes those packages from uv's cache (``uv cache clean NAME``) and installs them
again from the verified wheel, and a second mismatch stops the install. Packages a
file check found altered (``apply --force``) get the same treatment up front.

The diff reads ``*.dist-info`` folders in the environment's site-packages directly
(name, version, ``INSTALLER`` and ``direct_url.json``): no interpreter start, so a
no-op apply stays fast. Each locked distribution's ``RECORD`` is checked too: one
whose listed files are missing (a deleted module) is reinstalled. In a conda prefix
only distributions installed by pip or uv count as the pip part (conda's own Python
packages are the conda part's business); in a venv every distribution does
(``owns_all``), whatever its ``INSTALLER`` says.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from provisioner.env import EnvDiff, pause_point, pause_requested
from provisioner.env.integrity import AlteredFile, altered_files, by_package, pip_expectations
from provisioner.env.pip_failures import explain_install_failure
from provisioner.errors import ExternalFailure
from provisioner.lock import LockedPackage
from provisioner.process import CommandFailed, run
from provisioner.uvbin import uv_executable

log = logging.getLogger("provisioner.env.pip_part")

PIP_INSTALLERS = frozenset({"pip", "uv"})
# PROVISION_TEST_PAUSE_AT value that pauses an install with only its first package in.
PAUSE_MID_INSTALL = "environment:pip-installing"
INSTALL_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class InstalledDist:
    """One distribution found in site-packages."""

    name: str  # PEP 503-normalized
    version: str
    installer: str
    url: str | None  # direct_url.json "url", when installed from a URL
    sha256: str | None  # direct_url.json archive hash, when recorded
    missing: str = ""  # the first file its RECORD lists that does not exist
    info: str = ""  # the *.dist-info folder


def requirements_text(packages: tuple[LockedPackage, ...]) -> str:
    """A hash-pinned requirements file: one ``name @ url --hash=sha256:...`` line per package."""
    lines = []
    for p in sorted(packages, key=lambda p: p.name):
        if not p.sha256:
            raise ExternalFailure(
                f"the lock has no sha256 for pip package {p.spec()}",
                hint="re-create the lock with `provision lock PROFILE`",
            )
        lines.append(f"{p.name} @ {p.url} --hash=sha256:{p.sha256}")
    return "\n".join(lines) + ("\n" if lines else "")


def install_pip_part(
    python: Path,
    packages: tuple[LockedPackage, ...],
    quiet: bool = False,
    *,
    owns_all: bool = False,
    current: EnvDiff | None = None,
    offline: bool = False,
) -> None:
    """Install exactly these locked pip packages into the environment of ``python``.

    Packages installed by pip/uv (with ``owns_all``: any package) but not in the lock
    are uninstalled first, so the environment ends up matching the lock. A hash
    mismatch, an unreachable index or a full disk raises one :class:`ExternalFailure`
    with the cause and a fix. ``current`` is the pip part's diff as the caller found it
    (:func:`diff_pip_part` by default). ``offline``: uv reaches no index (``UV_OFFLINE``).
    """
    if current is None:
        current = diff_pip_part(python, packages, owns_all=owns_all)
    uv = uv_executable()
    # Output is captured (and shown only on failure), so uv's own bars are off.
    env = {**os.environ, "UV_NO_PROGRESS": "1", **({"UV_OFFLINE": "1"} if offline else {})}
    if current.remove:
        names = [r.split(":", 1)[1] for r in current.remove]
        _run_installer([uv, "pip", "uninstall", "--python", str(python), *names], env)
    if not packages or not (current.add or current.change):
        return
    altered = [a.split(":", 1)[1] for a in current.altered if a.startswith("pip:")]
    if altered:  # installed from a cache entry that changed since: unpack it again
        _run_installer([uv, "cache", "clean", *altered], env)
    _install(python, packages, current, env, quiet)
    touched = {canonicalize_name(p.name) for p in current.add} | {
        canonicalize_name(p.name) for _, p in current.change
    }
    bad = sorted({a.package for a in altered_installed(python, touched)})
    if bad:  # uv linked files from a cache entry that changed after it was unpacked
        log.warning("uv's cache gave altered files for %s; unpacking them again", bad)
        _run_installer([uv, "cache", "clean", *bad], env)
        again = EnvDiff(change=tuple(("", p) for p in packages if canonicalize_name(p.name) in bad))
        _install(python, packages, again, env, quiet=True)
        still = altered_installed(python, set(bad))
        if still:
            raise ExternalFailure(
                "installing the pip part failed: installed files do not match their wheel's "
                f"RECORD after a fresh unpack: {'; '.join(a.describe() for a in still[:5])}",
                hint="the wheels or the disk are damaged: check the disk, then re-lock and "
                "apply again",
            )


def altered_installed(python: Path, names: Iterable[str]) -> tuple[AlteredFile, ...]:
    """Files of the installed distributions ``names`` that differ from their RECORD."""
    site = site_packages(python)
    if site is None or not names:
        return ()
    have = installed_distributions(python, check_files=False)
    infos = [(n, Path(have[n].info)) for n in sorted(map(canonicalize_name, names)) if n in have]
    return altered_files(pip_expectations(site, infos))[1]


def _install(
    python: Path,
    packages: tuple[LockedPackage, ...],
    current: EnvDiff,
    env: dict[str, str],
    quiet: bool,
) -> None:
    """``uv pip install`` the hash-pinned lock; reinstall what ``current`` changes."""
    uv = uv_executable()
    with tempfile.TemporaryDirectory(prefix="provision-pip-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(requirements_text(packages), encoding="utf-8")
        argv = [uv, "pip", "install", "--python", str(python), "--require-hashes", "--no-deps"]
        argv += ["--compile-bytecode"]
        if pause_requested(PAUSE_MID_INSTALL) and len(packages) > 1:
            # Crash-test hook: one locked package in, then pause with the rest missing.
            first = Path(tmp) / "first.txt"
            first.write_text(requirements_text(packages[:1]), encoding="utf-8")
            _run_installer([*argv, "-r", str(first)], env)
            pause_point(PAUSE_MID_INSTALL)
        argv += ["-r", str(req)]
        for _, pkg in current.change:  # same version, other artifact or missing files
            argv += ["--reinstall-package", pkg.name]
        if quiet or not sys.stderr.isatty():
            _run_installer(argv, env)
        else:
            _run_with_bar(argv, env, python, packages)


def _run_with_bar(
    argv: list[str], env: dict[str, str], python: Path, packages: tuple[LockedPackage, ...]
) -> None:
    """Run the installer in a thread while a rich bar counts the locked distributions
    that have appeared in site-packages (the installer's own output is captured)."""
    import threading

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    failure: list[BaseException] = []

    def work() -> None:
        try:
            _run_installer(argv, env)
        except BaseException as e:  # handed to the caller's thread below
            failure.append(e)

    wanted = {canonicalize_name(p.name): p.version for p in packages}
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    columns = ("pip packages", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("install", total=len(wanted))
        while thread.is_alive():
            thread.join(0.25)
            have = installed_distributions(python, check_files=False)
            done = sum(1 for n, v in wanted.items() if n in have and have[n].version == v)
            bar.update(task, completed=done)
    if failure:
        raise failure[0]


def _run_installer(argv: list[str], env: dict[str, str]) -> None:
    try:
        run(argv, env=env, timeout=INSTALL_TIMEOUT_S)
    except CommandFailed as e:
        raise explain_install_failure(e.result.tail(4000), fallback=e) from e


def site_packages(python: Path) -> Path | None:
    """The site-packages folder next to ``python`` (venv or conda layout), if it exists."""
    prefix = python.parent.parent if python.parent.name in ("bin", "Scripts") else python.parent
    win = prefix / "Lib" / "site-packages"
    if win.is_dir():
        return win
    lib = prefix / "lib"
    if lib.is_dir():
        for d in sorted(lib.glob("python3*/site-packages")):
            return d
    return None


def installed_distributions(python: Path, *, check_files: bool = True) -> dict[str, InstalledDist]:
    """Distributions in site-packages, keyed by normalized name (reads files only);
    ``check_files`` also looks for files their ``RECORD`` lists that are missing."""
    sp = site_packages(python)
    found: dict[str, InstalledDist] = {}
    if sp is None:
        return found
    for info in sp.glob("*.dist-info"):
        meta = _read_metadata(info)
        if meta is None:
            continue
        name, version = meta
        installer = _read_text(info / "INSTALLER").strip()
        url, sha = _read_direct_url(info)
        missing = first_missing_file(sp, info) if check_files else ""
        found[canonicalize_name(name)] = InstalledDist(
            canonicalize_name(name), version, installer, url, sha, missing, str(info)
        )
    return found


def first_missing_file(site: Path, info: Path) -> str:
    """The first file listed in ``info``'s ``RECORD`` that is not on disk ("" if none).

    Only existence is checked (a stat per file, ~20 ms for torch's 15,000), so a
    deleted module is noticed without hashing gigabytes. Bytecode is skipped: it is
    regenerated on import."""
    if not (info / "RECORD").is_file():
        return "RECORD"  # pip and uv always write one: without it nothing can be checked
    text = _read_text(info / "RECORD")
    for row in csv.reader(text.splitlines()):
        if not row or not row[0] or row[0].endswith(".pyc"):
            continue
        if not os.path.lexists(site / row[0]):
            return row[0]
    return ""


def diff_pip_part(
    python: Path,
    packages: tuple[LockedPackage, ...],
    *,
    owns_all: bool = False,
    files: bool = False,
) -> EnvDiff:
    """Compare the pip-installed distributions with the locked pip entries.

    Names and versions are compared; where ``direct_url.json`` records the artifact
    URL or its sha256 (uv records the URL, pip both), those are compared too, and a
    distribution with a file of its ``RECORD`` missing is a change (reinstall it).
    Unlocked distributions are removed when pip or uv installed them, or, with
    ``owns_all`` (a venv, where everything is the pip part), whatever installed them.
    With ``files``, each file of the otherwise matching distributions is hashed
    against its ``RECORD``; a distribution with altered files is a change too.
    """
    if not python.exists():
        return EnvDiff(add=packages, exists=False)
    installed = installed_distributions(python)
    locked = {canonicalize_name(p.name): p for p in packages}
    add: list[LockedPackage] = []
    change: list[tuple[str, LockedPackage]] = []
    for name, pkg in sorted(locked.items()):
        have = installed.get(name)
        if have is None:
            add.append(pkg)
        elif have.version != pkg.version:
            change.append((f"{name}=={have.version}", pkg))
        elif have.sha256 and pkg.sha256 and have.sha256 != pkg.sha256:
            change.append((f"{name}=={have.version} (sha256 {have.sha256[:12]})", pkg))
        elif have.url and pkg.url and have.url != pkg.url:
            change.append((f"{name}=={have.version} (from {have.url})", pkg))
        elif have.missing:
            change.append((f"{name}=={have.version} (missing {have.missing})", pkg))
    altered: tuple[str, ...] = ()
    if files:
        changed = {canonicalize_name(p.name) for p in add} | {
            canonicalize_name(p.name) for _, p in change
        }
        same = {n for n in locked if n not in changed}
        found = altered_installed(python, same)
        for key, items in sorted(by_package(found).items()):
            pkg = locked[canonicalize_name(key.split(":", 1)[1])]
            have = installed[canonicalize_name(pkg.name)]
            shown = ", ".join(a.path for a in items[:3]) + (" ..." if len(items) > 3 else "")
            change.append((f"{pkg.name}=={have.version} (altered: {shown})", pkg))
        altered = tuple(sorted(by_package(found)))
    remove = tuple(
        f"pip:{name}"
        for name, d in sorted(installed.items())
        if name not in locked and (owns_all or d.installer in PIP_INSTALLERS)
    )
    return EnvDiff(add=tuple(add), remove=remove, change=tuple(change), altered=altered)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # unreadable reads as absent: a damaged dist-info is not intact


def _read_metadata(info: Path) -> tuple[str, str] | None:
    name = version = None
    for line in _read_text(info / "METADATA").splitlines():
        if not line:
            break  # headers end at the first blank line
        if line.startswith("Name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Version:"):
            version = line.split(":", 1)[1].strip()
    if name and version:
        return name, version
    stem = info.name[: -len(".dist-info")]
    if "-" in stem:  # an incomplete dist-info: fall back to the folder name
        n, v = stem.split("-", 1)
        return n, v
    return None


def _read_direct_url(info: Path) -> tuple[str | None, str | None]:
    text = _read_text(info / "direct_url.json")
    if not text:
        return None, None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    url = data.get("url") if isinstance(data, dict) else None
    archive = data.get("archive_info", {}) if isinstance(data, dict) else {}
    sha = None
    if isinstance(archive, dict):
        hashes = archive.get("hashes")
        if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
            sha = hashes["sha256"]
        elif isinstance(archive.get("hash"), str) and archive["hash"].startswith("sha256="):
            sha = archive["hash"].split("=", 1)[1]
    return (url if isinstance(url, str) else None), sha
