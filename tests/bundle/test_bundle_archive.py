"""Bundle archives and checks on small real contents (no network): the same entries
give byte-identical .tar.gz and .zip files; ``--check`` finds a changed, a missing
and an extra file; bundling refuses a profile without a lock, a platform the lock
lacks, an sdist-only pip package and an unreachable source, each with one line."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pytest

from provisioner.bundle.archive import check, write
from provisioner.bundle.build import Contents, generated, seal
from provisioner.commands.bundle import bundle, check_bundle
from provisioner.errors import ExternalFailure, ProvisionError
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.inputs import input_digests, inputs_hash
from provisioner.lock.lockfile import write_lockfile
from provisioner.profile import ResolvedProfile, default_profile_path, load_profile


def small_contents(work: Path) -> Contents:
    resolved = load_profile(default_profile_path())
    entries = [
        generated(work, "bootstrap.sh", b"#!/bin/sh\necho hi\n", executable=True),
        generated(work, "wheels/a-1.0-py3-none-any.whl", b"PK not really a wheel" * 100),
        generated(work, "render/check.sh", b"#!/bin/sh\nexit 0\n", executable=True),
        generated(work, "README.md", "Grüße\n".encode()),
    ]
    return seal("demo-linux-64", "linux-64", resolved, entries, work)


@pytest.mark.parametrize("name", ["b.tar.gz", "b.zip"])
def test_same_entries_same_bytes(tmp_path: Path, name: str) -> None:
    contents = small_contents(tmp_path / "work")
    one = write(contents, tmp_path / "1" / name)
    two = write(contents, tmp_path / "2" / name)
    assert one.read_bytes() == two.read_bytes()
    assert check(one).problems == ()


def test_archive_members_are_sorted_owner_free_and_dated(tmp_path: Path) -> None:
    contents = small_contents(tmp_path / "work")
    with tarfile.open(write(contents, tmp_path / "b.tar.gz")) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and names[0] == "demo-linux-64"
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {
        (0, 0, "", "", 315532800)
    }
    modes = {m.name.split("/", 1)[-1]: m.mode for m in members if m.isfile()}
    assert modes["bootstrap.sh"] == 0o755 and modes["README.md"] == 0o644
    with zipfile.ZipFile(write(contents, tmp_path / "b.zip")) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    whl = infos["demo-linux-64/wheels/a-1.0-py3-none-any.whl"]
    assert whl.compress_type == zipfile.ZIP_STORED  # already compressed: stored
    assert infos["demo-linux-64/README.md"].compress_type == zipfile.ZIP_DEFLATED
    assert infos["demo-linux-64/bootstrap.sh"].external_attr >> 16 == 0o100755


def test_check_names_changed_missing_and_extra_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    top = write(small_contents(tmp_path / "work"), out)
    assert check_bundle(path=out) == 0
    (top / "render" / "check.sh").write_text("#!/bin/sh\nexit 1\n")
    (top / "wheels" / "a-1.0-py3-none-any.whl").unlink()
    (top / "wheels" / "evil.whl").write_bytes(b"x")
    capsys.readouterr()
    assert check_bundle(path=out) == 1
    err = capsys.readouterr().err
    assert "render/check.sh: sha256 differs from the manifest" in err
    assert "wheels/a-1.0-py3-none-any.whl: missing" in err
    assert "wheels/evil.whl: not in the manifest" in err


def test_check_refuses_what_is_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(ProvisionError, match="not a bundle"):
        check(tmp_path / "x")


def venv_profile(folder: Path) -> ResolvedProfile:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "p.yaml"
    path.write_text(
        "name: p\ntarget: {os: linux}\nrequires: {gpu: {api: none}}\n"
        "environment: {manager: venv, name: p, python: '3.11', pip: [demo]}\n"
        "smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}\n"
    )
    return load_profile(path)


def lock_with(resolved: ResolvedProfile, url: str) -> None:
    pkg = LockedPackage("pip", "demo", "1.0", "linux-64", url, "0" * 64)
    inputs = tuple(input_digests(resolved).items())
    lock = Lock(inputs_hash(resolved), ("linux-64",), (), (pkg,), inputs)
    write_lockfile(lock, resolved, resolved.path.with_name("p.conda-lock.yml"))


def test_bundle_needs_a_lock_and_a_locked_platform(tmp_path: Path) -> None:
    resolved = venv_profile(tmp_path / "p")
    with pytest.raises(ProvisionError, match="no lockfile beside the profile") as e:
        bundle(profile=resolved.path, output=tmp_path / "o")
    assert e.value.exit_code == 2 and e.value.hint == f"provision lock {resolved.path}"
    lock_with(resolved, "file:///nowhere/demo-1.0-py3-none-any.whl")
    with pytest.raises(ProvisionError, match="--platform win-64: the lock has no packages") as e:
        bundle(profile=resolved.path, output=tmp_path / "o", platform="win-64")
    assert e.value.exit_code == 2


def test_unreachable_source_and_sdist_are_one_line_failures(tmp_path: Path) -> None:
    resolved = venv_profile(tmp_path / "p")
    lock_with(resolved, "file:///nowhere/demo-1.0-py3-none-any.whl")
    with pytest.raises(ExternalFailure, match=r"cannot read pip package demo==1.0 from /nowhere"):
        bundle(profile=resolved.path, output=tmp_path / "o.tar.gz")
    lock_with(resolved, "file:///nowhere/demo-1.0.tar.gz")
    with pytest.raises(ExternalFailure, match="has no wheel for linux-64 in the lock"):
        bundle(profile=resolved.path, output=tmp_path / "o.tar.gz")
    assert not (tmp_path / "o.tar.gz").exists()
