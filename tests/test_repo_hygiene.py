"""The repository's own text: no merge left its conflict markers behind (one landed in
docs/compat.md once, and nothing else would have noticed: Markdown renders them)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKIP = {".git", ".venv", ".cache", ".mypy_cache", ".ruff_cache", ".pytest_cache", "out"}
TEXT = {".py", ".md", ".yaml", ".yml", ".toml", ".j2", ".json", ".txt", ".cfg", ".ini", ""}
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def _files() -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        parts = path.relative_to(REPO).parts
        if any(p in SKIP or p.endswith(".egg-info") for p in parts):
            continue
        if path.is_file() and not path.is_symlink() and path.suffix in TEXT:
            found.append(path)
    return found


def test_no_file_holds_merge_conflict_markers() -> None:
    files = _files()
    assert any(p.name == "README.md" for p in files)  # the walk sees the tree
    bad = []
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        if "<<<<<<<" in text or ">>>>>>>" in text:
            bad += [f"{path.relative_to(REPO)}: {m.group(0)!r}" for m in MARKER.finditer(text)]
    assert not bad, bad


def test_the_marker_pattern_finds_what_git_writes() -> None:
    sample = "a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> main\n"
    assert [m.group(0) for m in MARKER.finditer(sample)] == ["<<<<<<< ", "=======", ">>>>>>> "]
