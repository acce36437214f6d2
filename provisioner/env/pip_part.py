"""The pip part of an environment: install the locked ``manager: pip`` entries with
hashes, and compare what is installed with the lock without reinstalling.

Each locked wheel is first checked against the lock's sha256 and kept in provision's
store (:mod:`provisioner.env.wheels`); ``uv pip install --python <env python>
--require-hashes --no-deps --compile-bytecode`` then installs those verified files
(``name @ file://<store>/<sha256>/<wheel> --hash=sha256:...``), so nothing is resolved
or downloaded again and pip's or uv's index configuration does not matter. (A package
locked as an sdist is installed from its locked URL, hash-pinned too.) uv is several
times faster than pip; ``PYC_INVALIDATION_MODE=CHECKED_HASH`` makes it recompile every
module of what it installs into bytecode that Python checks against the source.

uv links environments to the files it unpacked into its cache, and copies the
``RECORD`` it writes from there too. So after each install every file of the
distributions just installed is compared with the ``RECORD`` inside the verified wheel
(:mod:`provisioner.env.expected`), and site-packages is searched for files no verified
package installs (uv links every file of a cache entry, listed or not); a mismatch
removes those packages from uv's cache (``uv cache clean NAME``), removes the stray
files and installs them again from the verified wheel, and a second mismatch stops the
install. Packages a file check found altered (``apply --force``) get the same
treatment up front.

The diff reads ``*.dist-info`` folders in the environment's site-packages directly
(name, version, ``INSTALLER`` and ``direct_url.json``): no interpreter start, so a
no-op apply stays fast. Each locked distribution's ``RECORD`` is checked too: one
whose listed files are missing (a deleted module) is reinstalled. In a conda prefix
only distributions installed by pip or uv count as the pip part (conda's own Python
packages are the conda part's business); in a venv every distribution does
(``owns_all``), whatever its ``INSTALLER`` says.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from provisioner.env import EnvDiff
from provisioner.env.artifacts import file_url, filename
from provisioner.env.dist_info import (
    PIP_INSTALLERS,
    InstalledDist,
    first_missing_file,
    installed_distributions,
    site_packages,
)
from provisioner.env.integrity import AlteredFile, altered_files, by_package
from provisioner.env.pip_failures import explain_install_failure
from provisioner.errors import ExternalFailure
from provisioner.lock import LockedPackage
from provisioner.paths import artifact_store
from provisioner.process import CommandFailed, run
from provisioner.uvbin import uv_executable

__all__ = [
    "PIP_INSTALLERS",
    "InstalledDist",
    "altered_installed",
    "diff_pip_part",
    "first_missing_file",
    "install_pip_part",
    "installed_distributions",
    "requirements_text",
    "site_packages",
    "stored_url",
]

log = logging.getLogger("provisioner.env.pip_part")

# What a venv is seeded with (ensurepip's bundled wheels; `python -m venv` does the
# same): pip, so that `pip install` inside the activated environment installs there, and
# setuptools before Python 3.12. They belong to the venv, not to the lock's pip part: the
# diff neither removes them nor reports them, unless the lock lists them.
VENV_SEEDS = frozenset({"pip", "setuptools"})
INSTALL_TIMEOUT_S = 3600.0


def requirements_text(
    packages: tuple[LockedPackage, ...], wheels: Mapping[str, Path] | None = None
) -> str:
    """A hash-pinned requirements file: one ``name @ url --hash=sha256:...`` line per
    package, the URL of its verified wheel in the store where ``wheels`` has one."""
    lines = []
    wheels = wheels or {}
    for p in sorted(packages, key=lambda p: p.name):
        if not p.sha256:
            raise ExternalFailure(
                f"the lock has no sha256 for pip package {p.spec()}",
                hint="re-create the lock with `provision lock PROFILE`",
            )
        url = file_url(wheels[p.name]) if p.name in wheels else p.url
        lines.append(f"{p.name} @ {url} --hash=sha256:{p.sha256}")
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
    from provisioner.env.wheels import verified_wheels

    if current is None:
        current = diff_pip_part(python, packages, owns_all=owns_all)
    uv = uv_executable()
    # Output is captured (and shown only on failure), so uv's own bars are off; every
    # module it installs is compiled to bytecode Python checks against its source.
    env = {**os.environ, "UV_NO_PROGRESS": "1", "PYC_INVALIDATION_MODE": "CHECKED_HASH"}
    if offline:
        env["UV_OFFLINE"] = "1"
    if current.remove:
        gone = [r.split(":", 1)[1] for r in current.remove]
        _run_installer([uv, "pip", "uninstall", "--python", str(python), *gone], env)
    remove_strays(current.strays)
    touched = (*current.add, *(p for _, p in current.change))
    if not packages or not touched:
        return
    # Each wheel against the lock's sha256 before it is installed (nothing downloaded
    # offline: UV_OFFLINE is uv's own switch, and this download replaces uv's).
    offline = offline or os.environ.get("UV_OFFLINE", "").lower() in ("1", "true", "yes")
    wheels = verified_wheels(touched, offline=offline)
    altered = [a.split(":", 1)[1] for a in current.altered if a.startswith("pip:")]
    if altered:  # installed from a cache entry that changed since: unpack it again
        _run_installer([uv, "cache", "clean", *altered], env)
    _install(python, touched, current, env, quiet, wheels)
    names = {canonicalize_name(p.name) for p in touched}
    found = altered_installed(python, names, packages, owns_all=owns_all, wheels=wheels)
    if not found:
        return
    # uv linked files from a cache entry that changed after it was unpacked (or that
    # holds files no wheel lists): drop the entry and the strays, unpack again.
    bad = sorted({a.package for a in found if a.package != "?"} or names)
    log.warning("uv's cache gave altered files for %s; unpacking them again", bad)
    remove_strays(stray_paths(python, found))
    _run_installer([uv, "cache", "clean", *bad], env)
    redo = tuple(p for p in touched if canonicalize_name(p.name) in bad)
    _install(python, redo, EnvDiff(change=tuple(("", p) for p in redo)), env, True, wheels)
    still = altered_installed(python, names, packages, owns_all=owns_all, wheels=wheels)
    if still:
        raise ExternalFailure(
            "installing the pip part failed: installed files do not match the RECORD of "
            f"their verified wheel after a fresh unpack: "
            f"{'; '.join(a.describe() for a in still[:5])}",
            hint="the wheels or the disk are damaged: check the disk, then re-lock and apply again",
        )


def altered_installed(
    python: Path,
    names: Iterable[str],
    packages: Iterable[LockedPackage],
    *,
    owns_all: bool,
    wheels: Mapping[str, Path] | None = None,
) -> tuple[AlteredFile, ...]:
    """Files of the installed distributions ``names`` that differ from the RECORD of
    their verified wheel, and files no verified package installs (package ``?`` at the
    top of site-packages); ``wheels`` are fetched and verified when not given."""
    from provisioner.env.expected import conda_site_files, pip_expected
    from provisioner.env.wheels import verified_wheels

    names = {canonicalize_name(n) for n in names}
    if site_packages(python) is None or not names:
        return ()
    packages = tuple(packages)
    if wheels is None:
        wheels = verified_wheels(p for p in packages if canonicalize_name(p.name) in names)
    prefix = python.parent.parent if python.parent.name in ("bin", "Scripts") else python.parent
    owned = frozenset() if owns_all else conda_site_files(prefix)
    items = pip_expected(
        python, packages, wheels, owns_all=owns_all, names=names, conda_owned=owned
    )
    return altered_files(items)[1]


def stray_paths(python: Path, found: Iterable[AlteredFile]) -> tuple[str, ...]:
    """The absolute paths of the ``added`` findings (files no verified package installs)."""
    site = site_packages(python)
    if site is None:
        return ()
    return tuple(sorted(os.path.normpath(site / a.path) for a in found if a.problem == "added"))


def remove_strays(paths: Iterable[str]) -> None:
    """Remove files (or folders) no verified package installs."""
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _install(
    python: Path,
    packages: tuple[LockedPackage, ...],
    current: EnvDiff,
    env: dict[str, str],
    quiet: bool,
    wheels: Mapping[str, Path],
) -> None:
    """``uv pip install`` the hash-pinned ``packages`` from their verified wheels;
    reinstall what ``current`` changes."""
    uv = uv_executable()
    with tempfile.TemporaryDirectory(prefix="provision-pip-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(requirements_text(packages, wheels), encoding="utf-8")
        argv = [uv, "pip", "install", "--python", str(python), "--require-hashes", "--no-deps"]
        argv += ["--compile-bytecode"]
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


def diff_pip_part(
    python: Path,
    packages: tuple[LockedPackage, ...],
    *,
    owns_all: bool = False,
    files: bool = False,
) -> EnvDiff:
    """Compare the pip-installed distributions with the locked pip entries.

    Names and versions are compared; where ``direct_url.json`` records the artifact
    URL or its sha256 (uv records the URL, pip both), those are compared too (a
    recorded sha256 equal to the lock's settles it, wherever the file was read from: a
    bootstrap installs from a verified copy in a temporary folder), and a
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
        elif _read_elsewhere(have, pkg):
            change.append((f"{name}=={have.version} (from {have.url})", pkg))
        elif have.missing:
            change.append((f"{name}=={have.version} (missing {have.missing})", pkg))
    altered: tuple[str, ...] = ()
    strays: tuple[str, ...] = ()
    if files:
        changed = {canonicalize_name(p.name) for p in add} | {
            canonicalize_name(p.name) for _, p in change
        }
        same = {n for n in locked if n not in changed and n in installed}
        found = altered_installed(python, same, packages, owns_all=owns_all)
        owned = {k: v for k, v in by_package(found).items() if k != "pip:?"}
        for key, items in sorted(owned.items()):
            pkg = locked[canonicalize_name(key.split(":", 1)[1])]
            have = installed[canonicalize_name(pkg.name)]
            shown = ", ".join(a.path for a in items[:3]) + (" ..." if len(items) > 3 else "")
            change.append((f"{pkg.name}=={have.version} (altered: {shown})", pkg))
        altered = tuple(sorted(owned))
        strays = stray_paths(python, found)
    remove = tuple(
        f"pip:{name}"
        for name, d in sorted(installed.items())
        if name not in locked
        and (owns_all or d.installer in PIP_INSTALLERS)
        and not (owns_all and name in VENV_SEEDS and d.installer == "pip")
    )
    return EnvDiff(
        add=tuple(add), remove=remove, change=tuple(change), altered=altered, strays=strays
    )


def _read_elsewhere(have: InstalledDist, pkg: LockedPackage) -> bool:
    """Whether ``have`` came from another artifact than ``pkg``'s, as far as it records.

    A recorded sha256 equal to the lock's settles it (the same bytes, wherever they were
    read from); otherwise the recorded URL must be the lock's or the store's.
    """
    if have.sha256 and have.sha256 == pkg.sha256:
        return False
    return bool(have.url and pkg.url and have.url not in (pkg.url, stored_url(pkg)))


def stored_url(pkg: LockedPackage) -> str:
    """The URL of ``pkg``'s verified wheel in the store, as installs record it."""

    return file_url(artifact_store() / (pkg.sha256 or "") / filename(pkg.url))
