"""``conda-meta/history`` for a prefix apply built, in conda's own format, so that
``conda env export --from-history`` lists what the profile asked for (its conda specs
and ``python``), not every package with its build.

Each apply that changed the prefix appends one revision: ``==> date <==``, the
packages removed (``-``) and added (``+``) since the revisions before, ``# update
specs: [...]`` with the profile's specs and ``# remove specs: [...]`` for specs an
earlier revision asked for and the profile no longer does (conda's
``History.get_requested_specs_map`` reads both). Nothing is appended when neither
the packages nor the specs changed.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Sequence
from pathlib import Path

from provisioner.env.conda import read_conda_meta

_SPECS = re.compile(r"^#\s*(\w+)\s*specs:\s*(\[.*\])\s*$")


def spec_name(spec: str) -> str:
    """The package a spec asks for (``conda-forge::numpy>=1`` -> ``numpy``, also after a
    channel URL), as conda's ``MatchSpec(spec).name`` keys the requested specs."""
    from provisioner.profile.extends import package_name

    return package_name(spec, "conda") or spec.rsplit("::", 1)[-1].strip().lower()


def _history_state(text: str) -> tuple[set[str], dict[str, str]]:
    """The packages and the requested specs (by name) all revisions add up to."""
    dists: set[str] = set()
    specs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("+"):
            dists.add(line[1:].strip())
        elif line.startswith("-"):
            dists.discard(line[1:].strip())
        elif m := _SPECS.match(line):
            try:
                listed = ast.literal_eval(m[2])
            except (ValueError, SyntaxError):
                continue
            for spec in listed if isinstance(listed, list) else ():
                if m[1] in ("update", "install", "create"):
                    specs[spec_name(str(spec))] = str(spec)
                elif m[1] in ("remove", "uninstall"):
                    specs.pop(spec_name(str(spec)), None)
    return dists, specs


def _dist(meta: dict[str, object]) -> str:
    channel = str(meta.get("channel") or "").rstrip("/")
    subdir = meta.get("subdir") or ""
    where = f"{channel}/{subdir}::" if channel else ""
    return f"{where}{meta.get('name')}-{meta.get('version')}-{meta.get('build')}"


def write_history(prefix: Path, requested: Sequence[str], command: str) -> bool:
    """Append a revision for the prefix's current packages and ``requested`` specs to
    ``conda-meta/history``; False when nothing changed since the last revision."""
    path = prefix / "conda-meta" / "history"
    try:
        # conda writes the locale's encoding; the file is only appended to, never rewritten
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    had, asked = _history_state(text)
    now = {_dist(meta) for meta in read_conda_meta(prefix).values()}
    wanted = {spec_name(s): s for s in requested}
    dropped = [asked[n] for n in sorted(asked) if n not in wanted]
    if now == had and asked == wanted:
        return False
    lines = [f"==> {time.strftime('%Y-%m-%d %H:%M:%S')} <==", f"# cmd: {command}"]
    lines += [f"-{d}" for d in sorted(had - now)] + [f"+{d}" for d in sorted(now - had)]
    lines.append(f"# update specs: {list(requested)!r}")
    if dropped:
        lines.append(f"# remove specs: {dropped!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return True
