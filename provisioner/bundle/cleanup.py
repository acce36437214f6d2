"""Disk after a bundle update: what a host keeps, and what goes once the new bundle's
environment is verified.

Under ``$PROVISION_HOME/bundles`` the exported playbook unpacks each bundle into a
folder named by its id (``<id>/<top>/``), and :func:`provisioner.bundle.install.prepare`
writes the bundle's profile and localized lock into ``<top>-<sums>/``. Wheels are
referenced through ``pool/<sha256[:16]>/<file>`` (hard links to the bundle's copies),
so an unchanged wheel keeps its URL from one bundle to the next: the environment is not
reinstalled and uv's cache gets no second copy.

After a verified run from a bundle that is not the one recorded as current
(``bundles/active.json``), the bundles beyond the current and ``keep`` previous ones
(for a rollback) are removed with their work folders, pool entries no kept bundle
references, provision's verified store entries no environment on this host uses, and
uv's cache entries of the wheels the new lock replaced (``uv cache clean NAME``), and
the tool venvs (``tool/<id>``) no kept bundle runs with.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from provisioner.atomic import write_atomic

ACTIVE = "active.json"
POOL = "pool"
LOCK_NAME = "profile.conda-lock.yml"
_BUNDLE_ID = re.compile(r"^[0-9a-f]{16}$")


def _read_active(root: Path) -> list[dict[str, str]]:
    try:
        data = json.loads((root / ACTIVE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    items = data.get("bundles") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


def _locked_files(work: Path) -> dict[str, str]:
    """``{url: name}`` of the pip packages in a work folder's localized lock."""
    import yaml

    try:
        data = yaml.safe_load((work / LOCK_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    out: dict[str, str] = {}
    for entry in data.get("package", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and entry.get("manager") == "pip":
            out[str(entry.get("url"))] = str(entry.get("name"))
    return out


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink() and p.stat().st_nlink == 1:
                total += p.stat().st_size
    return total


def _remove(path: Path, removed: list[str]) -> None:
    size = _size(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
    if not path.exists():
        removed.append(f"{path} ({size / 2**20:.1f} MiB)")


def clean_after_switch(home: Path, bundle: Path, *, keep: int = 1) -> tuple[str, ...]:
    """After a verified run from ``bundle``: remove what no kept bundle or environment
    uses; what was removed, with sizes. Nothing happens while ``bundle`` is already the
    current one (a no-op run reads one small file)."""
    from provisioner.bundle.install import bundle_id, work_folder

    root = home / "bundles"
    current = {"id": bundle_id(bundle), "work": work_folder(bundle).name}
    if bundle.parent.parent == root:  # unpacked by the playbook: bundles/<id>/<top>
        current["dir"] = bundle.parent.name
    tool = Path(sys.prefix)  # the tool venv this runs in: tool/<id>/venv
    if tool.parent.parent == home / "tool":
        current["tool"] = tool.parent.name
    known = _read_active(root)
    if known and known[0].get("id") == current["id"]:
        return ()
    kept = [current, *[k for k in known if k.get("id") != current["id"]][:keep]]
    removed: list[str] = []
    kept_dirs = {k.get("dir") for k in kept}
    kept_work = {k.get("work") for k in kept}
    old_files: dict[str, str] = {}
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if entry.name in (ACTIVE, POOL) or not entry.is_dir():
            continue
        if _BUNDLE_ID.match(entry.name) and entry.name not in kept_dirs:
            _remove(entry, removed)
        elif (entry / LOCK_NAME).is_file() and entry.name not in kept_work:
            old_files.update(_locked_files(entry))
            _remove(entry, removed)
    wanted: dict[str, str] = {}
    for k in kept:
        wanted.update(_locked_files(root / str(k.get("work"))))
    _clean_pool(root / POOL, set(wanted), removed)
    _clean_store(removed)
    _clean_tools(home, kept, removed)
    replaced = sorted({name for url, name in old_files.items() if url not in wanted})
    _clean_uv(replaced, removed)
    with contextlib.suppress(OSError):
        write_atomic(root / ACTIVE, json.dumps({"bundles": kept}, indent=2) + "\n")
    return tuple(removed)


def _clean_pool(pool: Path, urls: set[str], removed: list[str]) -> None:
    from provisioner.env.artifacts import file_url

    for folder in sorted(pool.iterdir()) if pool.is_dir() else []:
        files = list(folder.iterdir()) if folder.is_dir() else []
        if not any(file_url(f.resolve()) in urls for f in files):
            _remove(folder, removed)


def _clean_store(removed: list[str]) -> None:
    """provision's verified store: entries no environment here uses (the same answer
    ``provision clean`` gives, :mod:`provisioner.inventory.clean`)."""
    from provisioner.inventory import in_use
    from provisioner.inventory.clean import unused_artifacts

    for item in unused_artifacts(in_use()):
        _remove(item.path, removed)


def _clean_tools(home: Path, kept: list[dict[str, str]], removed: list[str]) -> None:
    """Tool venvs (``tool/<id>``) that no kept bundle was run with."""
    wanted = {k.get("tool") for k in kept}
    if None in wanted:  # a bundle recorded before tools were: keep them all
        return
    tools = home / "tool"
    for entry in sorted(tools.iterdir()) if tools.is_dir() else []:
        if entry.is_dir() and entry.name not in wanted:
            _remove(entry, removed)


def _clean_uv(names: Iterable[str], removed: list[str]) -> None:
    """uv's cache entries of wheels the new lock replaced (the environment, hard-linked
    to the new entries, keeps its files)."""
    names = list(names)
    if not names:
        return
    from provisioner.process import CommandFailed, run
    from provisioner.uvbin import uv_executable

    with contextlib.suppress(CommandFailed, OSError):
        run([uv_executable(), "cache", "clean", *names], timeout=600)
        removed.append(f"uv cache entries of {', '.join(names)}")
