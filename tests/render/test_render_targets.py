"""``provision render`` for every target os and arch a profile may name, with both
environment managers: the scripts that target gets, the conda subdir they install
for, shellcheck on every bash script, tree-sitter on every PowerShell one (PowerShell
cannot run here), and a manifest that describes exactly the files written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.cli import main
from tests.support.powershell import parse_errors
from tests.support.profiles import profile_document, write_profile

SHELLCHECK = Path(sys.executable).with_name("shellcheck")
COMMON = {"check.sh", "check.ps1", "environment.yml", "smoke_test.py", "manifest.json"}

# (target.os, target.arch, manager, the conda subdir the scripts install for)
TARGETS = [
    ("linux", "x86_64", "venv", "linux-64"),
    ("linux", "aarch64", "conda", "linux-aarch64"),
    ("linux", "arm64", "venv", "linux-aarch64"),  # arm64 is aarch64's other name
    ("wsl2", "x86_64", "conda", "linux-64"),
    ("wsl2", "aarch64", "venv", "linux-aarch64"),
    ("windows", "x86_64", "venv", "win-64"),
    ("windows", "arm64", "conda", "win-arm64"),
]
IDS = [f"{os_}-{arch}-{manager}" for os_, arch, manager, _ in TARGETS]


def render(tmp_path: Path, os_: str, arch: str, manager: str, name: str = "") -> Path:
    environment: dict[str, object] = {"manager": manager, "python": "3.11", "pip": ["torch==2.4.1"]}
    if manager == "conda":
        environment["conda"] = ["numpy"]
    document = profile_document(name or f"t-{os_}-{arch}", environment, os_=os_)
    if os_ == "wsl2":
        document["requires"] = {"windows": {"min_build": 19044}, "wsl": {"version": 2}}
    document["target"]["arch"] = arch
    profile = write_profile(tmp_path / "profile.yaml", document)
    out = tmp_path / "out"
    assert main(["render", str(profile), "-o", str(out)]) == 0
    return out


@pytest.mark.parametrize(("os_", "arch", "manager", "subdir"), TARGETS, ids=IDS)
def test_each_target_gets_its_scripts_for_its_subdir(
    os_: str, arch: str, manager: str, subdir: str, tmp_path: Path
) -> None:
    out = render(tmp_path, os_, arch, manager)
    bootstrap = "bootstrap.ps1" if os_ == "windows" else "bootstrap.sh"
    assert {p.name for p in out.iterdir()} == COMMON | {bootstrap}
    text = (out / bootstrap).read_text(encoding="utf-8")
    line = f"$Platform = '{subdir}'" if os_ == "windows" else f"PLATFORM='{subdir}'"
    assert line in text.splitlines()


@pytest.mark.parametrize(("os_", "arch", "manager", "subdir"), TARGETS, ids=IDS)
def test_every_script_passes_its_checker(
    os_: str, arch: str, manager: str, subdir: str, tmp_path: Path
) -> None:
    out = render(tmp_path, os_, arch, manager)
    scripts = sorted(out.glob("*.sh"))
    done = subprocess.run(
        [str(SHELLCHECK), *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
    for ps1 in sorted(out.glob("*.ps1")):
        data = ps1.read_bytes()
        assert data.isascii(), f"{ps1.name}: Windows PowerShell 5.1 reads it as ANSI"
        assert parse_errors(data.decode("ascii")) == [], ps1.name
    compile((out / "smoke_test.py").read_text(encoding="utf-8"), "smoke_test.py", "exec")


@pytest.mark.parametrize(("os_", "arch", "manager", "subdir"), TARGETS, ids=IDS)
def test_the_manifest_describes_exactly_the_files_written(
    os_: str, arch: str, manager: str, subdir: str, tmp_path: Path
) -> None:
    out = render(tmp_path, os_, arch, manager)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["profile"] == f"t-{os_}-{arch}"
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == {p.name for p in out.iterdir()} - {"manifest.json"}
    for name, entry in listed.items():
        path = out / name
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), name
        assert entry["executable"] == os.access(path, os.X_OK), name


def test_changing_only_the_arch_changes_only_what_depends_on_it(tmp_path: Path) -> None:
    """x86_64 -> aarch64 on linux: bootstrap.sh's subdir changes and the profile's hash
    with it (in the report it writes); the other files differ at most in that hash."""
    x86 = render(tmp_path / "a", "linux", "x86_64", "venv", name="same")
    arm = render(tmp_path / "b", "linux", "aarch64", "venv", name="same")

    def differing(name: str) -> list[str]:
        old = (x86 / name).read_text(encoding="utf-8").splitlines()
        new = (arm / name).read_text(encoding="utf-8").splitlines()
        return [b for a, b in zip(old, new, strict=True) if a != b]

    platform, skeleton, data = differing("bootstrap.sh")
    assert platform == "PLATFORM='linux-aarch64'"
    assert skeleton.startswith("REPORT_SKELETON=") and '"content_hash":"sha256:' in skeleton
    # the state it shares with apply records the platform and the profile's hash too
    assert data.startswith("BOOTSTRAP_DATA=") and '"platform":"linux-aarch64"' in data
    for name in ("check.sh", "check.ps1", "smoke_test.py", "environment.yml"):
        assert all("sha256:" in line for line in differing(name)), name
