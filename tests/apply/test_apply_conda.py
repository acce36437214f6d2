"""End to end, all real except the two named stand-in packages (see conftest): build
a local channel, lock for linux-64 and win-64, apply with the embedded conda backend,
re-apply (nothing changes), change one pin (only that package changes), and the
plan / dry-run / JUnit / exit-code behaviour around it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from provisioner.report.model import parse_report
from tests.apply.apply_e2e import PY, REPO, Provision, conda_meta_mtimes, conda_profile
from tests.pypi_index import small_index

pytestmark = pytest.mark.slow


def test_lock_for_linux_64_and_win_64(provision: Provision, channel: Path, tmp_path: Path) -> None:
    linux = conda_profile(tmp_path / "linux", channel)
    win = conda_profile(tmp_path / "win", channel, os_="windows")
    assert provision("lock", str(linux)).returncode == 0
    assert provision("lock", str(win)).returncode == 0
    linux_lock = (linux.parent / "e2e.conda-lock.yml").read_text()
    win_lock = (win.parent / "e2e.conda-lock.yml").read_text()
    assert "platform: linux-64" in linux_lock and "liblinux-3.0" in linux_lock
    assert "platform: win-64" in win_lock and "libwin-4.0" in win_lock


def test_plan_shows_steps_and_changes_nothing(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    done = provision("plan", str(profile), "--json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert [(s["name"], s["status"]) for s in plan["steps"]] == [
        ("checks", "ok"),
        ("lock", "change"),
        ("environment", "change"),
        ("verify", "change"),
    ]
    assert plan["mode"] == "plan" and plan["result"] == "planned"
    assert not provision.home.exists()  # no lock, env, state or report written
    assert not (profile.parent / "e2e.conda-lock.yml").exists()
    text = provision("plan", str(profile))
    assert "environment  change" in text.stdout


def test_apply_reapply_and_change_one_pin(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel, tool="1.0")
    first = provision("apply", str(profile), "--verify", "import")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "result: changed" in first.stdout
    prefix = provision.prefix
    installed = sorted(n.rsplit("-", 2)[0] for n in conda_meta_mtimes(prefix))
    assert installed == ["app", "libcore", "liblinux", "python", "pytorch", "tool"]
    assert (prefix / "share/tool/VERSION").read_text() == "1.0\n"
    state = provision.state()
    assert state is not None and state["phase"] == "verified"
    verification = state["verification"]
    assert isinstance(verification, dict) and verification["kind"] == "import"
    report = json.loads(provision.reports()[-1].read_text())
    assert report["schema"] == "provision-report/2" and report["result"] == "changed"
    assert report["verify"]["passed"] and "0.0.1+standin" in report["verify"]["summary"]
    assert {p["name"] for p in report["packages"]} >= {"app", "tool", "python"}
    assert set(report["durations"]) == {"checks", "lock", "environment", "verify"}

    before = conda_meta_mtimes(prefix)
    second = provision("apply", str(profile), "--verify", "import", "--json")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert again["result"] == "converged"
    assert [s["status"] for s in again["steps"]] == ["ok", "ok", "ok", "ok"]
    assert conda_meta_mtimes(prefix) == before  # nothing reinstalled

    bumped = conda_profile(tmp_path / "p", channel, tool="2.0")  # same file, one pin changed
    plan = json.loads(provision("plan", str(bumped), "--json").stdout)
    assert plan["steps"][1]["status"] == "change"  # the committed lock is stale now
    third = provision("apply", str(bumped), "--verify", "import", "--json")
    assert third.returncode == 0, third.stderr
    changed = json.loads(third.stdout)
    env_step = changed["steps"][2]
    assert env_step["status"] == "change" and "tool" in env_step["reason"]
    after = conda_meta_mtimes(prefix)
    assert "tool-2.0-0.json" in after and "tool-1.0-0.json" not in after
    untouched = {k: v for k, v in before.items() if not k.startswith("tool-")}
    assert {k: after[k] for k in untouched} == untouched  # only that package changed
    assert (prefix / "share/tool/VERSION").read_text() == "2.0\n"


def test_dry_run_changes_nothing(provision: Provision, channel: Path, tmp_path: Path) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    assert provision("apply", str(profile), "--verify", "import").returncode == 0
    state = provision.state()
    mtimes = conda_meta_mtimes(provision.prefix)
    n_reports = len(provision.reports())
    lock = provision.home / "locks" / "e2e-env.conda-lock.yml"
    lock_bytes = lock.read_bytes()  # the first apply locked here (no lock beside the profile)
    bumped = conda_profile(tmp_path / "p", channel, tool="2.0")
    dry = provision("apply", str(bumped), "--dry-run", "--verify", "import", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["mode"] == "dry-run"
    assert [s["status"] for s in report["steps"]] == ["ok", "change", "change", "change"]
    assert provision.state() == state
    assert conda_meta_mtimes(provision.prefix) == mtimes
    assert len(provision.reports()) == n_reports
    assert lock.read_bytes() == lock_bytes


def test_junit_xml_one_testcase_per_step(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    junit = tmp_path / "out" / "apply.xml"
    done = provision("apply", str(profile), "--verify", "import", "--junit", str(junit))
    assert done.returncode == 0, done.stderr
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    (suite,) = list(root)
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["checks", "lock", "environment", "verify"]
    assert suite.get("tests") == "4" and suite.get("failures") == "0"
    assert all(float(c.get("time", "x")) >= 0 for c in cases)


def test_host_not_ready_stops_before_any_change(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    # A Windows profile on this Linux host: the checks fail (exit 1), nothing is built.
    profile = conda_profile(tmp_path / "w", channel, os_="windows")
    done = provision("apply", str(profile), "--verify", "import", "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["result"] == "not-ready" and report["steps"][0]["status"] == "fail"
    # The reason names each blocking check with what was seen and its fix.
    reason = report["steps"][0]["reason"]
    assert reason.startswith("host not ready: os.windows: ") and "(fix: " in reason
    assert len(report["steps"]) == 1
    assert not provision.prefix.exists()
    assert report["checks"] is not None and report["checks"]["ready"] is False
    # --skip-checks goes on, and a win-64 profile cannot be built on this linux-64 host.
    skipped = provision("apply", str(profile), "--verify", "import", "--skip-checks")
    assert skipped.returncode == 1
    assert "this machine is linux-64" in skipped.stderr and "fix: " in skipped.stderr
    assert not provision.prefix.exists()
    assert len(skipped.stderr.strip().splitlines()) == 1 and "Traceback" not in skipped.stderr


def test_invalid_profile_exits_2(provision: Provision, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntarget: {os: linux}\n")
    done = provision("apply", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_apply_without_profile_uses_the_embedded_default(provision: Provision) -> None:
    done = provision("apply", "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["profile"]["name"] == "cpu" and report["mode"] == "dry-run"
    assert report["environment"]["prefix"] == str(provision.home / "envs" / "cpu")
    assert not (provision.home / "envs").exists()


def documented_report_keys() -> set[str]:
    """The top-level keys of the report schema table in docs/report.md."""
    text = (REPO / "docs" / "report.md").read_text()
    table = text.split("## Schema `provision-report/2`", 1)[1].split("\n## ", 1)[0]
    keys: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            cell = line.split("|")[1]
            keys |= {k.strip("` ") for k in cell.split(",")}
    return keys


def test_committed_lockfile_is_used_and_report_matches_the_documented_schema(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    profile = conda_profile(tmp_path / "p", channel)
    assert provision("lock", str(profile)).returncode == 0
    committed = profile.parent / "e2e.conda-lock.yml"
    done = provision("apply", str(profile), "--verify", "import", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["lock"]["path"] == str(committed)
    assert report["steps"][1]["status"] == "ok"
    assert not (provision.home / "locks").exists()  # nothing locked into PROVISION_HOME
    assert set(report) == documented_report_keys()
    written = json.loads(provision.reports()[-1].read_text())
    assert written == report


def test_conda_prefix_with_a_pip_part(provision: Provision, channel: Path, tmp_path: Path) -> None:
    # The pip part goes into the conda prefix with its own Python (the stand-in), hash-pinned.
    provision.env.pop("PIP_NO_INDEX", None)  # lock from the profile's local index only
    profile = conda_profile(tmp_path / "p", channel)
    data = yaml.safe_load(profile.read_text())
    data["environment"].update(pip=["six==1.17.0"], index_url=small_index().as_uri())
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    done = provision("apply", str(profile), "--verify", "import", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {(p["manager"], p["name"]) for p in report["packages"]} >= {("pip", "six")}
    site = provision.prefix / "lib" / f"python{PY}" / "site-packages"
    assert (site / "six.py").is_file()
    assert (site / "six-1.17.0.dist-info" / "INSTALLER").read_text().strip() == "uv"
    again = json.loads(provision("apply", str(profile), "--verify", "import", "--json").stdout)
    assert again["result"] == "converged"


def test_no_op_applies_keep_the_latest_report_and_a_bounded_history(
    provision: Provision, channel: Path, tmp_path: Path
) -> None:
    # A no-op apply used to add a new report file every time (docs/report.md, "Files").
    profile = conda_profile(tmp_path / "p", channel)
    provision.env["PROVISION_REPORT_HISTORY"] = "2"
    provision.env["PROVISION_HOST_NAME"] = "lab-07"
    for _ in range(4):
        done = provision("apply", str(profile), "--verify", "import")
        assert done.returncode == 0, done.stderr
    folder = provision.home / "reports"
    assert sorted(p.name for p in folder.glob("*.json")) == ["e2e-env.json"]
    assert len(list((folder / "history").glob("e2e-env-*.json"))) == 2
    latest = parse_report(json.loads((folder / "e2e-env.json").read_text()))
    assert latest.result == "converged" and latest.host.name == "lab-07"
    assert latest.verify is not None and latest.verify.cached and latest.verified
    # The cached verification carries what the first apply proved for this lock.
    assert latest.verify.kind == "import" and "0.0.1+standin" in latest.verify.summary
    done = provision("apply", str(profile), "--verify", "import", "--host-name", "lab-08")
    assert "lab-08" in (folder / "e2e-env.json").read_text()
