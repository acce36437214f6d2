"""What every installed file of an environment must be, from the lock's own hashes.

:func:`expected_files` is the one source of "the expected hash of each installed file"
(``provision verify``, ``apply --force``, the check after each pip install, and any
drift check):

- conda packages: ``conda-meta/<pkg>.json`` (rattler writes it while it links the
  files of an archive checked against the lock, :mod:`provisioner.env.package_cache`);
- pip packages: the ``RECORD`` inside each locked wheel, verified against the lock's
  sha256 in provision's store (:mod:`provisioner.env.wheels`), never the ``RECORD``
  uv copied from its cache into the ``*.dist-info``. Files under ``NAME.data/`` go
  where an installer puts them (``purelib``/``platlib`` into site-packages,
  ``scripts`` beside the interpreter, ``data`` into the prefix, ``headers`` where the
  installed ``RECORD`` says, which is only used for *where*, never for *what*);
- files nothing verified installs: uv links *every* file of its cache entry, listed or
  not, so a ``.pth`` or a module planted there would be installed too. Each file at
  the top of site-packages must belong to a locked wheel, a conda package or the venv
  itself, and every file inside a locked wheel's folders to that wheel (bytecode under
  ``__pycache__`` aside, which must not be an unchecked-hash pyc): anything else is
  ``added``. (A top-level folder no one owns is not reported: it runs nothing unless
  imported, and a ``.pth`` that would import it is.)

A package locked as an sdist has no wheel to read: its installed ``RECORD`` is used
(docs/apply.md says so); one installed but not locked likewise (the diff removes it).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from provisioner.env.dist_info import PIP_INSTALLERS, installed_distributions, site_packages
from provisioner.env.integrity import Expected, conda_expectations, pip_expectations
from provisioner.env.wheels import WheelContents, verified_wheels, wheel_contents
from provisioner.lock import LockedPackage
from provisioner.names import canonicalize_name

# What an installer writes into a *.dist-info beside the wheel's own files.
INSTALLER_FILES = frozenset(
    {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json"}
)
# What `uv venv` / virtualenv put into a venv's site-packages.
VENV_FILES = frozenset({"_virtualenv.pth", "_virtualenv.py", "__pycache__"})


def expected_files(
    prefix: Path,
    python: Path,
    manager: str,
    pip_packages: Iterable[LockedPackage],
    wheels: Mapping[str, Path] | None = None,
) -> Iterator[Expected]:
    """Every installed file of the environment at ``prefix`` and what it must be (hash
    them with :func:`provisioner.env.integrity.altered_files`). ``wheels``: the verified
    wheel of each locked pip package by locked name; by default they are fetched into the
    store and verified here (:func:`provisioner.env.wheels.verified_wheels`, which raises
    :class:`~provisioner.errors.ExternalFailure` when one cannot be had)."""
    pip_packages = tuple(pip_packages)
    if wheels is None:
        wheels = verified_wheels(pip_packages)
    conda = manager == "conda"
    if conda:
        yield from conda_expectations(prefix)
    yield from pip_expected(
        python,
        pip_packages,
        wheels,
        owns_all=not conda,
        conda_owned=conda_site_files(prefix) if conda else frozenset(),
    )


def _layout(site: Path) -> tuple[Path, Path]:
    """(prefix, scripts folder) of the environment that holds ``site``."""
    if site.parent.name == "Lib":  # Windows: <prefix>/Lib/site-packages
        return site.parent.parent, site.parent.parent / "Scripts"
    prefix = site.parent.parent.parent  # <prefix>/lib/pythonX.Y/site-packages
    return prefix, prefix / "bin"


def pip_expected(
    python: Path,
    packages: Iterable[LockedPackage],
    wheels: Mapping[str, Path],
    *,
    owns_all: bool,
    names: Iterable[str] | None = None,
    conda_owned: frozenset[str] = frozenset(),
) -> Iterator[Expected]:
    """The pip part's files (only the distributions ``names``, when given) and the files
    nothing verified installs (in their folders and at the top of site-packages)."""
    site = site_packages(python)
    if site is None:
        return
    prefix, scripts = _layout(site)
    locked: dict[str, LockedPackage] = {canonicalize_name(p.name): p for p in packages}
    wanted = None if names is None else {canonicalize_name(n) for n in names}
    allowed: set[str] = set(conda_owned)
    tops: dict[str, str] = {}  # top-level name in site-packages -> the owning distribution
    walk: list[tuple[str, Path]] = []
    for name, dist in sorted(installed_distributions(python, check_files=False).items()):
        if not (owns_all or dist.installer in PIP_INSTALLERS):
            continue
        info = Path(dist.info)
        pkg = locked.get(name)
        wheel = wheels.get(pkg.name) if pkg is not None else None
        if wheel is not None:
            items = list(_from_wheel(name, wheel_contents(wheel), site, prefix, scripts, info))
        else:  # an sdist, or not locked: its own RECORD is all there is
            items = list(pip_expectations(site, [(name, info)]))
        paths = [os.path.normpath(item.path) for item in items]
        allowed.update(paths)
        allowed.update(str(info / f) for f in INSTALLER_FILES)
        owned = {_top(site, p) for p in paths} - {None, "__pycache__"}
        for top in owned:
            tops.setdefault(str(top), name)
        if wanted is None or name in wanted:
            yield from items
            if wheel is not None:  # what else is in its folders: only a wheel says
                walk += [(name, site / str(top)) for top in owned if (site / str(top)).is_dir()]
    yield from _added(site, allowed, tops, walk, conda_owned)


def _top(site: Path, path: str) -> str | None:
    """The first component of ``path`` (normalized) below ``site``; None outside it."""
    root = str(site) + os.sep
    return path[len(root) :].split(os.sep, 1)[0] if path.startswith(root) else None


def _from_wheel(
    name: str, contents: WheelContents, site: Path, prefix: Path, scripts: Path, info: Path
) -> Iterator[Expected]:
    """The wheel's ``RECORD`` rows where an installer puts them."""
    data = contents.data_dir + "/"
    headers: dict[str, str] | None = None
    for f in contents.files:
        kind, digest, size = "file", f.digest, f.size
        if not f.path.startswith(data):
            target = site / f.path
        else:
            scheme, _, rest = f.path[len(data) :].partition("/")
            if scheme in ("purelib", "platlib"):
                target = site / rest
            elif scheme == "scripts":
                target = scripts / rest
                if f.path in contents.script_rests:
                    kind = "script"
                    digest, size = contents.script_rests[f.path]
            elif scheme == "data":
                target = prefix / rest
            else:  # headers: where the installer put them, by the installed RECORD
                headers = _installed_paths(site, info) if headers is None else headers
                target = Path(headers.get(rest, str(prefix / "include" / name / rest)))
        yield Expected("pip", name, f.path, target, digest, size, b64=True, kind=kind)


