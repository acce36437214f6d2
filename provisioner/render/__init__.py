"""Render a resolved profile into files, and write them in one place.

Renderers are pure functions ``(RenderContext) -> str`` registered in
:data:`ARTIFACTS` (a plain dict: file name -> :class:`Artifact`). Each feature adds
its own artifacts in ``provisioner/render/artifacts_*.py`` and registers them in
``provisioner/render/registry.py``. :func:`write_files` is the only writer: it
compares bytes first and reports ``create / identical / overwrite`` per file.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.atomic import write_atomic
from provisioner.errors import ProvisionError
from provisioner.profile import ResolvedProfile


@dataclass(frozen=True)
class RenderContext:
    """Everything a renderer may read. Renderers must not touch the host."""

    resolved: ResolvedProfile
    tool_version: str
    # Extra inputs produced by other pipeline stages (e.g. the lockfile text), keyed by name.
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Artifact:
    """One rendered file: its name, the pure function that makes its text, and its mode."""

    name: str
    render: Callable[[RenderContext], str]
    executable: bool = False
    # Whether the artifact applies to this profile (e.g. bootstrap.ps1 only for windows).
    applies: Callable[[ResolvedProfile], bool] = lambda _r: True


class WriteAction(str, enum.Enum):
    create = "create"
    identical = "identical"
    overwrite = "overwrite"


@dataclass(frozen=True)
class Written:
    name: str
    action: WriteAction
    sha256: str


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _existing(target: Path, size: int) -> bytes | None:
    """The bytes of an existing output file (None when they cannot be the same: a
    different size); a pipe, a device or a socket in the output folder is refused, not
    read (a pipe never ends) nor replaced."""
    import stat

    from provisioner.inputs import file_kind

    info = target.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ProvisionError(
            f"{target}: {file_kind(info.st_mode)} where provision writes a file",
            hint=f"remove it, or choose another output folder than {target.parent}",
        )
    return target.read_bytes() if info.st_size == size else None


def write_files(outdir: Path, files: Mapping[str, tuple[str, bool]]) -> list[Written]:
    """Write ``{name: (text, executable)}`` under ``outdir``, comparing bytes first.

    A file whose bytes are already identical is not touched (its mtime stays), so a
    second render changes nothing. Writes go through ``atomic.write_atomic``, so an
    interrupted render never leaves a half-written file.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    results: list[Written] = []
    for name, (text, executable) in files.items():
        target = outdir / name
        data = text.encode("utf-8")
        mode = 0o755 if executable else 0o644
        if target.exists():
            same = _existing(target, len(data)) == data
            action = WriteAction.identical if same else WriteAction.overwrite
        else:
            same = False
            action = WriteAction.create
        if not same:
            write_atomic(target, data, mode=mode)
        elif (target.stat().st_mode & 0o777) != mode:
            target.chmod(mode)
        results.append(Written(name, action, hashlib.sha256(data).hexdigest()))
    return results
