"""``provision list``: installed packages with version, source and asked-for or not."""

from __future__ import annotations

import json

from tests.daily.conftest import Team


def test_list_shows_versions_sources_and_what_was_asked_for(team: Team) -> None:
    missing = team("list", "team.yaml")
    assert missing.returncode == 1 and "environment team not found" in missing.stderr
    team.apply(team.team)
    done = team("list", "team.yaml", "--json")
    assert done.returncode == 0, done.stderr
    found = {p["name"]: p for p in json.loads(done.stdout)}
    torch = found["torch"]
    files = torch["source"]
    assert files.endswith("/files") and (torch["version"], torch["manager"]) == ("2.13.0", "pip")
    assert torch["requested"] is True and torch["spec"] == "torch==2.13.0"
    assert found["tabulate"]["spec"] == "tabulate==0.8.10"
    assert "pip" not in found and "setuptools" not in found  # the venv's seed is not listed
    table = team("list", "team.yaml").stdout.splitlines()
    assert table[0].split() == ["name", "version", "from", "source", "asked", "for"]
    assert any(ln.split()[:4] == ["torch", "2.13.0", "pip", files] for ln in table)
    assert table[-1].endswith("(3 asked for by the profile)")
    only = team("list", "team.yaml", "--requested", "--json")
    assert sorted(p["name"] for p in json.loads(only.stdout)) == ["numpy", "tabulate", "torch"]


def test_list_marks_dependencies(team: Team) -> None:
    assert team("add", "-p", "team.yaml", "rich-standin").returncode == 0
    team.apply(team.team)
    found = {p["name"]: p for p in json.loads(team("list", "team.yaml", "--json").stdout)}
    assert found["rich-standin"]["requested"] is True
    assert found["six"]["requested"] is False and found["six"]["spec"] is None
