"""bootstrap.ps1 shares ``provision apply``'s state and writes apply's activation data.

PowerShell cannot run here (untested on real Windows), so what can be pinned is
pinned: the values rendered into the parsed script (state file, state fields, lock
sha256, fingerprint recipe, activation data) are what provision itself computes for
the same profile, lock and prefix, and the script uses them at the right points."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest
import tree_sitter

from provisioner.apply.fingerprint import FOLDERS, GLOB
from provisioner.apply.state import STATE_VERSION, State, file_sha256, state_path
from provisioner.env.activation import activation_data, write_activation
from provisioner.lock.lockfile import read_lockfile
from provisioner.paths import data_home
from provisioner.profile import load_profile
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
    skeleton = json_value(script, "StateSkeleton")
    # The run adds exactly the fields the skeleton lacks: together, apply's State.
    added = assigned(script, "fields")
    runtime = [(n.text or b"").decode() for n in walk(added) if n.type == "simple_name"]
    assert sorted([*skeleton, *runtime]) == sorted(f.name for f in fields(State))
    recorded: dict[str, Any] = {**skeleton, **dict.fromkeys(runtime, "")}
    assert State(**recorded).good_for(
        lock_sha256=file_sha256(lock_path), fingerprint="", verify_kind="smoke"
    )
    packages = [
        {
            "manager": k.manager,
            "name": k.name,
            "version": k.version,
            "build": k.build,
            "url": k.url,
            "sha256": k.sha256,
        }
        for k in read_lockfile(lock_path).for_platform("win-64")
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
        "verify_kind": "smoke",
        "packages": packages,
        "version": STATE_VERSION,
    }
    assert strings(assigned(script, "LockSha256")) == [file_sha256(lock_path)]
    # apply's state file, relative to the data home, as Windows names it
    relative = state_path("win-small-env").relative_to(data_home())
    assert strings(assigned(script, "StateFile")) == [str(PureWindowsPath(relative))]
    assert str(PureWindowsPath(relative)) == "state\\win-small-env.json"


def test_the_fingerprint_recipe_is_apply_s_as_python_names_it_on_windows(
    rendered: tuple[Path, str],
) -> None:
    _, script = rendered
    prefix = PureWindowsPath("C:/envs/win-small-env")
    # env_fingerprint hashes str(folder.relative_to(prefix)): on Windows, '\'-separated
    labels = [str(prefix.joinpath(*f.split("/")).relative_to(prefix)) for f in FOLDERS]
    assert (
        strings(assigned(script, "FingerprintFolders"))
        == labels
        == [
            "conda-meta",
            "Lib\\site-packages",
        ]
    )
    assert tuple(strings(assigned(script, "FingerprintGlob"))) == GLOB


def test_it_checks_the_state_before_building_and_records_it_after_the_smoke_test(
    rendered: tuple[Path, str],
) -> None:
    _, script = rendered
    order = [
        "if ((Test-Path -LiteralPath $EnvPython) -and (Test-State)) {",
        "    try { [IO.Directory]::Move($Prefix, $Aside) }",  # a rebuild: the old one aside
        "try { Write-Activation } catch {",
        "Add-Step 'environment' 'change' \"$EnvAction $Prefix ($Counts)\" $t",
        "Add-Step 'verify' 'change' 'smoke test passed' $t",
        "if ($StatePrefix -ceq (Get-PythonPath $DefaultPrefix)) {  # apply's prefix",
        "    try { Write-State } catch {",
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
    assert json_value(script, "ActivationData") == activation_data("venv", variables)

    conda = render(conda_windows_profile(tmp_path / "c"), lock=False)
    data = json_value((conda / "bootstrap.ps1").read_text(encoding="utf-8"), "ActivationData")
    variables = {"DML_VISIBLE_DEVICES": "1", "HOSTILE_VALUE": HOSTILE}
    assert data == activation_data("conda", variables)
    # what apply writes into a fresh conda prefix, file by file, is what the script writes
    prefix = tmp_path / "prefix"
    (prefix / "conda-meta").mkdir(parents=True)
    write_activation(prefix, "conda", variables)
    assert (prefix / "conda-meta" / "state").read_text() == data["conda_state"]["fresh"]
    for rel, text in data["conda_files"].items():
        raw = (prefix / rel).read_bytes()
        assert raw.decode("utf-8-sig") == text and (raw[:3] == b"\xef\xbb\xbf") == (
            rel.endswith(".ps1") and not text.isascii()
        )


def test_a_windows_only_variable_name_renders_without_activation_data(
    render: Renderer, tmp_path: Path
) -> None:
    """``ProgramFiles(x86)``-style names are valid on Windows but no activation script
    can set them (apply refuses them there): the render still succeeds, as before."""
    environment = {"manager": "venv", "python": "3.11", "variables": {"X(y)": "1"}}
    document = profile_document("win-odd", environment, os_="windows")
    folder = render(write_profile(tmp_path / "p" / "win-odd.yaml", document), lock=False)
    data = json_value((folder / "bootstrap.ps1").read_text(encoding="utf-8"), "ActivationData")
    assert data == activation_data("venv", {})
