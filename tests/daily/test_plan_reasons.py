"""plan prints the package diff apply would make; plan and apply say when the smoke test
(or the import check) runs again, and why."""

from __future__ import annotations

import json
from typing import Any

from tests.daily.conftest import Team


def step(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in report["steps"] if s["name"] == name)
    return found


def test_plan_shows_the_package_diff_and_why_verify_runs(team: Team) -> None:
    first = team("plan", "team.yaml", "--skip-checks")
    assert "packages: shown once a lock exists" in first.stdout  # nothing solved yet
    assert "(never verified here)" in first.stdout
    assert team("lock", "team.yaml").returncode == 0
    planned = team("plan", "team.yaml", "--skip-checks").stdout.splitlines()
    packages = planned[planned.index("packages:") + 1 :]
    assert "  + torch==2.13.0" in packages and "  + tabulate==0.8.10" in packages

    team.apply(team.team)
    again = team("apply", "team.yaml", "--verify", "import", "--json")
    cached = step(json.loads(again.stdout), "verify")["reason"]
    assert "it runs again when the lock, the environment or the profile changes" in cached

    assert team("add", "-p", "team.yaml", "six").returncode == 0
    changed = team("plan", "team.yaml", "--skip-checks")
    lines = changed.stdout.splitlines()
    assert lines[lines.index("packages:") + 1 :][0] == "  + six==1.17.0"
    assert "(the environment changes)" in changed.stdout


def test_a_profile_edit_says_it_reruns_the_smoke_test(team: Team) -> None:
    team.apply(team.team)
    team.team.write_text(team.team.read_text().replace('"cpu:0"', '"cpu:1"'))
    plan = team("plan", "team.yaml", "--skip-checks", "--json")
    reason = step(json.loads(plan.stdout), "verify")["reason"]
    assert reason == (
        "run the smoke test in the environment (environment.variables changed: the test "
        "runs with them)"
    )
    team.apply(team.team)  # converged with the new variables
    team.team.write_text(team.team.read_text() + "description: a new description\n")
    edited = team("plan", "team.yaml", "--skip-checks", "--json")
    reason = step(json.loads(edited.stdout), "verify")["reason"]
    assert reason.endswith(
        "(the profile changed since the last pass (any edit: packages, variables, test))"
    )
