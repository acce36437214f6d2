"""bootstrap.ps1 shares ``provision apply``'s state and writes apply's activation data.

PowerShell cannot run here (untested on real Windows), so what can be pinned is
pinned: the script carries the same helper program bootstrap.sh runs (apply's own
fingerprint, activation writer and state journal, tested on Python 3.7 in
test_target_modules.py), the data it hands that helper is what provision computes from
its typed contract for the same profile and lock, and it calls the helper at the right
points."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest
import tree_sitter

from provisioner.env.activation import activation_data
from provisioner.lock.lockfile import read_lockfile
from provisioner.paths import data_home
from provisioner.profile import load_profile
from provisioner.render.artifacts_bootstrap import helper_program
from provisioner.state import (
    STATE_VERSION,
    PackageRecord,
    State,
    VerifySummary,
    file_sha256,
    state_path,
)
from provisioner.target.journal import RUNTIME_FIELDS
from tests.bootstrap.bootstrap_e2e import Renderer
from tests.bootstrap.test_bootstrap_ps1 import HOSTILE, windows_profile
from tests.support.powershell import parse, walk
from tests.support.profiles import profile_document, write_profile
from tests.support.ps_values import ps_expression_value


def assigned(script: str, name: str) -> tree_sitter.Node:
    """The right-hand side of the first assignment to ``$name`` in ``script``."""
    for node in walk(parse(script).root_node):
        if node.type == "assignment_expression" and node.children[0].text == f"${name}".encode():
            return node.children[-1]
    raise AssertionError(f"${name} is never assigned")


def strings(node: tree_sitter.Node) -> list[str]:
    """The values of the string literals under ``node``, in order."""
    return [ps_expression_value(n) for n in walk(node) if n.type == "string_literal"]


def json_value(script: str, name: str) -> Any:
    (literal,) = strings(assigned(script, name))
    return json.loads(literal)


@pytest.fixture
def rendered(render: Renderer, tmp_path: Path) -> tuple[Path, str]:
    profile = windows_profile(tmp_path / "p")
    folder = render(profile)
    return profile, (folder / "bootstrap.ps1").read_text(encoding="utf-8")


def test_the_state_it_writes_and_checks_is_apply_state(rendered: tuple[Path, str]) -> None:
    profile, script = rendered
    lock_path = profile.with_name(f"{profile.stem}.conda-lock.yml")  # the lock apply uses
    data = json_value(script, "BootstrapData")
    skeleton = data["state"]["skeleton"]
    # The run adds exactly the fields the skeleton lacks: together, apply's State.
    assert sorted([*skeleton, *RUNTIME_FIELDS]) == sorted(f.name for f in fields(State))
    assert data["state"]["measured"] == list(VerifySummary.MEASURED)
    packages = [
        asdict(PackageRecord.of(k)) for k in read_lockfile(lock_path).for_platform("win-64")
    ]
    assert skeleton == {
        "env": "win-small-env",
        "profile": "win-small",  # the owner (apply/ownership.py)
        "manager": "venv",
        "platform": "win-64",
        "phase": "verified",
        "profile_hash": load_profile(profile).content_hash,
        "lock_inputs_hash": "",
        "lock_sha256": file_sha256(lock_path),
        "packages": packages,
        "verification": asdict(VerifySummary("smoke", "smoke test passed")),
        "version": STATE_VERSION,
        "validation_key": "",  # the script validates nothing: the next apply does
    }
    assert strings(assigned(script, "LockSha256")) == [file_sha256(lock_path)]
    # apply's state file, relative to the data home, as Windows names it
    relative = state_path("win-small-env").relative_to(data_home())
    assert str(PureWindowsPath(relative)) in strings(assigned(script, "StateFile"))
    assert str(PureWindowsPath(relative)) == "state\\win-small-env.json"


def test_it_runs_the_helper_bootstrap_sh_runs(rendered: tuple[Path, str]) -> None:
    """One implementation: the fingerprint, the state record and the activation writer
    are the packed Python program, not PowerShell of their own."""
    _, script = rendered
    start = script.index("$HelperCode = @'\n") + len("$HelperCode = @'\n")
    assert script[start : script.index("\n'@\n", start) + 1] == helper_program()
    for gone in ("function Get-Fingerprint", "function Write-State", "function Write-Activation"):
        assert gone not in script
    # its input goes in a file and variables, never on a command line (PowerShell 5.1
    # mangles embedded double quotes in native arguments)
    assert "& $EnvPython -I $helper $Mode | Out-Host" in script


def test_it_checks_the_state_before_building_and_records_it_after_the_smoke_test(
    rendered: tuple[Path, str],
) -> None:
    _, script = rendered
    order = [
        "if ((Test-Path -LiteralPath $EnvPython) -and ((Invoke-Helper 'state-check') -eq 0)) {",
        "    try { [IO.Directory]::Move($Prefix, $Aside) }",  # a rebuild: the old one aside
        "if ((Invoke-Helper 'activation') -ne 0) {",
        "Add-Step 'environment' 'change' \"$EnvAction $Prefix ($Counts)\" $t",
        "Add-Step 'verify' 'change' 'smoke test passed' $t",
        "if ($StatePrefix -ceq (Get-PythonPath $DefaultPrefix)) {  # apply's prefix",
        "    if ((Invoke-Helper 'state-write') -ne 0) {",
    ]
    at = [script.index(line) for line in order]
    assert at == sorted(at), order


def conda_windows_profile(folder: Path) -> Path:
    environment = {
        "manager": "conda",
        "python": "3.11",
        "channels": ["https://conda.anaconda.org/conda-forge"],
        "conda": ["numpy"],
        "variables": {"DML_VISIBLE_DEVICES": "1", "HOSTILE_VALUE": HOSTILE},
    }
    return write_profile(
        folder / "win-conda.yaml", profile_document("win-conda", environment, os_="windows")
    )


def test_its_activation_data_is_what_apply_writes(
    render: Renderer, rendered: tuple[Path, str], tmp_path: Path
) -> None:
    profile, script = rendered
    variables = load_profile(profile).profile.environment.variables
    assert json_value(script, "BootstrapData")["activation"] == activation_data("venv", variables)

    conda = render(conda_windows_profile(tmp_path / "c"), lock=False)
    data = json_value((conda / "bootstrap.ps1").read_text(encoding="utf-8"), "BootstrapData")
    variables = {"DML_VISIBLE_DEVICES": "1", "HOSTILE_VALUE": HOSTILE}
    assert data["activation"] == activation_data("conda", variables)


def test_a_windows_only_variable_name_renders_without_activation_data(
    render: Renderer, tmp_path: Path
) -> None:
    """``ProgramFiles(x86)``-style names are valid on Windows but no activation script
    can set them (apply refuses them there): the render still succeeds, as before."""
    environment = {"manager": "venv", "python": "3.11", "variables": {"X(y)": "1"}}
    document = profile_document("win-odd", environment, os_="windows")
    folder = render(write_profile(tmp_path / "p" / "win-odd.yaml", document), lock=False)
    data = json_value((folder / "bootstrap.ps1").read_text(encoding="utf-8"), "BootstrapData")
    assert data["activation"] == activation_data("venv", {})
