"""An environment that drifted after apply: a deleted module file, a missing
interpreter, a corrupt cached lockfile, a distribution some other tool installed.
Each is noticed and repaired by ``provision verify`` + ``provision apply`` on the
shipped cpu profile (real torch CPU wheel, the real training smoke test). One
PROVISION_HOME per module: built once, each test damages it and apply repairs it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.profile import load_profile
from provisioner.uvbin import uv_executable
from provisioner.verify.run import import_check
from tests.apply.apply_e2e import REPO, Provision, make_provision
from tests.pypi_index import small_package
from tests.support import machine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cpu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Provision, Path]]:
    """The cpu profile applied once (locked from this machine's pip sources, offline).

    Removed when the module ends: the environment is a gigabyte, and the whole run must
    fit a CI disk with little free space.
    """
    machine.cpu_profile_offline()
    tmp = tmp_path_factory.mktemp("drift")
    provision = make_provision(tmp)
    machine.with_pip_config(provision.env, tmp / "pip")
    profile = tmp / "cpu.yaml"
    shutil.copy(REPO / "profiles" / "cpu.yaml", profile)
    done = provision("apply", "--json", str(profile))
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["verify"]["passed"] is True
    yield provision, profile
    shutil.rmtree(tmp, ignore_errors=True)


def apply_json(provision: Provision, profile: Path) -> dict[str, Any]:
    done = provision("apply", "--json", str(profile))
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def step(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in report["steps"] if s["name"] == name)
    return found


def site_packages(provision: Provision) -> Path:
    return next((provision.home / "envs" / "cpu").glob("lib/python3*/site-packages"))


def test_noop_apply_is_converged(cpu: tuple[Provision, Path]) -> None:
    provision, profile = cpu
    report = apply_json(provision, profile)
    assert report["result"] == "converged" and report["verify"]["cached"] is True


def test_failed_verify_clears_the_mark_and_apply_reinstalls_the_damaged_package(
    cpu: tuple[Provision, Path],
) -> None:
    provision, profile = cpu
    (site_packages(provision) / "torch" / "__init__.py").unlink()
    failed = provision("verify", str(profile))
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "no longer marked verified" in failed.stderr
    state = provision.state("cpu")
    assert state is not None and state["phase"] == "built" and state["verification"] is None

    report = apply_json(provision, profile)
    assert report["result"] == "changed"
    env_step = step(report, "environment")
    assert env_step["changed"] is True
    assert "torch==2.13.0+cpu (missing torch/__init__.py)" in env_step["reason"]
    assert report["verify"]["passed"] is True and not report["verify"].get("cached")
    assert (site_packages(provision) / "torch" / "__init__.py").is_file()
    assert provision("verify", str(profile)).returncode == 0
    again = provision.state("cpu")
    assert again is not None and again["phase"] == "verified"


def test_missing_python_is_rebuilt(cpu: tuple[Provision, Path], tmp_path: Path) -> None:
    provision, profile = cpu
    python = provision.home / "envs" / "cpu" / "bin" / "python"
    shutil.move(python, tmp_path / "python")
    report = apply_json(provision, profile)
    assert report["result"] == "changed"
    assert step(report, "environment")["reason"] == (
        f"rebuild {python.parent.parent}: its Python {python} is missing"
    )
    assert python.exists() and report["verify"]["passed"] is True
    assert provision("verify", str(profile)).returncode == 0


def test_corrupt_cached_lock_is_relocked(cpu: tuple[Provision, Path]) -> None:
    provision, profile = cpu
    cached = provision.home / "locks" / "cpu.conda-lock.yml"
    cached.write_text("garbage: [\n")
    report = apply_json(provision, profile)
    lock = step(report, "lock")
    assert lock["changed"] is True
    assert "not a valid conda-lock file" in lock["reason"]
    assert any(p["name"] == "torch" for p in yaml.safe_load(cached.read_text())["package"])


def test_a_committed_corrupt_lockfile_stays_an_error(
    cpu: tuple[Provision, Path], tmp_path: Path
) -> None:
    provision, profile = cpu
    mine = tmp_path / "cpu.yaml"
    shutil.copy(profile, mine)
    (tmp_path / "cpu.conda-lock.yml").write_text("garbage: [\n")
    done = provision("apply", str(mine))
    assert done.returncode == 2
    assert "not a valid conda-lock file" in done.stderr


def test_a_distribution_another_tool_installed_is_removed(cpu: tuple[Provision, Path]) -> None:
    provision, profile = cpu
    python = provision.home / "envs" / "cpu" / "bin" / "python"
    wheel = small_package("six", "1.17.0").url.removeprefix("file://")
    subprocess.run(
        [uv_executable(), "pip", "install", "--python", str(python), wheel],
        check=True,
        capture_output=True,
    )
    info = next(site_packages(provision).glob("six-*.dist-info"))
    (info / "INSTALLER").write_text("poetry\n")
    report = apply_json(provision, profile)
    assert report["result"] == "changed"
    assert "remove pip:six" in step(report, "environment")["reason"]
    assert not info.exists() and not (site_packages(provision) / "six.py").exists()


def test_import_check_stops_at_the_smoke_tests_time_limit(tmp_path: Path) -> None:
    # A stand-in environment interpreter whose `import torch` never returns.
    slow_python = tmp_path / "python"
    slow_python.write_text("#!/bin/sh\nexec sleep 120\n")
    slow_python.chmod(0o755)
    data = yaml.safe_load((REPO / "profiles" / "cpu.yaml").read_text())
    data["smoke_test"]["timeout_s"] = 10
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(data))
    result = import_check(load_profile(path), slow_python)
    assert (result.kind, result.passed, result.summary) == (
        "import",
        False,
        "import torch timed out after 10s (smoke_test.timeout_s)",
    )


def test_force_ignores_the_recorded_state_and_trains_again(cpu: tuple[Provision, Path]) -> None:
    provision, profile = cpu
    assert step(apply_json(provision, profile), "verify")["status"] == "ok"  # converged
    done = provision("apply", "--json", "--force", str(profile))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    env = step(report, "environment")
    # A real package diff, not the recorded fast path ("... matches the lock (recorded T)").
    assert env["status"] == "ok" and env["reason"].endswith("matches the lock")
    assert step(report, "verify")["status"] == "change"
    assert report["verify"]["kind"] == "smoke" and not report["verify"].get("cached")
    assert report["verify"]["passed"] is True


def test_an_edited_file_fails_verify_and_apply_relinks_its_package(
    cpu: tuple[Provision, Path],
) -> None:
    provision, profile = cpu
    version_py = site_packages(provision) / "torch" / "version.py"
    original = version_py.read_bytes()
    with version_py.open("ab") as f:  # in place: uv's cache entry (hard link) changes too
        f.write(b"\ncuda = 'tampered'\n")
    failed = provision("verify", str(profile))
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "pip:torch: torch/version.py (changed)" in failed.stdout
    assert "apply --force" in failed.stderr
    state = provision.state("cpu")
    assert state is not None and state["phase"] == "built"
    # The next apply does not trust the environment: it hashes the files and relinks.
    report = apply_json(provision, profile)
    assert "torch==2.13.0+cpu (altered: torch/version.py)" in step(report, "environment")["reason"]
    assert version_py.read_bytes() == original
    assert provision("verify", str(profile)).returncode == 0
    again = provision.state("cpu")
    assert again is not None and again["phase"] == "verified"


def test_a_failed_apply_force_clears_the_verified_mark(cpu: tuple[Provision, Path]) -> None:
    provision, profile = cpu
    assert step(apply_json(provision, profile), "verify")["status"] == "ok"
    # A smoke test no training passes (no file is damaged: apply --force repairs files).
    text = profile.read_text()
    profile.write_text(text.replace("min_loss_drop: 10", "min_loss_drop: 1000000"))
    try:
        done = provision("apply", "--json", "--force", str(profile))
        assert done.returncode == 1, done.stderr[-3000:]
        assert json.loads(done.stdout)["verify"]["passed"] is False
        state = provision.state("cpu")
        assert state is not None and state["phase"] == "built" and state["verification"] is None
    finally:
        profile.write_text(text)
    assert apply_json(provision, profile)["verify"]["passed"] is True


def test_a_deleted_file_is_found_and_repaired_by_a_plain_apply(
    cpu: tuple[Provision, Path],
) -> None:
    """No `verify` first: the plain apply's drift check (a stat per recorded file) finds
    the deleted module, names it, reinstalls torch, runs the smoke test: `changed`."""
    provision, profile = cpu
    assert apply_json(provision, profile)["result"] == "converged"  # the ledger is current
    functional = site_packages(provision) / "torch" / "nn" / "functional.py"
    functional.unlink()
    planned = provision("plan", "--json", str(profile))
    assert "1 file of torch (torch/nn/functional.py missing)" in planned.stdout
    assert functional.exists() is False  # plan changes nothing

    report = apply_json(provision, profile)
    assert report["result"] == "changed"
    env = step(report, "environment")
    assert env["changed"] is True
    assert env["reason"].endswith(": 1 file of torch (torch/nn/functional.py missing)")
    assert report["environment"]["action"] == "repair"
    assert report["environment"]["repair"] == [
        {
            "manager": "pip",
            "package": "torch",
            "files": [{"path": "torch/nn/functional.py", "problem": "missing"}],
        }
    ]
    assert report["verify"]["passed"] is True and not report["verify"].get("cached")
    assert functional.is_file()
    assert apply_json(provision, profile)["result"] == "converged"


def test_an_edit_that_keeps_size_and_mtime_is_found_by_its_ctime(
    cpu: tuple[Provision, Path],
) -> None:
    provision, profile = cpu
    assert apply_json(provision, profile)["result"] == "converged"
    target = site_packages(provision) / "torch" / "version.py"
    before = target.stat()
    data = bytearray(target.read_bytes())
    data[0:1] = b"#" if data[0:1] != b"#" else b" "
    # Written through a new file and renamed over (not in place: uv's cache entry, a
    # hard link of the installed file, stays intact), then dated back.
    tmp = target.with_name("version.py.new")
    tmp.write_bytes(bytes(data))
    os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(tmp, target)
    assert target.stat().st_size == before.st_size
    assert target.stat().st_mtime_ns == before.st_mtime_ns

    report = apply_json(provision, profile)
    assert report["result"] == "changed"
    assert "1 file of torch (torch/version.py changed)" in step(report, "environment")["reason"]
    assert report["verify"]["passed"] is True


def test_a_touched_file_is_hashed_once_and_is_not_drift(cpu: tuple[Provision, Path]) -> None:
    provision, profile = cpu
    assert apply_json(provision, profile)["result"] == "converged"
    target = site_packages(provision) / "torch" / "version.py"
    os.utime(target)  # new mtime and ctime, same bytes
    report = apply_json(provision, profile)
    assert report["result"] == "converged" and report["verify"]["cached"] is True
    header, body = (provision.home / "state" / "cpu.files").read_text().split("\n", 1)
    ledger = json.loads(body)  # the paths and stats, after the header line
    assert json.loads(header)["count"] == len(ledger["paths"])
    n = next(i for i, p in enumerate(ledger["paths"]) if p.endswith("/torch/version.py"))
    assert ledger["stats"][4 * n + 1] == target.stat().st_mtime_ns  # the next apply trusts it


def test_a_record_edited_with_its_file_is_still_drift(cpu: tuple[Provision, Path]) -> None:
    """The ledger keeps the hashes verified: rewriting RECORD to match an edit hides
    nothing."""
    provision, profile = cpu
    assert apply_json(provision, profile)["result"] == "converged"
    site = site_packages(provision)
    target = site / "torch" / "version.py"
    target.unlink()  # a new inode: uv's cache entry stays intact
    target.write_text("__version__ = 'tampered'\n")
    record = next(site.glob("torch-*.dist-info")) / "RECORD"
    digest = base64.urlsafe_b64encode(hashlib.sha256(target.read_bytes()).digest())
    lines = [
        f"torch/version.py,sha256={digest.rstrip(b'=').decode()},{target.stat().st_size}"
        if line.startswith("torch/version.py,")
        else line
        for line in record.read_text().splitlines()
    ]
    record.write_text("\n".join(lines) + "\n")
    report = apply_json(provision, profile)
    assert report["result"] == "changed"
    repaired = {f["path"] for r in report["environment"]["repair"] for f in r["files"]}
    assert "torch/version.py" in repaired
    assert "tampered" not in target.read_text()
    assert provision("verify", str(profile)).returncode == 0


def test_a_pth_planted_in_site_packages_fails_verify_and_apply_force_removes_it(
    cpu: tuple[Provision, Path],
) -> None:
    """No package's RECORD lists it (uv links every file of its cache entry): a file at
    the top of site-packages that no verified package installs."""
    provision, profile = cpu
    assert step(apply_json(provision, profile), "verify")["status"] == "ok"
    pth = site_packages(provision) / "zz-broken.pth"
    pth.write_text("import sys; sys.exit(3)\n")
    try:
        done = provision("verify", str(profile))
        assert done.returncode == 1
        assert "pip:?: zz-broken.pth (added)" in done.stdout + done.stderr
        report = apply_json(provision, profile)  # verify cleared the mark: apply checks files
        assert "zz-broken.pth" in step(report, "environment")["reason"]
        assert not pth.exists() and report["verify"]["passed"] is True
    finally:
        pth.unlink(missing_ok=True)
