"""The exported playbooks, Linux and Windows, pass ``ansible-playbook --syntax-check``
and ansible-lint (production profile) with no findings. The Windows play needs the
``ansible.windows`` collection (it ships with the ``ansible`` package, not with
ansible-core) and ansible-lint must be installed: each check skips, naming what is
missing. The bundle is a placeholder file here; tests/fleet/test_fleet_ssh.py runs the
Linux play for real."""

from __future__ import annotations

import json
import re
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


REPO = Path(__file__).resolve().parents[2]
PLAY_LEVEL = {"provision_serial", "provision_max_fail_percentage"}


def documented_variables() -> set[str]:
    """The variables docs/imaging.md documents for the playbooks (its tables)."""
    text = (REPO / "docs" / "imaging.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(provision_[a-z_]+)` \|", text, re.MULTILINE))


def code_of(path: Path) -> str:
    """A YAML file without its comment lines."""
    return "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
    )


def test_every_documented_variable_is_used_by_both_plays(tmp_path: Path) -> None:
    """The Windows play honours the same variables as the Linux one (issue: it ignored
    provision_environment): each documented host variable has a default and is used
    by the tasks (or their derived vars) of both plays; each play-level one by both
    site.yml files."""
    documented = documented_variables()
    assert {
        "provision_home",
        "provision_verify",
        "provision_python",
        "provision_environment",
        "provision_force_verify",
        "provision_keep_bundles",
        "provision_run_id",
    } | PLAY_LEVEL <= documented
    for platform in ("linux-64", "win-64"):
        play = export(tmp_path, platform)
        role = play / "roles" / "provision"
        defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
        used = code_of(role / "tasks" / "main.yml") + code_of(role / "vars" / "main.yml")
        site = code_of(play / "site.yml")
        for name in sorted(documented):
            if name in PLAY_LEVEL:
                assert re.search(rf"\b{name}\b", site), (platform, name)
                continue
            assert name in defaults, (platform, name)
            assert re.search(rf"\b{name}\b", used), (platform, name)
        undocumented = {k for k in defaults if not k.startswith("provision_bundle_")} - documented
        assert not undocumented, (platform, undocumented)


def test_the_windows_play_pins_the_collection_it_needs(tmp_path: Path) -> None:
    play = export(tmp_path, "win-64")
    wanted = yaml.safe_load((play / "collections" / "requirements.yml").read_text())
    pinned = {c["name"]: c["version"] for c in wanted["collections"]}
    assert list(pinned) == ["ansible.windows"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned["ansible.windows"])  # one exact version
    tasks = (play / "roles" / "provision" / "tasks" / "main.yml").read_text()
    used = set(re.findall(r"^\s*-?\s*(ansible\.windows\.\w+):", tasks, re.MULTILINE))
    assert used == {
        "ansible.windows.win_file",
        "ansible.windows.win_copy",
        "ansible.windows.win_powershell",
        "ansible.windows.win_command",
    }
    env = ansible_env(tmp_path)
    if not has_windows_collection(env):
        pytest.skip("the ansible.windows collection is not installed (pip install ansible)")
    listed = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "list", "ansible.windows", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    versions = {
        v["version"] for place in json.loads(listed.stdout).values() for v in place.values()
    }
    assert pinned["ansible.windows"] in versions  # the play is checked with the pinned one
    linux = yaml.safe_load(
        (export(tmp_path / "l", "linux-64") / "collections" / "requirements.yml").read_text()
    )
    assert linux["collections"] == []
