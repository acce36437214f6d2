"""What the exported playbook's module does on a host, in process: the package diff it
shows for ``--diff``, the facts and the one-line failure it hands back, and the
clean-up after a switch to a new bundle (older unpacked bundles, their work folders
and pool entries, store entries no environment uses). The real module runs against
SSH hosts in tests/fleet/test_fleet_ssh.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from provisioner.bundle import BUNDLE_SCHEMA
from provisioner.bundle.cleanup import ACTIVE, clean_after_switch
from provisioner.bundle.host import HostResult, _failure_text, facts, package_diff


def test_the_package_diff_lists_what_goes_and_what_comes() -> None:
    diff = {
        "exists": True,
        "add": ["six==1.17.0"],
        "change": [{"from": "torch==2.12.0", "to": "torch==2.13.0+cpu"}],
        "remove": ["pip:tabulate"],
        "notes": [],
    }
    before, after = package_diff(diff)
    assert before == "pip:tabulate\ntorch==2.12.0\n"
    assert after == "six==1.17.0\ntorch==2.13.0+cpu\n"
    shown = HostResult(True, False, "changed", None, {}, before, after).module_result(diff=True)
    assert shown["diff"] == {
        "before_header": "installed",
        "after_header": "locked",
        "before": before,
        "after": after,
    }
    assert "diff" not in HostResult(True, False, "", None, {}, before, after).module_result(
        diff=False
    )
    assert package_diff(None) == ("", "")


NOT_READY = {
    "result": "not-ready",
    "exit_code": 1,
    "checks": {
        "profile": "cpu",
        "ready": False,
        "checks": [
            {"id": "os.linux", "status": "pass", "summary": "Linux", "fix": ""},
            {
                "id": "python.available",
                "status": "fail",
                "summary": "no Python 3.11",
                "fix": "install Python 3.11",
            },
            {"id": "gpu.adapter", "status": "unknown", "summary": "no lspci", "fix": ""},
        ],
    },
    "steps": [{"name": "checks", "status": "fail", "reason": "host not ready: ..."}],
}


def test_a_host_that_is_not_ready_fails_with_each_failing_check_and_its_fix() -> None:
    assert _failure_text(NOT_READY, None) == (
        "host not ready: python.available: no Python 3.11 (fix: install Python 3.11)"
    )
    found = facts(NOT_READY, NOT_READY["checks"])  # type: ignore[arg-type]
    assert found["ready"] is False and found["verified"] is False
    assert [c["id"] for c in found["failing"]] == ["python.available", "gpu.adapter"]
    assert found["checks"] == {
        "os.linux": "pass",
        "python.available": "fail",
        "gpu.adapter": "unknown",
    }


def make_bundle(root: Path, ident: str, wheel: bytes) -> tuple[Path, Path]:
    """An unpacked bundle as the playbook leaves it (``bundles/<id>/<top>``) and the
    work folder ``prepare`` writes for it, whose lock names a pool wheel."""
    top = root / "bundles" / ident / "cpu-linux-64"
    top.mkdir(parents=True)
    manifest = {"schema": BUNDLE_SCHEMA, "top": top.name, "platform": "linux-64"}
    (top / "manifest.json").write_text(json.dumps({**manifest, "environment": "cpu", "n": ident}))
    (top / "SHA256SUMS").write_text(f"{ident}\n")
    sha = hashlib.sha256(wheel).hexdigest()
    pool = root / "bundles" / "pool" / sha[:16]
    pool.mkdir(parents=True, exist_ok=True)
    (pool / "w-1.0-py3-none-any.whl").write_bytes(wheel)
    sums = hashlib.sha256(f"{ident}\n".encode()).hexdigest()[:12]
    work = root / "bundles" / f"cpu-linux-64-{sums}"
    work.mkdir()
    lock = {
        "package": [
            {
                "name": "w",
                "manager": "pip",
                "url": (pool / "w-1.0-py3-none-any.whl").resolve().as_uri(),
                "hash": {"sha256": sha},
            }
        ]
    }
    (work / "profile.conda-lock.yml").write_text(yaml.safe_dump(lock))
    return top, work


def manifest_id(top: Path) -> str:
    return hashlib.sha256((top / "manifest.json").read_bytes()).hexdigest()[:16]


def test_a_switch_keeps_the_current_and_one_previous_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("PROVISION_HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv"))

    def unpack(n: int) -> tuple[Path, Path]:
        # Named as the playbook names them: by the manifest's sha256.
        top, work = make_bundle(home, f"{n:016x}", f"wheel {n}".encode())
        ident = manifest_id(top)
        top.parent.rename(top.parent.with_name(ident))
        return top.parent.with_name(ident) / top.name, work

    store = tmp_path / "cache" / "provision" / "artifacts"
    used, unused = "a" * 64, "b" * 64
    for sha in (used, unused):
        (store / sha).mkdir(parents=True)
        (store / sha / "pkg.conda").write_bytes(b"x" * 1000)
    (home / "state").mkdir(parents=True)
    (home / "envs" / "cpu").mkdir(parents=True)
    state = {
        "prefix": str(home / "envs" / "cpu"),
        "phase": "verified",
        "packages": [{"manager": "conda", "name": "pkg", "sha256": used}],
    }
    (home / "state" / "cpu.json").write_text(json.dumps(state))

    tops = [unpack(0)]
    first = clean_after_switch(home, tops[0][0])  # the first bundle: nothing older known
    assert all("bundles" not in r for r in first)
    tops.append(unpack(1))
    clean_after_switch(home, tops[1][0])
    assert tops[0][0].exists()  # kept: the previous bundle, for a rollback
    assert clean_after_switch(home, tops[1][0]) == ()  # no switch: nothing to do

    tops.append(unpack(2))
    removed = clean_after_switch(home, tops[2][0])
    assert not tops[0][0].parent.exists() and not tops[0][1].exists()
    assert tops[1][0].exists() and tops[1][1].exists() and tops[2][0].exists()
    pool = sorted(p.name for p in (home / "bundles" / "pool").iterdir())
    assert len(pool) == 2  # the first bundle's wheel went with it
    assert (store / used).exists() and not (store / unused).exists()
    assert any(str(tops[0][0].parent) in r for r in removed)
    active = json.loads((home / "bundles" / ACTIVE).read_text())
    assert [b["id"] for b in active["bundles"]] == [manifest_id(t) for t, _ in tops[2:0:-1]]
