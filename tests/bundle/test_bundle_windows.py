"""win-64 from Linux: a conda profile on a local channel (its win-64 ``python`` is a
named STAND-IN placeholder: no Windows here) bundled as a reproducible .zip with
provision's own win-64 wheels (uv.exe inside), its ``bootstrap.ps1`` parsed with
tree-sitter-powershell (PowerShell cannot run here), and the exported Windows play
checked with ``ansible-playbook --syntax-check`` and ansible-lint where they are
installed. Untested on real Windows."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.bundle.conftest import PY, provision
from tests.channels import PackageSpec, build_channel, demo_packages
from tests.support.powershell import parse_errors

pytestmark = [pytest.mark.slow, pytest.mark.network]


def windows_profile(tmp_path: Path) -> Path:
    standin = PackageSpec("python", f"{PY}.99", "0_standin", "win-64", files={"python.exe": "MZ\n"})
    channel = build_channel(tmp_path / "chan", [*demo_packages(), standin])
    profile = tmp_path / "p" / "win.yaml"
    profile.parent.mkdir()
    data = {
        "name": "win",
        "target": {"os": "windows"},
        "requires": {"windows": {"min_build": 19044}, "gpu": {"api": "none"}},
        "environment": {
            "manager": "conda",
            "name": "win-env",
            "channels": [channel.as_uri()],
            "python": PY,
            "conda": ["app", "python"],
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    return profile


def test_win_64_zip_bundle_and_windows_playbook(child_env: dict[str, str], tmp_path: Path) -> None:
    profile = windows_profile(tmp_path)
    locked = provision("lock", str(profile), env=child_env)
    assert locked.returncode == 0, locked.stderr
    out = tmp_path / "out"
    args = ("bundle", str(profile), "--tool-python", PY)
    first = provision(*args, "-o", str(out / "a.zip"), env=child_env)
    assert first.returncode == 0, first.stderr
    assert provision(*args, "-o", str(out / "b.zip"), env=child_env).returncode == 0
    assert (out / "a.zip").read_bytes() == (out / "b.zip").read_bytes()
    with zipfile.ZipFile(out / "a.zip") as zf:
        names = zf.namelist()
        script = zf.read("win-win-64/bootstrap.ps1")
    assert "win-win-64/bootstrap.sh" not in names
    assert any(n.startswith("win-win-64/channel/win-64/libwin-4.0") for n in names)
    assert any(n.startswith("win-win-64/tool/uv-") and "win_amd64" in n for n in names)
    # Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page.
    assert script.startswith(b"\xef\xbb\xbf") and b"\r\n" in script and b"\n\n" not in script
    text = script.decode("utf-8-sig")
    assert not parse_errors(text), parse_errors(text)[:5]
    assert "Get-FileHash" in text and "--require-hashes" in text
    checked = provision("bundle", "--check", str(out / "a.zip"), env=child_env)
    assert checked.returncode == 0, checked.stderr

    play = tmp_path / "play"
    exported = provision(
        "export", "ansible", str(profile), "-o", str(play), "--tool-python", PY, env=child_env
    )
    assert exported.returncode == 0, exported.stderr
    assert (play / "roles" / "provision" / "files" / "win-win-64.zip").is_file()
    tasks = (play / "roles" / "provision" / "tasks" / "main.yml").read_text()
    assert (
        "ansible.windows.win_copy" in tasks
        and "bootstrap.ps1" in (play / "roles" / "provision" / "vars" / "main.yml").read_text()
    )
    yaml.safe_load(tasks)
    bindir = Path(sys.executable).parent
    env = {**child_env, "ANSIBLE_HOME": str(tmp_path / "ansible"), "HOME": str(tmp_path)}
    has_windows = subprocess.run(
        [str(bindir / "ansible-galaxy"), "collection", "list", "ansible.windows"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if has_windows.returncode != 0 or "ansible.windows" not in has_windows.stdout:
        pytest.skip(
            "the ansible.windows collection is not installed (it ships with `pip install "
            "ansible`, not ansible-core): the Windows play was not syntax-checked"
        )
    syntax = subprocess.run(
        [
            str(bindir / "ansible-playbook"),
            "-i",
            str(play / "inventory.example.ini"),
            str(play / "site.yml"),
            "--syntax-check",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    lint = shutil.which("ansible-lint", path=str(bindir))
    if lint is not None:
        done = subprocess.run(
            [lint, "--offline", "site.yml"], cwd=play, capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stdout + done.stderr
