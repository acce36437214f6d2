"""The version is written once: ``provisioner/__init__.py``'s ``__version__``. The build
reads it from there (setuptools' own reading of pyproject.toml gives that version), the
CLI prints it, and CHANGELOG.md has a section for it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from setuptools.config.pyprojecttoml import read_configuration

from provisioner import __version__, cli

REPO = Path(__file__).resolve().parents[1]


def test_the_build_takes_the_version_from_the_package() -> None:
    written = read_configuration(REPO / "pyproject.toml", expand=False)["project"]
    assert "version" not in written and "version" in written["dynamic"]
    built = read_configuration(REPO / "pyproject.toml", expand=True)
    assert built["project"]["version"] == __version__


def test_the_cli_and_the_changelog_name_that_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"provision {__version__}"
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[?{re.escape(__version__)}\]?", changelog, re.M)
