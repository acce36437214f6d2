"""Every profile example in the README and docs/ validates on its own, written to a
folder of its own (no file beside it to extend)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.profile import load_profile

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def yaml_blocks() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text("utf-8")
        for n, m in enumerate(re.finditer(r"^```yaml\n(.*?)^```", text, re.S | re.M)):
            out.append((f"{doc.relative_to(REPO)}#{n + 1}", m.group(1)))
    return out


BLOCKS = yaml_blocks()


def test_the_docs_have_profile_examples() -> None:
    assert {name.split("#")[0] for name, _ in BLOCKS} >= {"README.md", "docs/profiles.md"}


@pytest.mark.parametrize(("where", "text"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_a_profile_example_validates_on_its_own(tmp_path: Path, where: str, text: str) -> None:
    path = tmp_path / "example" / "profile.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    resolved = load_profile(path)  # raises ValidationFailed with every diagnostic
    assert resolved.profile.name