def _installed_paths(site: Path, info: Path) -> dict[str, str]:
    """Suffix after ``include/.../<name>/`` -> installed path, from the installed RECORD
    (where each header went; its hashes are not used)."""
    out: dict[str, str] = {}
    try:
        text = (info / "RECORD").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return out
    for row in csv.reader(text.splitlines()):
        if row and "include" in row[0].split("/"):
            parts = row[0].split("/")
            rest = parts[parts.index("include") + 1 :]
            for i in range(len(rest)):
                out.setdefault("/".join(rest[i:]), os.path.normpath(site / row[0]))
    return out


def _added(
    site: Path,
    allowed: set[str],
    tops: dict[str, str],
    walk: list[tuple[str, Path]],
    conda_owned: frozenset[str],
) -> Iterator[Expected]:
    """Files no verified package installs: in the pip packages' folders (``walk``) and
    at the top of site-packages (what no distribution and no conda package owns)."""
    for name, folder in walk:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            in_cache = os.path.basename(root) == "__pycache__"
            for f in sorted(files):
                path = os.path.join(root, f)
                if in_cache and f.endswith(".pyc"):
                    rel = os.path.relpath(path, site)
                    yield Expected("pip", name, rel, Path(path), "", None, kind="pyc")
                elif path not in allowed:
                    yield _added_item(name, site, path)
    conda_tops = {t for t in (_top(site, p) for p in conda_owned) if t}
    try:
        entries = sorted(os.scandir(site), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name in tops or entry.name in VENV_FILES or entry.name in conda_tops:
            continue
        if entry.is_dir(follow_symlinks=False):
            continue  # a package folder no one imports runs nothing (a .pth would)
        if os.path.normpath(entry.path) not in allowed:
            yield _added_item("?", site, entry.path)


def _added_item(owner: str, site: Path, path: str) -> Expected:
    return Expected("pip", owner, os.path.relpath(path, site), Path(path), "", None, kind="added")


def conda_site_files(prefix: Path) -> frozenset[str]:
    """Every path (normalized, absolute) that a conda package of ``prefix`` lists."""
    out: set[str] = set()
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        files = data.get("files") if isinstance(data, dict) else None
        for rel in files if isinstance(files, list) else ():
            if isinstance(rel, str):
                out.add(os.path.normpath(prefix / rel))
    return frozenset(out)
