"""conda-lock lockfiles: written with conda-lock's own writer, read back equal, read by
``conda-lock render``, staleness, and the ``provision lock`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.cli import main
from provisioner.errors import ExitCode, ProvisionError
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.inputs import input_digests, inputs_hash
from provisioner.lock.location import lock_location
from provisioner.lock.lockfile import canonical, lock_profile, read_lockfile, write_lockfile
from provisioner.lock.staleness import Cause, staleness
from provisioner.profile import ResolvedProfile, load_profile

ProfileWriter = Callable[..., Path]
CONDA_LOCK = Path(sys.executable).parent / "conda-lock"

PIP_PACKAGE = LockedPackage(
    manager="pip",
    name="six",
    version="1.16.0",
    platform="linux-64",
    url="https://files.pythonhosted.org/packages/six-1.16.0-py2.py3-none-any.whl",
    sha256="8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
)


def named_inputs(lock: Lock, resolved: ResolvedProfile) -> tuple[str, ...]:
    """The lock inputs :func:`staleness` names (none when the lock is fresh)."""
    found = staleness(lock, resolved)
    return () if found is None else found.inputs


def test_lockfile_round_trips(
    demo_channel: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()]))
    locked = lock_profile(resolved)
    assert locked.platforms == ("linux-64",)
    assert locked.content_hash == inputs_hash(resolved)
    path = write_lockfile(locked, resolved, tmp_path / "out" / "team.conda-lock.yml")
    assert read_lockfile(path) == locked
    # Two platforms, conda and pip entries: still equal after the file.
    win = lock_profile(load_profile(write_profile([demo_channel.as_uri()], os_="windows")))
    both = canonical(
        Lock(
            locked.content_hash,
            ("linux-64", "win-64"),
            locked.channels,
            locked.packages + win.packages + (PIP_PACKAGE,),
        )
    )
    path2 = write_lockfile(both, resolved, tmp_path / "both.conda-lock.yml")
    assert read_lockfile(path2) == both
    # conda-lock's own parser reads the same packages as ours.
    from conda_lock.lockfile import parse_conda_lock_file

    theirs = parse_conda_lock_file(path2)
    assert sorted(
        (d.manager, d.name, d.platform, d.url, d.hash.sha256) for d in theirs.package
    ) == (sorted((p.manager, p.name, p.platform, p.url, p.sha256) for p in both.packages))


def test_same_lock_same_bytes(
    demo_channel: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()]))
    first = write_lockfile(lock_profile(resolved), resolved, tmp_path / "a" / "t.conda-lock.yml")
    second = write_lockfile(lock_profile(resolved), resolved, tmp_path / "b" / "t.conda-lock.yml")
    assert first.read_bytes() == second.read_bytes()
    assert "# Re-solve after editing the profile:        provision lock " in first.read_text()
    assert sorted(p.name for p in first.parent.iterdir()) == ["t.conda-lock.yml"]


def test_file_is_a_conda_lock_v1_file_with_our_hash(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()], name="team.yaml"))
    path = write_lockfile(lock_profile(resolved), resolved, lock_location(resolved).path)
    assert path == resolved.path.parent / "team.conda-lock.yml"
    data = yaml.safe_load(path.read_text())
    assert data["version"] == 1
    assert data["metadata"]["platforms"] == ["linux-64"]
    assert data["metadata"]["sources"] == ["team.yaml"]
    custom = data["metadata"]["custom_metadata"]
    assert custom["provision_inputs_hash"] == inputs_hash(resolved)
    assert custom["provision_input:environment.pip"] == input_digests(resolved)["environment.pip"]
    assert "provision_content_hash" not in custom
    assert data["metadata"]["channels"] == [{"url": demo_channel.as_uri(), "used_env_vars": []}]
    entries = {p["name"]: p for p in data["package"]}
    assert entries["libcore"]["manager"] == "conda"
    assert entries["libcore"]["dependencies"] == {"__glibc": ">=2.17", "liblinux": ""}
    assert set(entries["libcore"]["hash"]) == {"md5", "sha256"}


def test_conda_lock_render_reads_our_lockfile(
    demo_channel: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()]))
    locked = lock_profile(resolved)
    with_pip = canonical(
        Lock(
            locked.content_hash, locked.platforms, locked.channels, (*locked.packages, PIP_PACKAGE)
        )
    )
    path = write_lockfile(with_pip, resolved, tmp_path / "team.conda-lock.yml")
    out = tmp_path / "rendered"
    out.mkdir()
    for kind in ("env", "explicit"):
        proc = subprocess.run(
            [str(CONDA_LOCK), "render", "--kind", kind, "-p", "linux-64", str(path)],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
    env = yaml.safe_load((out / "conda-linux-64.lock.yml").read_text())
    assert env["channels"] == [demo_channel.as_uri()]
    assert {d for d in env["dependencies"] if isinstance(d, str)} == {
        "app=1.0=0",
        "libcore=1.2=h1_0",
        "liblinux=3.0=h0_0",
        "tool=2.0=0",
    }
    pip_part = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert pip_part == [f"six == 1.16.0 --hash=sha256:{PIP_PACKAGE.sha256}"]
    explicit = (out / "conda-linux-64.lock").read_text()
    for p in locked.packages:
        assert f"{p.url}#{p.md5}" in explicit or f"{p.url}#sha256={p.sha256}" in explicit


def test_staleness_follows_the_profile(
    demo_channel: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()]))
    locked = lock_profile(resolved)
    assert not named_inputs(locked, resolved)
    changed = load_profile(write_profile([demo_channel.as_uri()], conda=["app", "tool 1.*"]))
    assert named_inputs(locked, changed)
    path = write_lockfile(locked, resolved, tmp_path / "x.conda-lock.yml")
    assert named_inputs(read_lockfile(path), changed)
    assert not named_inputs(read_lockfile(path), resolved)


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        (lambda d: d.update(description="a new line"), ()),
        (lambda d: d["smoke_test"].update(steps=50, timeout_s=60), ()),
        (lambda d: d["environment"].update(variables={"OMP_NUM_THREADS": "2"}), ()),
        (lambda d: d["environment"].update(proxy="http://proxy.example:3128"), ()),
        (lambda d: d["environment"].update(pip=["six==1.16.0"]), ("environment.pip",)),
        (lambda d: d["environment"].update(conda=["app", "tool 1.*"]), ("environment.conda",)),
        (lambda d: d["environment"].update(python="3.10"), ("environment.python",)),
        (
            lambda d: d["environment"].update(extra_index_urls=["file:///srv/simple"]),
            ("environment.extra_index_urls",),
        ),
        (
            lambda d: d["environment"].update(index_strategy="first-index"),
            ("environment.index_strategy",),
        ),
        (lambda d: d["target"].update(arch="aarch64"), ("target.arch", "virtual_packages")),
        (
            lambda d: d.update(target={"os": "wsl2"}, requires={"wsl": {"min_kernel": "5.15.90"}}),
            ("target.os", "virtual_packages"),
        ),
    ],
)
def test_only_lock_inputs_make_a_lock_stale(
    demo_channel: Path,
    write_profile: ProfileWriter,
    edit: Callable[[dict[str, Any]], None],
    changed: tuple[str, ...],
) -> None:
    profile = write_profile([demo_channel.as_uri()], name="lab.yaml")
    data = yaml.safe_load(profile.read_text())
    resolved = load_profile(profile)
    path = write_lockfile(lock_profile(resolved), resolved, lock_location(resolved).path)
    edit(data)
    profile.write_text(yaml.safe_dump(data))
    edited = load_profile(profile)
    assert edited.content_hash != resolved.content_hash  # the profile did change
    assert named_inputs(read_lockfile(path), edited) == changed


def test_cuda_driver_floor_changes_the_virtual_packages_of_a_conda_lock(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()], gpu="cuda"))
    locked = lock_profile(resolved)
    text = resolved.path.read_text().replace("530.30", "450.80")
    resolved.path.write_text(text)
    assert named_inputs(locked, load_profile(resolved.path)) == ("virtual_packages",)


def test_a_lockfile_that_records_no_lock_inputs_is_stale_and_says_why(
    demo_channel: Path, write_profile: ProfileWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    """A conda-lock file that provision did not make (no ``provision_inputs_hash`` and no
    per-input digests in its metadata) is read, and is stale with a clear reason."""
    resolved = load_profile(write_profile([demo_channel.as_uri()], name="lab.yaml"))
    path = write_lockfile(lock_profile(resolved), resolved, lock_location(resolved).path)
    data = yaml.safe_load(path.read_text())
    data["metadata"]["custom_metadata"] = {}
    path.write_text(yaml.safe_dump(data))
    found = staleness(read_lockfile(path), resolved)
    assert found is not None and found.cause is Cause.UNRECORDED
    assert main(["lock", str(resolved.path), "--check"]) == ExitCode.NOT_READY
    err = capsys.readouterr().err
    assert "lab.conda-lock.yml: stale (it records no lock inputs: not made by `provision" in err
    assert "(fix: provision lock" in err


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nmetadata: {}\npackage: []\n",
        "just: [unclosed\n",
        "package: []\n",
        "version: 7\n",
        "- a list\n- not a mapping\n",
    ],
)
def test_malformed_lockfile_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.conda-lock.yml"
    path.write_text(text)
    with pytest.raises(ProvisionError) as info:
        read_lockfile(path)
    err = info.value
    assert err.exit_code == ExitCode.INVALID
    assert err.message.startswith(f"{path}: not a valid conda-lock file")
    assert "\n" not in err.message and err.hint and "provision lock" in err.hint


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda t: t.replace("    md5: ", "    md6: ", 1), "conda packages need an md5"),
        (lambda t: t.replace("version: '2.0'", "version: 2.0", 1), "version: expected str"),
        (lambda t: t.replace("manager: conda", "manager: apt", 1), "neither conda nor pip"),
        (lambda t: t.replace("  platforms:", "  platformz:", 1), "metadata.platforms: missing"),
    ],
)
def test_lockfile_fields_are_checked(
    demo_channel: Path,
    write_profile: ProfileWriter,
    tmp_path: Path,
    edit: Callable[[str], str],
    why: str,
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()]))
    path = write_lockfile(lock_profile(resolved), resolved, tmp_path / "x.conda-lock.yml")
    text = path.read_text()
    assert edit(text) != text
    path.write_text(edit(text))
    with pytest.raises(ProvisionError, match=why) as info:
        read_lockfile(path)
    assert info.value.exit_code == ExitCode.INVALID


def test_missing_lockfile_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match="lockfile not found"):
        read_lockfile(tmp_path / "absent.conda-lock.yml")


def test_lock_command_writes_and_checks(
    demo_channel: Path,
    write_profile: ProfileWriter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile = write_profile([demo_channel.as_uri()], name="lab.yaml")
    lockfile = profile.parent / "lab.conda-lock.yml"
    assert main(["lock", str(profile), "--check"]) == ExitCode.NOT_READY
    assert "missing" in capsys.readouterr().err
    assert main(["lock", str(profile)]) == ExitCode.OK
    assert "linux-64: 4 conda + 0 pip" in capsys.readouterr().out
    assert lockfile.is_file()
    assert main(["lock", str(profile), "--check"]) == ExitCode.OK
    assert "fresh" in capsys.readouterr().out
    write_profile([demo_channel.as_uri()], name="lab.yaml", conda=["app", "tool 1.*"])
    assert main(["lock", str(profile), "--check"]) == ExitCode.NOT_READY
    err = capsys.readouterr().err
    assert "lab.conda-lock.yml: stale (environment.conda changed) (fix: provision lock" in err
    write_profile([demo_channel.as_uri()], name="lab.yaml", pip=["six==1.16.0"])
    assert main(["lock", str(profile), "--check", "--json"]) == ExitCode.NOT_READY
    report = json.loads(capsys.readouterr().out)
    assert (report["state"], report["changed"]) == ("stale", ["environment.pip"])
    assert report["cause"] == "inputs"
    write_profile([demo_channel.as_uri()], name="lab.yaml")  # nothing to resolve offline
    other = profile.parent / "elsewhere" / "x.yml"
    assert main(["lock", str(profile), "-o", str(other), "--json"]) == ExitCode.OK
    assert other.is_file() and '"linux-64": {"conda": 4, "pip": 0}' in capsys.readouterr().out


def test_lock_command_failure_is_one_line(
    write_profile: ProfileWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write_profile(["file:///nonexistent/chan"])
    assert main(["lock", str(profile)]) == ExitCode.NOT_READY
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("provision: error: cannot read conda channel")
    assert "(fix: " in err
