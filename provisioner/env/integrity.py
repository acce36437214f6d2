"""Are the installed files still the files their packages installed?

Each installed file is hashed and compared with the hash recorded when it was
installed: for conda packages ``conda-meta/<pkg>.json`` ``paths_data`` (the
``sha256_in_prefix`` of a file rewritten for the prefix, else its ``sha256``), for
pip packages the ``RECORD`` of their ``*.dist-info``. A file whose size differs is
altered without hashing it. Symbolic links, folders and files listed without a hash
(``RECORD`` itself, bytecode) are not checked.

``provision verify`` and ``apply --force`` run this; a plain apply does not (it
trusts the recorded state, see docs/apply.md). Environments are hard-linked to the
package caches of rattler and uv, so a file edited in an environment also changes
the cache entry it came from: the repair re-extracts past that entry.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
SKIP_PATH_TYPES = frozenset({"softlink", "directory"})


@dataclass(frozen=True)
class AlteredFile:
    """One installed file that no longer matches its package's record."""

    manager: str  # conda | pip
    package: str  # the package (conda name, or PEP 503 pip name) that owns it
    path: str  # as recorded: prefix-relative (conda) or site-packages-relative (pip)
    problem: str  # "changed" | "missing"

    def describe(self) -> str:
        return f"{self.manager}:{self.package}: {self.path} ({self.problem})"


@dataclass(frozen=True)
class Expected:
    """What one installed path must be. ``kind``: ``file`` (these bytes), ``script`` (a
    shebang line the installer wrote, then these bytes), ``added`` (nothing may be
    there: no verified package installs it), ``pyc`` (bytecode Python checks against
    its source: not an unchecked-hash pyc)."""

    manager: str
    package: str
    recorded: str
    path: Path
    digest: str  # hex sha256, or urlsafe-base64 (RECORD) when ``b64``
    size: int | None
    b64: bool = False
    kind: str = "file"


def conda_expectations(prefix: Path, names: Iterable[str] | None = None) -> Iterator[Expected]:
    """What ``conda-meta`` says each file of each package (or only ``names``) must be.

    Checking every package (no ``names``), a record that cannot be read is itself a
    finding: nothing says what that package's files must be."""
    wanted = set(names) if names is not None else None
    for meta_path in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            meta = None
        paths_data = meta.get("paths_data") if isinstance(meta, dict) else None
        paths = paths_data.get("paths") if isinstance(paths_data, dict) else None
        if not isinstance(meta, dict) or not isinstance(paths, list):
            if wanted is None:
                where = f"conda-meta/{meta_path.name}"
                yield Expected("conda", meta_path.stem, where, meta_path, "", None)
            continue
        if wanted is not None and meta.get("name") not in wanted:
            continue
        for entry in paths:
            if not isinstance(entry, dict) or entry.get("path_type") in SKIP_PATH_TYPES:
                continue
            digest = entry.get("sha256_in_prefix") or entry.get("sha256")
            rel = entry.get("_path")
            if not isinstance(digest, str) or not isinstance(rel, str):
                continue
            size = entry.get("size_in_bytes") if "sha256_in_prefix" not in entry else None
            yield Expected(
                "conda",
                str(meta.get("name")),
                rel,
                prefix / rel,
                digest,
                size if isinstance(size, int) else None,
            )


def pip_expectations(site: Path, infos: Iterable[tuple[str, Path]]) -> Iterator[Expected]:
    """What each ``RECORD`` (of the ``(name, dist-info folder)`` pairs) says its files must be."""
    for name, info in infos:
        record = info / "RECORD"
        try:
            text = record.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            # No RECORD, nothing says what the files must be: the distribution is not
            # intact (``_problem`` finds the RECORD missing or unreadable).
            yield Expected("pip", name, f"{info.name}/RECORD", record, "", None, b64=True)
            continue
        for row in csv.reader(text.splitlines()):
            if len(row) < 2 or not row[1].startswith("sha256="):
                continue
            size = int(row[2]) if len(row) > 2 and row[2].isascii() and row[2].isdigit() else None
            yield Expected("pip", name, row[0], site / row[0], row[1][7:], size, b64=True)


def _problem(item: Expected) -> str:
    """ "" when the file matches its record, else "changed", "missing" or "added"."""
    if item.kind == "added":
        return "added" if os.path.lexists(item.path) else ""
    if item.kind == "pyc":
        return _pyc_problem(item.path)
    if item.kind == "script":
        return _script_problem(item)
    try:
        if item.size is not None and item.path.stat().st_size != item.size:
            return "changed"
        digest = hashlib.sha256()
        with item.path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "changed"  # unreadable (a folder where a file was, no permission)
    except ValueError:
        return "missing"  # a recorded path no file can have (a NUL byte in it)
    if not item.digest:
        return "changed"  # a file that exists where its record could not be read
    if item.b64:
        got = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        return "" if got == item.digest.rstrip("=") else "changed"
    return "" if digest.hexdigest() == item.digest else "changed"


# A script the installer rewrote: at most this much shebang (uv's /bin/sh trampoline for
# a long interpreter path is three lines) before the wheel's own bytes.
MAX_SHEBANG = 4096


def _script_problem(item: Expected) -> str:
    """A ``#!python`` script of a wheel: the installer's shebang, then the wheel's bytes
    after its first line (``digest``/``size``)."""
    size = item.size or 0
    try:
        with item.path.open("rb") as f:
            data = f.read(size + MAX_SHEBANG + 1)
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError):
        return "changed"
    head, rest = data[: len(data) - size], data[len(data) - size :]
    if len(head) > MAX_SHEBANG or not head.startswith(b"#!") or not head.endswith(b"\n"):
        return "changed"
    digest = base64.urlsafe_b64encode(hashlib.sha256(rest).digest()).rstrip(b"=").decode()
    return "" if digest == item.digest else "changed"


def _pyc_problem(path: Path) -> str:
    """An unchecked-hash pyc (PEP 552 flags 0b01) runs whatever source sits beside it:
    only an installer that was told to write one does; a planted one is "changed"."""
    try:
        with path.open("rb") as f:
            header = f.read(8)
    except OSError:
        return ""  # gone, or unreadable: Python cannot load it either
    flags = int.from_bytes(header[4:8], "little") if len(header) == 8 else 0
    return "changed" if flags & 0b11 == 0b01 else ""


def altered_files(expectations: Iterable[Expected]) -> tuple[int, tuple[AlteredFile, ...]]:
    """Hash every expected file (on a few threads); how many were checked and the
    altered ones, in a stable order."""
    items = list(expectations)
    # A few threads, each hashing a share of the files in turn (one task per file
    # costs more than hashing the small ones; hashlib lets threads run in parallel).
    workers = max(1, min(8, (os.cpu_count() or 2) * 2, len(items) // 64))
    shares = [items[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(lambda share: [(x, _problem(x)) for x in share], shares))
    altered = tuple(
        AlteredFile(item.manager, item.package, item.recorded, problem)
        for share in done
        for item, problem in share
        if problem
    )
    return len(items), tuple(sorted(altered, key=lambda a: (a.manager, a.package, a.path)))


def by_package(altered: Iterable[AlteredFile]) -> dict[str, list[AlteredFile]]:
    """``manager:name`` -> its altered files."""
    out: dict[str, list[AlteredFile]] = {}
    for a in altered:
        out.setdefault(f"{a.manager}:{a.package}", []).append(a)
    return out
