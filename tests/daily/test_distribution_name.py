"""The distribution name is ours, and no doc tells a user to install someone else's code.

`provisioner` (2016) and `provision` (2011) on PyPI are unrelated projects; ours is
`provisioner-gpu` (free on PyPI when chosen: https://pypi.org/pypi/provisioner-gpu/json
answered 404). Every `pip install` (also `uv pip install`, `pipx install`) in the README,
docs/ and the bundle's README template may name only: a path of this clone (`.`,
`-e .`, `'.[fleet]'`), our own distribution, or a third-party project listed below on
purpose."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from provisioner import DISTRIBUTION

REPO = Path(__file__).resolve().parents[2]
DOCS = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    REPO / "provisioner" / "templates" / "bundle" / "README.md.j2",
]
NOT_OURS = {"provisioner", "provision"}
# Third-party projects a doc names on purpose, each with why.
THIRD_PARTY = {
    "ansible": "the ansible.windows collection for the Windows play (docs/imaging.md)",
    "ansible-core": "the controller that runs the exported playbook",
    "tensorflow": "a user's command quoted from a failure log (docs/checks.md)",
}
INSTALL = re.compile(r"\b(?:uv pip|pipx|pip3?|-m pip) install\b([^`\n]*)")


def install_targets(text: str) -> list[str]:
    """Every requirement named after an `install` (options and their values skipped)."""
    out: list[str] = []
    for m in INSTALL.finditer(text):
        line = re.sub(r"<[^>]*>", "PLACEHOLDER", m.group(1).split("&&", 1)[0].split(";", 1)[0])
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        skip_next = False
        for word in words:
            if skip_next:
                skip_next = False
            elif word in {"-e", "--editable"}:
                continue
            elif word in {"-r", "-c", "--python", "-p", "--index-url", "--extra-index-url"}:
                skip_next = True
            elif word.startswith("-") or word in {"...", "PLACEHOLDER"}:
                continue
            else:
                out.append(word)
    return out


def is_ours(target: str) -> bool:
    if target.startswith((".", "/")) or target.endswith((".whl", ".tar.gz")):
        return True  # a path: this clone, a built wheel
    return canonicalize_name(Requirement(target).name) == DISTRIBUTION


def test_pyproject_names_our_distribution() -> None:
    text = (REPO / "pyproject.toml").read_text("utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    name = re.search(r'^name = "([^"]+)"$', project, re.M)
    assert name is not None and canonicalize_name(name[1]) == DISTRIBUTION
    assert canonicalize_name(DISTRIBUTION) not in NOT_OURS
    assert 'provision = "provisioner.cli:entry"' in text


def test_the_parser_sees_what_a_user_would_type() -> None:
    text = (
        "run `pip install 'provisioner[fleet]'` or `uv pip install --python X ansible` "
        "or `python -m pip install -e '.[dev]'`"
    )
    assert install_targets(text) == ["provisioner[fleet]", "ansible", ".[dev]"]
    assert not is_ours("provisioner[fleet]") and is_ours(".[dev]")
    assert is_ours("provisioner-gpu[fleet]") and is_ours("provisioner_gpu")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_doc_installs_a_distribution_that_is_not_ours(doc: Path) -> None:
    text = doc.read_text("utf-8")
    for target in install_targets(text):
        if is_ours(target):
            continue
        try:
            name = canonicalize_name(Requirement(target).name)
        except InvalidRequirement:
            pytest.fail(f"{doc.name}: `install {target}` is neither ours nor a requirement")
        assert name not in NOT_OURS, f"{doc.name} tells users to install {target!r}: not ours"
        assert name in THIRD_PARTY, f"{doc.name}: `install {target}`: add it to THIRD_PARTY"


def test_docs_say_which_name_is_ours() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert f"`{DISTRIBUTION}`" in readme
