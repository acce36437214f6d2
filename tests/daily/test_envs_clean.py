"""``provision envs``, ``envs remove`` and ``clean`` on real environments."""

from __future__ import annotations

import json
from pathlib import Path

from tests.daily.conftest import Team


def listed(team: Team) -> dict[str, dict[str, object]]:
    done = team("envs", "--json")
    assert done.returncode == 0, done.stderr
    return {e["name"]: e for e in json.loads(done.stdout)}


def test_envs_lists_profile_state_and_size_and_remove_deletes_everything(team: Team) -> None:
    team.apply(team.team)
    env = listed(team)["team"]
    assert env["profile"] == "team" and env["state"] == "verified" and env["manager"] == "venv"
    assert isinstance(env["size_bytes"], int) and env["size_bytes"] > 10_000
    assert env["prefix"] == str(team.home / "envs" / "team")
    table = team("envs").stdout.splitlines()
    assert table[0].split() == ["name", "profile", "state", "manager", "size", "updated", "prefix"]
    assert table[1].split()[:3] == ["team", "team", "verified"]

    reports = [team.home / "reports" / "team.json", *(team.home / "reports" / "history").iterdir()]
    done = team("envs", "remove", "team")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed environment team (") and "freed" in done.stdout
    assert not (team.home / "envs" / "team").exists()
    assert not (team.home / "state" / "team.json").exists()
    assert not (team.home / "state" / "team.lock").exists()
    assert not any(p.exists() for p in reports)
    assert listed(team) == {}


def test_envs_remove_keeps_the_lock_beside_the_profile(team: Team) -> None:
    assert team("lock", str(team.team)).returncode == 0
    team.apply(team.team)
    assert team("envs", "remove", "team").returncode == 0
    assert (team.folder / "team.conda-lock.yml").is_file()


def test_envs_remove_of_an_unknown_or_bad_name_is_one_line_exit_2(team: Team) -> None:
    done = team("envs", "remove", "nope")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"provision: error: no environment named 'nope' (in {team.home / 'envs'} or "
        "provision's state) (fix: `provision envs` lists the environments)"
    )
    bad = team("envs", "remove", "../etc")
    assert bad.returncode == 2 and "'../etc' is not an environment name" in bad.stderr


def test_envs_remove_refuses_while_an_apply_holds_the_environment(team: Team) -> None:
    from provisioner.apply.guard import exclusive

    team.apply(team.base)
    (team.home / "state").mkdir(exist_ok=True)
    with exclusive(team.home / "state" / "base.lock", "base"):
        done = team("envs", "remove", "base")
    assert done.returncode == 1, done.stderr
    assert "another `provision apply` is changing environment 'base'" in done.stderr
    assert (team.home / "envs" / "base" / "pyvenv.cfg").is_file()


def test_clean_names_what_no_environment_uses_and_frees_it(team: Team) -> None:
    team.apply(team.base)
    store = Path(team.env["XDG_CACHE_HOME"]) / "provision" / "artifacts"
    unused = store / ("ab" * 32)
    unused.mkdir(parents=True)
    (unused / "old-1.0-0.conda").write_bytes(b"x" * 5000)
    bundle = team.home / "bundles" / "cpu-linux-64-0123456789ab"
    bundle.mkdir(parents=True)
    (bundle / "profile.yaml").write_text("name: old\n")
    team.apply(team.team)
    state = json.loads((team.home / "state" / "team.json").read_text())
    import shutil

    shutil.rmtree(state["prefix"])  # deleted by hand: its state is a leftover
    (team.home / "locks").mkdir(exist_ok=True)
    (team.home / "locks" / "gone.conda-lock.yml").write_text("version: 1\n")

    dry = team("clean", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert any(ln.startswith("would remove artifact") and str(unused) in ln for ln in lines)
    assert any(ln.startswith("would remove bundle") and str(bundle) in ln for ln in lines)
    assert any("would remove state" in ln and "team.json" in ln for ln in lines)
    assert any("would remove lock" in ln and "gone.conda-lock.yml" in ln for ln in lines)
    assert any("would remove lock" in ln and "team.conda-lock.yml" in ln for ln in lines)
    removals = [ln for ln in lines if ln.startswith("would remove")]
    # the five above, and the artifacts only the hand-deleted environment used
    assert any(ln.startswith("would free ") and f"({len(removals)} items)" in ln for ln in lines)
    assert unused.exists() and bundle.exists()  # a dry run removes nothing

    done = team("clean", "--json")
    report = json.loads(done.stdout)
    assert report["freed_bytes"] >= 5000 and len(report["items"]) == len(removals)
    assert not unused.exists() and not bundle.exists()
    assert not (team.home / "state" / "team.json").exists()
    # base is untouched: still listed, still verified, and a second clean finds nothing
    assert listed(team)["base"]["state"] == "verified"
    again = team("clean")
    assert again.stdout.startswith("nothing to clean")
