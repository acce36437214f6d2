"""The exported playbooks, Linux and Windows, pass ``ansible-playbook --syntax-check``
and ansible-lint (production profile) with no findings. The Windows play needs the
``ansible.windows`` collection (it ships with the ``ansible`` package, not with
ansible-core) and ansible-lint must be installed: each check skips, naming what is
missing. The bundle is a placeholder file here; tests/fleet/test_fleet_ssh.py runs the
Linux play for real."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provisioner.export.ansible import Playbook, playbook_files
from provisioner.render import write_files

BIN = Path(sys.executable).parent


def export(tmp_path: Path, platform: str) -> Path:
    suffix = ".zip" if platform.startswith("win") else ".tar.gz"
    book = Playbook("demo", "demo-env", platform, f"demo-{platform}{suffix}", "0" * 16, "demo")
    out = tmp_path / platform
    write_files(out, {path: (text, False) for path, text in playbook_files(book).items()})
    files = out / "roles" / "provision" / "files"
    files.mkdir(parents=True)
    (files / book.bundle_file).write_bytes(b"placeholder bundle\n")
    return out


def ansible_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ANSIBLE_HOME": str(tmp_path / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible-tmp"),
        "LANG": "C.UTF-8",
    }


def has_windows_collection(env: dict[str, str]) -> bool:
    done = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "list", "ansible.windows"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return done.returncode == 0 and "ansible.windows" in done.stdout


@pytest.mark.parametrize("platform", ["linux-64", "win-64"])
def test_exported_playbook_passes_syntax_check_and_ansible_lint(
    tmp_path: Path, platform: str
) -> None:
    if not (BIN / "ansible-playbook").is_file():
        pytest.skip("ansible-core is not installed (pip install '.[fleet]')")
    play = export(tmp_path, platform)
    tasks = yaml.safe_load((play / "roles/provision/tasks/main.yml").read_text())
    modules = {k for t in tasks for k in t if "." in k}
    modules |= {k for t in tasks for b in t.get("block", []) + t.get("always", []) for k in b}
    if platform == "win-64":
        assert "ansible.windows.win_copy" in modules and "ansible.builtin.copy" not in modules
    else:
        assert {"ansible.builtin.copy", "ansible.builtin.unarchive"} <= modules
    env = ansible_env(tmp_path)
    if platform == "win-64" and not has_windows_collection(env):
        pytest.skip(
            "the ansible.windows collection is not installed (pip install ansible): "
            "the Windows play cannot be syntax-checked"
        )
    syntax = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "inventory.example.ini",
            "site.yml",
            "--syntax-check",
        ],
        cwd=play,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    lint = shutil.which("ansible-lint", path=str(BIN))
    if lint is None:
        pytest.skip("ansible-lint is not installed (pip install ansible-lint)")
    done = subprocess.run(
        [lint, "--offline", "--profile", "production", "site.yml"],
        cwd=play,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failure(s), 0 warning(s)" in done.stdout + done.stderr
