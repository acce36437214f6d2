"""Golden files of the PowerShell scripts, which cannot run here (no PowerShell).

A change to check.ps1's or bootstrap.ps1's logic shows up in review as a diff of
tests/data/golden/<profile>.{check,bootstrap}.ps1. After an intended change, regenerate
them with `invoke golden` (PROVISION_UPDATE_GOLDEN=1) and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_bootstrap import render_bootstrap_ps1
from provisioner.render.artifacts_checks import render_check_ps1

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "data" / "golden"
PROFILES = ("directml-windows", "torch-directml-windows")
RENDERERS = {"check.ps1": render_check_ps1, "bootstrap.ps1": render_bootstrap_ps1}
TOOL_IDS = {"3.11": "1" * 64, "3.12": "2" * 64}


@pytest.mark.parametrize("script", sorted(RENDERERS))
@pytest.mark.parametrize("profile", PROFILES)
def test_powershell_script_matches_its_golden_file(profile: str, script: str) -> None:
    ctx = RenderContext(load_profile(REPO / "profiles" / f"{profile}.yaml"), "golden")
    text = RENDERERS[script](ctx)
    golden = GOLDEN / f"{profile}.{script}"
    if os.environ.get("PROVISION_UPDATE_GOLDEN") == "1":
        golden.write_bytes(text.encode("utf-8"))
        pytest.skip("golden file rewritten (PROVISION_UPDATE_GOLDEN=1); review the diff")
    assert golden.read_bytes().decode("utf-8") == text, (
        f"{golden.name} differs from the rendered script; if intended, run `invoke golden`"
    )


def test_the_bundles_bootstrap_matches_its_golden_file() -> None:
    """The bundle's bootstrap.ps1 (tests/support/ps1_scripts.py renders it with the tool
    files every bundle carries) for the torch-directml Windows profile."""
    from tests.support.ps1_scripts import bundle_bootstrap_ps1

    ctx = RenderContext(load_profile(REPO / "profiles" / "torch-directml-windows.yaml"), "golden")
    text = bundle_bootstrap_ps1(ctx, top="torch-directml-windows-win-64", tool_ids=TOOL_IDS)
    golden = GOLDEN / "torch-directml-windows.bundle.bootstrap.ps1"
    if os.environ.get("PROVISION_UPDATE_GOLDEN") == "1":
        golden.write_bytes(text.encode("utf-8"))
        pytest.skip("golden file rewritten (PROVISION_UPDATE_GOLDEN=1); review the diff")
    assert golden.read_bytes().decode("utf-8") == text, (
        f"{golden.name} differs from the rendered script; if intended, run `invoke golden`"
    )


def test_golden_files_catch_an_inverted_comparison() -> None:
    """The comparison is byte for byte: inverting check.ps1's version test shows up."""
    text = (GOLDEN / "directml-windows.check.ps1").read_bytes().decode("utf-8")
    assert "if ($x -gt $y) { return $true }" in text
    broken = text.replace("if ($x -gt $y) { return $true }", "if ($x -lt $y) { return $true }")
    assert broken != text
