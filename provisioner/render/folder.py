"""Render every artifact of a profile into a folder that render owns.

The artifacts come from :mod:`provisioner.render.registry`; ``manifest.json`` is
written last and lists each file with its sha256, the resolved profile's content hash
and the tool version. A file listed in the folder's earlier ``manifest.json`` that this
render no longer writes is removed; other files are left alone. Writing compares bytes
first, so a second render changes nothing. The lockfile (given, or the one beside the
profile) is validated and must match the profile (not stale): a bad one is exit 2
before anything is written. ``provision render`` and the bundle both render through
here.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner import __version__
from provisioner.errors import ExitCode, ProvisionError, relpath
from provisioner.lock.location import lock_location
from provisioner.profile.resolved import one_line
from provisioner.render import Artifact, RenderContext, Written, sha256_text, write_files

if TYPE_CHECKING:
    from provisioner.lock import Lock
    from provisioner.profile import ResolvedProfile

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class RenderedFolder:
    """What one render did: each written file with its action, and the files of an
    earlier render it removed (names relative to the folder)."""

    written: tuple[Written, ...]
    removed: tuple[str, ...]


def render_files(
    resolved: ResolvedProfile, locked: tuple[str, Lock] | None
) -> dict[str, tuple[str, bool]]:
    """Every artifact's text for this profile (with the lock's text and :class:`Lock`
    when there is one), then ``manifest.json``: name -> (text, executable)."""
    extras: dict[str, Any] = {}
    if locked is not None:
        extras["lock_text"], extras["lock"] = locked
    ctx = RenderContext(resolved, __version__, extras)
    files: dict[str, tuple[str, bool]] = {}
    for artifact in artifacts(resolved, ctx):
        files[artifact.name] = (artifact.render(ctx), artifact.executable)
    files[MANIFEST_NAME] = (manifest_text(ctx, files), False)
    return files


def render_folder(
    resolved: ResolvedProfile, output: Path, lockfile: Path | None = None
) -> RenderedFolder:
    """Render every artifact of ``resolved`` (with ``lockfile``, else the lock beside
    the profile) into ``output``; remove the files an earlier render wrote there that
    this one does not."""
    files = render_files(resolved, read_lock(resolved, lockfile))
    earlier = owned_files(output)
    try:
        written = write_files(output, files)
        removed = [n for n in earlier if n not in files and _remove(output / n)]
    except OSError as e:
        raise ProvisionError(
            f"cannot write to {output}: {e.strerror or e}", hint="choose a writable -o folder"
        ) from e
    return RenderedFolder(tuple(written), tuple(removed))


def owned_files(output: Path) -> list[str]:
    """The files an earlier render wrote into ``output``, from its ``manifest.json``: the
    folder is render's, so a file it no longer writes (``bootstrap.ps1`` after rendering
    a linux profile over a windows one) is removed, not left behind unlisted. Files the
    manifest does not list are never touched; an unreadable manifest owns nothing."""
    from provisioner.inputs import MANIFEST, Unreadable, read_bounded

    try:  # bounded: a pipe or a huge file planted there owns nothing
        doc = json.loads(read_bounded(output / MANIFEST_NAME, MANIFEST).decode("utf-8"))
        entries = doc["files"] if doc.get("tool") == "provision" else []
        names = [e["name"] for e in entries if isinstance(e, dict)]
    except (Unreadable, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return []
    return [n for n in names if isinstance(n, str) and n and Path(n).name == n and n != ".."]


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def _remove(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    path.unlink()
    return True


def lockfile_path(resolved: ResolvedProfile, lockfile: Path | None) -> Path | None:
    """``--lockfile``, else the profile's lockfile
    (:func:`provisioner.lock.location.lock_location`) when it exists, else None."""
    candidate = lockfile or lock_location(resolved).path
    return candidate if lockfile is not None or candidate.is_file() else None


def read_lock(resolved: ResolvedProfile, lockfile: Path | None) -> tuple[str, Lock] | None:
    """The lockfile's exact text and its validated :class:`Lock`, or None without one.

    A malformed lockfile, or one whose lock inputs are not the profile's (stale, or
    another profile's), is refused with exit 2: the scripts would install the wrong
    packages."""
    from provisioner.inputs import LOCKFILE, Unreadable, read_bounded
    from provisioner.lock.lockfile import read_lockfile
    from provisioner.lock.staleness import staleness

    path = lockfile_path(resolved, lockfile)
    if path is None:
        return None
    # One bounded read (a FIFO or a device is exit 2, not a hang), parsed from the bytes.
    fix = f"pass an existing lockfile, or make one: provision lock {relpath(resolved.path)}"
    try:
        data = read_bounded(path, LOCKFILE, missing_fix=fix)
        text = data.decode("utf-8")
    except (Unreadable, UnicodeDecodeError) as e:
        reason = e.reason if isinstance(e, Unreadable) else "not UTF-8 text"
        raise ProvisionError(
            f"cannot read lockfile {path}: {reason}",
            hint=e.fix if isinstance(e, Unreadable) else fix,
        ) from None
    lock = read_lockfile(path, data)  # exit 2 naming the field that is wrong
    stale = staleness(lock, resolved)
    if stale is not None:
        why = stale.describe()
        shown, profile = one_line(relpath(path)), one_line(relpath(resolved.path))
        own = lock_location(resolved).path
        # Re-locking into a --lockfile that is not this profile's own would overwrite
        # another profile's lock: then the fix writes the profile's own lockfile.
        where = ""
        if lockfile is not None:
            where = f" -o {shown}" if _same(path, own) else ", then render without --lockfile"
        raise ProvisionError(
            f"{shown}: lockfile is stale for {profile} ({why})",
            hint=f"provision lock {profile}{where}",
            exit_code=ExitCode.INVALID,
        )
    return text, lock


def artifacts(resolved: ResolvedProfile, ctx: RenderContext) -> list[Artifact]:
    """The registry's artifacts for this profile, minus those whose module says they need
    a context input that is missing (``APPLIES_WITH_CONTEXT``, e.g. no lock text)."""
    from provisioner.render.registry import artifacts_for

    chosen = []
    for artifact in artifacts_for(resolved):
        module = sys.modules.get(getattr(artifact.render, "__module__", ""))
        predicates = getattr(module, "APPLIES_WITH_CONTEXT", {})
        applies = predicates.get(artifact.name)
        if applies is None or applies(ctx):
            chosen.append(artifact)
    return chosen


def manifest_text(ctx: RenderContext, files: dict[str, tuple[str, bool]]) -> str:
    """``manifest.json``: every rendered file with its sha256, plus the profile's hash."""
    doc = {
        "tool": "provision",
        "tool_version": ctx.tool_version,
        "profile": ctx.resolved.name,
        "profile_hash": ctx.resolved.content_hash,
        "files": [
            {"name": name, "sha256": sha256_text(text), "executable": executable}
            for name, (text, executable) in files.items()
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
