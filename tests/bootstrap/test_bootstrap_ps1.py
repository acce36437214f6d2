"""bootstrap.ps1: parses cleanly under tree-sitter-powershell, and its structure is
right (options, steps, exit codes, every profile value a single-quoted literal).
PowerShell cannot run here, so the script is parsed, not executed."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from provisioner.templating import quote_ps
from tests.bootstrap.bootstrap_e2e import Renderer, small_profile
from tests.pypi_index import small_index
from tests.support.powershell import nodes_of_type, parse, parse_errors, walk
from tests.support.profiles import profile_document, write_profile
from tests.support.ps_values import ps_expression_value

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
    """Each value is one string expression (a verbatim literal; non-ASCII as [char]0xNNNN
    in a parenthesised concatenation) that evaluates to the value."""
    spans = {(n.start_byte, n.end_byte): n for n in walk(parse(script).root_node)}
    data = script.encode("utf-8")
    for value in ("win-small-env", "3.11", "venv", "win-64", HOSTILE, "0"):
        expression = quote_ps(value).encode("ascii")
        starts = [i for i in range(len(data)) if data.startswith(expression, i)]
        nodes = [spans.get((i, i + len(expression))) for i in starts]
        assert any(n is not None and ps_expression_value(n) == value for n in nodes), value
    # Elsewhere (the activation data's JSON) the value sits only inside verbatim strings.
    literals = [
        (n.start_byte, n.end_byte) for n in nodes_of_type(script, "verbatim_string_characters")
    ]
    hits = [i for i in range(len(data)) if data.startswith(b"$(Remove-Item", i)]
    assert len(hits) >= 2 and all(any(a <= i < b for a, b in literals) for i in hits)


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
    packages = skeleton(script)["packages"]
    assert [(p["name"], p["version"]) for p in packages] == [
        ("iniconfig", "2.3.0"),
        ("six", "1.17.0"),
    ]


def skeleton(script: str) -> dict[str, Any]:
    """The report skeleton: one single-quoted literal holding the JSON provision rendered."""
    (line,) = [ln for ln in script.splitlines() if ln.startswith("$ReportSkeleton = ")]
    literal = line.removeprefix("$ReportSkeleton = ")
    assert literal in {
        n.text.decode() for n in nodes_of_type(script, "verbatim_string_characters") if n.text
    }
    data: dict[str, Any] = json.loads(literal[1:-1].replace("''", "'"))
    return data


def test_report_skeleton_is_the_rendered_report_data(script: str) -> None:
    data = skeleton(script)
    assert (data["schema"], data["schema_version"], data["mode"]) == (
        "provision-report/2",
        2,
        "apply",
    )
    assert data["tool"].startswith("bootstrap.ps1 (provision ")
    assert data["profile"]["name"] == "win-small" and data["profile"]["manager"] == "venv"
    assert data["lock"]["sha256"] and len(data["lock"]["sha256"]) == 64
    # The script adds only the run's part; every key it sets is a report field.
    for key in ("result", "exit_code", "started_at", "host", "checks", "verify", "steps"):
        assert f"        {key} = " in script, key
    assert "$env:PROVISION_HOST_NAME" in script and "[string]$HostName" in script


def ps1_parameters(script: str) -> dict[str, str]:
    """The script's own ``param()`` block (the first one; functions have theirs) as
    tree-sitter reads it: name -> type."""
    block = next(n for n in walk(parse(script).root_node) if n.type == "param_block")
    params = {}
    for node in walk(block):
        if node.type == "script_parameter":
            kind, name = (c.text or b"" for c in node.children[:2])
            params[name.decode().lstrip("$")] = kind.decode().strip("[]")
    return params


def sh_accepts(script: Path, option: str, *value: str) -> bool:
    """Whether bootstrap.sh's option parser takes ``option``: an unknown trailing option
    is then the first one it complains about (parsing ends before any work)."""
    done = subprocess.run(
        ["bash", str(script), option, *value, "--zz-unknown"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode == 2 and "unknown option: --zz-unknown" in done.stderr


def test_ps1_takes_the_same_options_as_bootstrap_sh(
    script: str, render: Renderer, tmp_path: Path
) -> None:
    """The two scripts are one interface: each PowerShell parameter is an option of
    bootstrap.sh (DryRun is --dry-run), switches without a value, strings with one."""
    params = ps1_parameters(script)
    assert len(params) >= 6, params
    sh = render(small_profile(tmp_path / "linux")) / "bootstrap.sh"
    assert not sh_accepts(sh, "--no-such-option")  # the probe can fail
    for name, kind in params.items():
        option = "--" + re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()
        value = () if kind == "switch" else ("x",)
        assert sh_accepts(sh, option, *value), (name, option)


def test_skeleton_plus_what_the_script_adds_is_a_report_the_reader_accepts(script: str) -> None:
    # Stand-in for a Windows run (PowerShell cannot run here): the fields Write-Report
    # adds, with values of the types it writes, in Windows PowerShell 5.1's array form.
    from provisioner.report.model import parse_report

    steps = [
        {"name": "checks", "status": "ok", "changed": False, "reason": "ready", "duration_s": 1.2},
        {"name": "verify", "status": "change", "changed": True, "reason": "ok", "duration_s": 9},
    ]
    run = {
        "result": "changed",
        "exit_code": 0,
        "started_at": "2026-11-29T10:00:00Z",
        "finished_at": "2026-11-29T10:01:00Z",
        "duration_s": 60.5,
        "host": {
            "name": "LAB-PC-07",
            "hostname": "DESKTOP-1A2B3C",
            "platform": "win-64",
            "system": "Windows",
            "release": "10.0.19045.0",
            "machine": "AMD64",
        },
        "checks": {"profile": "win-small", "ready": True, "checks": []},
        "environment": {
            "name": "win-small-env",
            "prefix": "C:\\envs\\w",
            "action": "create",
            "diff": None,
        },
        "verify": {
            "kind": "smoke",
            "passed": True,
            "summary": "smoke test passed",
            "result": {"verdict": "pass", "device_used": "dml:0"},
        },
        "steps": {"value": steps, "Count": 2},
    }
    report = parse_report({**skeleton(script), **run})
    assert report.verified and report.host.name == "LAB-PC-07"
    assert report.tool.startswith("bootstrap.ps1") and len(report.packages) == 2
