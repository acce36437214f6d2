"""Crash safety: SIGKILL `provision apply` (and everything it started) at several
points, then apply again and see it converge; two applies on one environment."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import yaml

from tests.apply.apply_e2e import PY, Provision, conda_meta_mtimes, conda_profile, wait_for_pause
from tests.pypi_index import small_index
from tests.support.processes import kill_tree

pytestmark = pytest.mark.slow

APPLY = ("--verify", "import", "--quiet")


@pytest.mark.parametrize(
    ("point", "phase_after_kill"),
    [
        ("environment:journal-written", "building"),  # before the prefix is touched
        ("environment:installed", "building"),  # installed, not yet recorded
        ("verify:start", "built"),  # built and recorded, not verified
        ("verify:passed", "built"),  # verified, not yet recorded
    ],
)
def test_sigkill_at_a_point_then_apply_converges(
    provision: Provision, channel: Path, tmp_path: Path, point: str, phase_after_kill: str
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    child = provision.start("apply", str(profile), *APPLY, pause_at=point)
    wait_for_pause(child, point)
    kill_tree(child)
    state = provision.state()
    assert state is not None and state["phase"] == phase_after_kill  # never marked good

    plan = json.loads(provision("plan", str(profile), "--json").stdout)
    expected_env = "change" if phase_after_kill == "building" else "ok"
    assert plan["steps"][2]["status"] == expected_env
    assert plan["steps"][3]["status"] == "change"  # verify again

    again = provision("apply", str(profile), *APPLY, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["result"] == "changed"
    state = provision.state()
    assert state is not None and state["phase"] == "verified"
    third = provision("apply", str(profile), *APPLY, "--json")
    assert json.loads(third.stdout)["result"] == "converged"


def locked_specs(provision: Provision, manager: str) -> set[str]:
    """What the applied lock pins for linux-64: ``name-version-build`` (conda) or
    ``name==version`` (pip); the lockfile is the one the state records."""
    from provisioner.lock.lockfile import read_lockfile

    state = provision.state()
    assert state is not None
    lock = read_lockfile(Path(str(state["lock_path"])))
    pkgs = lock.for_platform("linux-64", manager)  # type: ignore[arg-type]
    if manager == "conda":
        return {f"{p.name}-{p.version}-{p.build}" for p in pkgs}
    return {f"{p.name}=={p.version}" for p in pkgs}


def conda_meta_specs(prefix: Path) -> set[str]:
    return {n.removesuffix(".json") for n in conda_meta_mtimes(prefix)}


def pip_specs(prefix: Path) -> set[str]:
    """Distributions in the prefix's site-packages as ``name==version``, from dist-info names."""
    site = prefix / "lib" / f"python{PY}" / "site-packages"
    return {
        "==".join(d.name.removesuffix(".dist-info").split("-", 1)).lower()
        for d in site.glob("*.dist-info")
    }


def kill_inside_install_then_converge(
    provision: Provision, profile: Path, point: str
) -> tuple[set[str], set[str]]:
    """Pause apply inside the install, SIGKILL it there, check it is not marked good, apply
    again and check the prefix matches the lock; return (conda, pip) specs seen at the kill."""
    child = provision.start("apply", str(profile), *APPLY, pause_at=point)
    wait_for_pause(child, point)
    at_kill = (conda_meta_specs(provision.prefix), pip_specs(provision.prefix))
    kill_tree(child)
    assert child.returncode == -signal.SIGKILL  # it died inside the install, not by finishing
    state = provision.state()
    assert state is not None and state["phase"] == "building"  # never marked built or verified
    plan = json.loads(provision("plan", str(profile), "--json").stdout)
    assert [s["status"] for s in plan["steps"][2:4]] == ["change", "change"]

    again = provision("apply", str(profile), *APPLY, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["result"] == "changed"
    assert report["verify"]["passed"] is True
    state = provision.state()
    assert state is not None and state["phase"] == "verified"
    assert conda_meta_specs(provision.prefix) == locked_specs(provision, "conda")
    assert pip_specs(provision.prefix) == locked_specs(provision, "pip")
    third = provision("apply", str(profile), *APPLY, "--json")
    assert json.loads(third.stdout)["result"] == "converged"
    return at_kill


@pytest.mark.parametrize("update", [False, True], ids=["create", "update"])
def test_sigkill_inside_the_conda_link_then_apply_converges(
    provision: Provision, channel: Path, tmp_path: Path, update: bool
) -> None:
    if update:  # a good environment with tool 1.0, then an update to tool 2.0 is killed
        first = conda_profile(tmp_path / "p", channel)
        assert provision("apply", str(first), *APPLY).returncode == 0
    profile = conda_profile(tmp_path / "p", channel, tool="2.0")
    conda_at_kill, _ = kill_inside_install_then_converge(
        provision, profile, "environment:conda-linking"
    )
    locked = locked_specs(provision, "conda")
    assert len(locked) >= 3
    # Killed with one of the locked packages linked into the prefix, the rest missing.
    assert len(conda_at_kill) == 1 and conda_at_kill < locked
    assert (provision.prefix / "share/tool/VERSION").read_text() == "2.0\n"
    assert [n for n in conda_meta_specs(provision.prefix) if n.startswith("tool-")] == [
        "tool-2.0-0"
    ]


def test_sigkill_inside_the_pip_install_then_apply_converges(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    provision.env.pop("PIP_NO_INDEX", None)  # lock from the profile's local index only
    profile = conda_profile(tmp_path / "p", channel)
    data = yaml.safe_load(profile.read_text())
    index = small_index().as_uri()
    data["environment"].update(pip=["six==1.17.0", "iniconfig==2.3.0"], index_url=index)
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    conda_at_kill, pip_at_kill = kill_inside_install_then_converge(
        provision, profile, "environment:pip-installing"
    )
    assert conda_at_kill == locked_specs(provision, "conda")  # the conda part was complete
    # Killed with one of the two locked pip packages installed.
    assert pip_at_kill & locked_specs(provision, "pip") == {"iniconfig==2.3.0"}


def test_second_apply_on_the_same_env_is_refused(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    first = provision.start("apply", str(profile), *APPLY, pause_at="environment:journal-written")
    try:
        wait_for_pause(first, "environment:journal-written")
        second = provision("apply", str(profile), *APPLY)
        assert second.returncode == 1
        assert f"another `provision apply` is changing environment 'e2e-env' (pid {first.pid})" in (
            second.stderr
        )
        assert "fix: wait for it to finish" in second.stderr
        # plan does not take the lock: it only reads.
        assert provision("plan", str(profile), "--json").returncode == 0
    finally:
        kill_tree(first)
    assert provision("apply", str(profile), *APPLY).returncode == 0
