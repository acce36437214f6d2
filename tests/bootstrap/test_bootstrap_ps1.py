"""bootstrap.ps1: parses cleanly under tree-sitter-powershell, and its structure is
right (options, steps, exit codes, every profile value a single-quoted literal).
PowerShell cannot run here, so the script is parsed, not executed."""

from __future__ import annotations

from pathlib import Path

import pytest
from bootstrap_e2e import Renderer
from pypi_index import small_index
from support.powershell import nodes_of_type, parse_errors
from support.profiles import profile_document, write_profile

from provisioner.render.jinja import quote_ps

HOSTILE = "it's $(Remove-Item C:\\) `n \u2019smart\u2019 & ; *"


def windows_profile(folder: Path) -> Path:
    environment = {
        "manager": "venv",
        "python": "3.11",
        "pip": ["six==1.17.0", "iniconfig==2.3.0"],
        "index_url": small_index().as_uri(),
        "variables": {"HOSTILE_VALUE": HOSTILE, "DML_VISIBLE_DEVICES": "0"},
    }
    document = profile_document("win-small", environment, os_="windows")
    return write_profile(folder / "win-small.yaml", document)


@pytest.fixture
def script(render: Renderer, tmp_path: Path) -> str:
    folder = render(windows_profile(tmp_path / "p"))
    assert not (folder / "bootstrap.sh").exists()  # a windows target gets the ps1 only
    return (folder / "bootstrap.ps1").read_text(encoding="utf-8")


def test_parses_without_errors(script: str) -> None:
    bad = parse_errors(script)
    assert not bad, bad[:10]
    assert parse_errors(script + "\nif ($x -eq { \n")  # the check does catch a broken script


def test_profile_values_are_single_quoted_literals(script: str) -> None:
    literals = {
        n.text.decode() for n in nodes_of_type(script, "verbatim_string_characters") if n.text
    }
    for value in ("win-small", "win-small-env", "3.11", "venv", "win-64", HOSTILE, "0"):
        assert quote_ps(value) in literals, value
    assert "$(Remove-Item" not in script.replace(quote_ps(HOSTILE), "")


def test_embeds_hash_pinned_requirements_for_win_64(script: str) -> None:
    reqs = [
        ln.strip()
        for ln in script.splitlines()
        if " --hash=sha256:" in ln and ln.strip().startswith("'")
    ]
    assert len(reqs) == 2
    assert all(r.endswith("'") for r in reqs)
    assert any(r.startswith("'six @ file://") for r in reqs)
    assert "--require-hashes --no-deps" in script
    # each artifact is hashed by the script itself before pip sees it
    assert "Get-FileHash -Algorithm SHA256" in script and "$LocalRequirements" in script
    packages = [
        ln.strip() for ln in script.splitlines() if ln.strip().startswith("[ordered]@{ manager")
    ]
    assert len(packages) == 2 and "name = 'six'; version = '1.17.0'" in "".join(packages)


def test_structure_options_steps_and_exit_codes(script: str) -> None:
    for option in (
        "[switch]$DryRun",
        "[switch]$SkipChecks",
        "[string]$Prefix",
        "[string]$Python",
        "[string]$CondaExe",
        "[string]$Report",
    ):
        assert option in script
    steps = ["# 1. host checks", "# 2. environment", "# 3. smoke test", "# 4. report"]
    positions = [script.index(s) for s in steps]
    assert positions == sorted(positions)
    assert "check.ps1" in script and "smoke_test.py" in script
    assert "# Exit codes: 0" in script
    for code in ("exit $Code", "Die 2 $NoLock", "Finish 1 'not-ready'", "Finish 0 'converged'"):
        assert code in script
    assert "'provision-report/1'" in script
    assert "Get-FileHash -Algorithm SHA256" in script
    assert "micromamba" in script and "create -y -p $Prefix --file" in script
