"""What the activation data of ``provisioner/env/activation.py`` makes of a prefix's
files: the one implementation that ``provision apply`` runs (it writes the result
atomically) and that the bootstrap scripts run, packed into their helper
(``target/bootstrap.py``), with the environment's own Python.

So this module runs on Python 3.7 or newer with the standard library only: no
provisioner imports, nothing newer than 3.7 (annotations are never evaluated). The
data (a JSON-able dict, :func:`provisioner.env.activation.activation_data`) says what
to write; this module only knows how to apply it:

- ``venv_scripts``: for each venv script found in ``bin/`` or ``Scripts/`` (name
  compared in lower case), our old blocks (``strip``, a regular expression) are
  removed, the ``restore`` block goes after the first match of ``anchor`` (the line
  that opens ``deactivate``), and the ``set`` block at the end; an empty ``set``
  (no variables) only removes;
- ``conda_files``: path (``/``-separated, under the prefix) -> text, or ``None`` for a
  file that must not exist;
- ``conda_state``: ``env_vars`` merged into ``conda-meta/state``, keeping variables a
  user set there (``key`` lists the ones we set).

Files are read as text with universal newlines (a BOM dropped) and written as UTF-8
with ``\\n``; a ``.ps1`` file that is not pure ASCII gets a BOM (Windows PowerShell 5.1
reads a BOM-less script in the ANSI code page).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any


def read_text(path: str) -> str | None:
    """The file's text, or ``None`` when it is absent or not UTF-8 (then it is rewritten)."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def venv_script_text(text: str, patch: dict[str, str], strip: str) -> str:
    """``text`` (a venv activate script) with our blocks replaced by ``patch``'s."""
    text = re.sub(strip, "", text)
    if not patch["set"]:
        return text
    found = re.search(patch["anchor"], text)
    if found is not None:  # restore inside deactivate; the activate script calls it first
        at = found.end()
        text = text[:at] + patch["restore"] + text[at:]
    return text + ("" if text.endswith("\n") else "\n") + patch["set"]


def conda_state_text(state: dict[str, Any], spec: dict[str, Any]) -> str | None:
    """``conda-meta/state`` with ``spec["env_vars"]`` as ours; ``None``: no file needed.
    conda reads ``env_vars``; ``spec["key"]`` names the ones we set, so variables a
    user added with ``conda env config vars set`` are kept."""
    key = spec["key"]
    items = sorted(spec["env_vars"].items())
    env_vars = state.get("env_vars")
    ours = state.get(key)
    theirs = {
        str(k): v
        for k, v in (env_vars.items() if isinstance(env_vars, dict) else ())
        if not (isinstance(ours, list) and k in ours)
    }
    state = {k: v for k, v in state.items() if k not in ("env_vars", key)}
    if theirs or items:
        state["env_vars"] = {**theirs, **dict(items)}
    if items:
        state[key] = [k for k, _ in items]
    return json.dumps(state, indent=2, sort_keys=True) + "\n" if state else None


def wanted(prefix: str, data: dict[str, Any]) -> dict[str, str | None]:
    """What each activation file under ``prefix`` must hold (``None``: must not exist)."""
    out: dict[str, str | None] = {}
    for folder in ("bin", "Scripts"):
        where = os.path.join(prefix, folder)
        if not os.path.isdir(where):
            continue
        names = {name.lower(): os.path.join(where, name) for name in os.listdir(where)}
        for patch in data["venv_scripts"]:
            path = names.get(patch["name"])
            text = read_text(path) if path is not None else None
            if path is not None and text is not None:
                out[path] = venv_script_text(text, patch, data["strip"])
    for rel, text in data["conda_files"].items():
        out[os.path.join(prefix, *rel.split("/"))] = text
    spec = data["conda_state"]
    if spec is not None:
        path = os.path.join(prefix, "conda-meta", "state")
        out[path] = conda_state_text(_read_json(path), spec)
    return out


def is_current(prefix: str, data: dict[str, Any]) -> bool:
    """Whether the files under ``prefix`` already hold what ``data`` says."""
    return all(read_text(p) == t for p, t in wanted(prefix, data).items())


def changes(prefix: str, data: dict[str, Any]) -> list[tuple[str, bytes | None]]:
    """The files under ``prefix`` that differ from ``data``: their new bytes, or
    ``None`` for a file to remove. apply writes them atomically (``provisioner/atomic.py``)."""
    out: list[tuple[str, bytes | None]] = []
    for path, text in wanted(prefix, data).items():
        if read_text(path) == text:
            continue
        if text is None:
            out.append((path, None))
            continue
        raw = text.encode("utf-8")
        if path.lower().endswith(".ps1") and not text.isascii():
            raw = b"\xef\xbb\xbf" + raw  # Windows PowerShell 5.1 reads BOM-less as ANSI
        out.append((path, raw))
    return out
