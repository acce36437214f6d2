"""One environment belongs to one profile: a second profile that inherits
``environment.name`` never silently rebuilds the first one's environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.daily.conftest import Team


def inherits_the_name(team: Team) -> Path:
    """A profile that extends base.yaml and keeps its environment.name (``base``)."""
    path = team.folder / "other.yaml"
    path.write_text(
        "extends: base.yaml\nname: other\nenvironment:\n  pip: [six]\n", encoding="utf-8"
    )
    return path


def test_another_profile_cannot_rebuild_an_environment_it_does_not_own(team: Team) -> None:
    team.apply(team.base)
    state = team.state("base")
    assert state is not None and state["profile"] == "base"
    before = summary(state)
    other = inherits_the_name(team)
    for command in ("apply", "plan"):
        done = team(command, str(other), "--quiet")
        assert done.returncode == 1, (command, done.stderr)
        assert done.stderr.count("provision: error:") == 1
        line = done.stderr.strip()
        assert "environment 'base' belongs to profile 'base'" in line, line
        assert "set environment.name in other.yaml" in line
        assert "provision envs remove base" in line
    after = team.state("base")
    assert after is not None and summary(after) == before
    assert not list((team.home / "envs" / "base").glob("lib/python3*/site-packages/six.py"))
    # verify of the other profile stops too: its smoke test is not base's
    verify = team("verify", str(other))
    assert verify.returncode == 1 and "belongs to profile 'base'" in verify.stderr


def test_the_same_profile_name_is_the_same_owner(team: Team, tmp_path: Path) -> None:
    """A copy of a profile elsewhere (the embedded default and profiles/cpu.yaml) owns the
    environment it built: applying either is a no-op."""
    team.apply(team.base)
    copy = tmp_path / "elsewhere" / "base.yaml"
    copy.parent.mkdir()
    copy.write_bytes(team.base.read_bytes())
    done = team("apply", str(copy), "--verify", "import", "--json")
    assert done.returncode == 0, done.stderr
    assert '"result": "converged"' in done.stdout


def test_a_state_without_an_owner_is_taken_over(team: Team) -> None:
    import json

    team.apply(team.base)
    path = team.home / "state" / "base.json"
    data = json.loads(path.read_text())
    del data["profile"]  # written before owners were recorded
    path.write_text(json.dumps(data))
    team.apply(team.base)
    assert (team.state("base") or {})["profile"] == "base"


def summary(state: dict[str, Any]) -> tuple[str, list[str]]:
    return state["updated_at"], sorted(p["name"] for p in state["packages"])
