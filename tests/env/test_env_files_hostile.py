"""Files provision reads back from an environment, a cache or its own data home, in
any state a crash, a full disk or a hostile user leaves them: deeply nested JSON,
bytes that are not UTF-8, the wrong JSON type. Each reader treats such a file as
absent or untrusted (the environment is diffed, re-extracted or re-checked), and none
ends the run in exit 3."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.env.activation import activation_current, write_activation
from provisioner.env.artifacts import cached_index_metadata
from provisioner.env.conda import read_conda_meta
from provisioner.env.installed_files import files_at
from provisioner.env.integrity import altered_files, conda_expectations
from provisioner.env.package_cache import checked_entries
from provisioner.env.pip_part import installed_distributions
from provisioner.lock import LockedPackage
from provisioner.paths import cache_root
from tests.channels import PackageSpec, build_package

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
HOSTILE: dict[str, bytes] = {
    "deep-array": DEEP.encode(),
    "deep-object": DEEP_OBJECT.encode(),
    "not-utf8": b'{"name": "tool\xff"}',
    "a-list": b"[1, 2, 3]",
    "truncated": b'{"name": "tool", "version": "1.0", "paths_data": {"paths": [',
}
KINDS = sorted(HOSTILE)


@pytest.fixture(autouse=True)
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def prefix_with(tmp_path: Path, meta: bytes) -> Path:
    """A conda prefix with one good record (``good``) and one file holding ``meta``."""
    prefix = tmp_path / "prefix"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "share").mkdir()
    (prefix / "share" / "good.txt").write_text("good\n")
    good = {
        "name": "good",
        "version": "1.0",
        "build": "0",
        "paths_data": {
            "paths": [
                {
                    "_path": "share/good.txt",
                    "path_type": "hardlink",
                    "sha256": hashlib.sha256(b"good\n").hexdigest(),
                    "size_in_bytes": 5,
                }
            ]
        },
    }
    (prefix / "conda-meta" / "good-1.0-0.json").write_text(json.dumps(good))
    (prefix / "conda-meta" / "tool-1.0-0.json").write_bytes(meta)
    return prefix


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_conda_record_is_not_an_installed_package(tmp_path: Path, kind: str) -> None:
    """apply's diff then sees the package as missing and installs it again."""
    prefix = prefix_with(tmp_path, HOSTILE[kind])
    assert sorted(read_conda_meta(prefix)) == ["good"]


@pytest.mark.parametrize("kind", KINDS)
def test_verify_names_a_damaged_conda_record_instead_of_skipping_its_files(
    tmp_path: Path, kind: str
) -> None:
    """Without its record nothing says what the package's files must be: the file
    check of ``provision verify`` fails on it rather than passing unchecked files."""
    prefix = prefix_with(tmp_path, HOSTILE[kind])
    _, altered = files_at(prefix, prefix / "bin" / "python", "conda")
    assert altered == ["conda:tool-1.0-0: conda-meta/tool-1.0-0.json (changed)"]
    # apply's diff asks only for the packages it found installed: no record, no entry.
    assert altered_files(conda_expectations(prefix, ["good"])) == (1, ())


@pytest.mark.parametrize(
    "record",
    [
        {"name": "tool", "version": "1.0", "build": "0"},
        {"name": "tool", "version": "1.0", "build": "0", "paths_data": "share/tool"},
        {"name": "tool", "version": "1.0", "build": "0", "paths_data": {"paths": {"a": 1}}},
    ],
    ids=["no-paths-data", "paths-data-text", "paths-a-mapping"],
)
def test_a_record_that_lists_no_files_is_a_finding(tmp_path: Path, record: object) -> None:
    prefix = prefix_with(tmp_path, json.dumps(record).encode())
    _, altered = files_at(prefix, prefix / "bin" / "python", "conda")
    assert altered == ["conda:tool-1.0-0: conda-meta/tool-1.0-0.json (changed)"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_direct_url_reads_as_not_recorded(tmp_path: Path, kind: str) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    info = site / "six-1.17.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\n\n")
    (info / "RECORD").write_text("six-1.17.0.dist-info/METADATA,,\n")
    (info / "INSTALLER").write_text("uv\n")
    (info / "direct_url.json").write_bytes(HOSTILE[kind])
    found = installed_distributions(tmp_path / "venv" / "bin" / "python")
    assert (found["six"].version, found["six"].url, found["six"].sha256) == ("1.17.0", None, None)


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_conda_state_file_is_replaced_by_the_profiles_variables(
    tmp_path: Path, kind: str
) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    state = prefix / "conda-meta" / "state"
    state.write_bytes(HOSTILE[kind])
    assert not activation_current(prefix, "conda", {"OMP_NUM_THREADS": "2"})
    write_activation(prefix, "conda", {"OMP_NUM_THREADS": "2"})
    assert json.loads(state.read_text())["env_vars"] == {"OMP_NUM_THREADS": "2"}
    assert activation_current(prefix, "conda", {"OMP_NUM_THREADS": "2"})


def test_an_activation_script_that_is_not_utf8_is_rewritten(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    write_activation(prefix, "conda", {"A": "1"})
    script = prefix / "etc" / "conda" / "activate.d" / "provision-env-vars.sh"
    script.write_bytes(b"export A=\xff\n")
    assert not activation_current(prefix, "conda", {"A": "1"})
    assert script in write_activation(prefix, "conda", {"A": "1"})
    assert activation_current(prefix, "conda", {"A": "1"})


# -- rattler's package cache and provision's record cache ------------------------------

SPEC = PackageSpec("tool", "1.0", files={"share/tool/VERSION": "1.0\n"})


def cache_entry(tmp_path: Path) -> tuple[Path, LockedPackage]:
    """``SPEC`` extracted into a rattler-style cache (``<stem>/`` and ``<stem>.lock``)."""
    archive = build_package(SPEC, tmp_path / "chan" / "noarch")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    pkgs = tmp_path / "pkgs"
    with tarfile.open(archive) as tar:
        tar.extractall(pkgs / SPEC.stem, filter="tar")
    (pkgs / f"{SPEC.stem}.lock").write_bytes(b"\x00" * 8 + bytes.fromhex(sha))
    pkg = LockedPackage(
        "conda", "tool", "1.0", "linux-64", archive.as_uri(), sha, build="0", subdir="noarch"
    )
    return pkgs, pkg


@pytest.mark.parametrize("kind", KINDS)
def test_a_cache_entry_with_a_damaged_paths_json_is_dropped(tmp_path: Path, kind: str) -> None:
    pkgs, pkg = cache_entry(tmp_path)
    assert checked_entries(pkgs, [pkg]) == {"tool"}  # intact first
    (pkgs / SPEC.stem / "info" / "paths.json").write_bytes(HOSTILE[kind])
    assert checked_entries(pkgs, [pkg]) == set()
    assert not (pkgs / SPEC.stem).exists()  # rattler extracts it again


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_stat_stamp_means_hash_again(tmp_path: Path, kind: str) -> None:
    pkgs, pkg = cache_entry(tmp_path)
    assert checked_entries(pkgs, [pkg]) == {"tool"}
    stamps = list((cache_root() / "entries").glob("*.json"))
    assert len(stamps) == 1
    stamps[0].write_bytes(HOSTILE[kind])
    (pkgs / SPEC.stem / "share" / "tool" / "VERSION").write_text("9.9\n")
    assert checked_entries(pkgs, [pkg]) == set()  # hashed again: the edit is found


@pytest.mark.parametrize("kind", [*KINDS, "records-of-another-shape"])
def test_a_damaged_record_cache_is_read_again_from_the_archives(tmp_path: Path, kind: str) -> None:
    archive = build_package(SPEC, tmp_path / "chan" / "noarch")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    pkg = LockedPackage("conda", "tool", "1.0", "linux-64", archive.as_uri(), sha, "0")
    first = cached_index_metadata((pkg,), [archive])
    [cached] = list((cache_root() / "records").glob("*.json"))
    cached.write_bytes(HOSTILE.get(kind, b'[{"noarch": null}]'))
    assert cached_index_metadata((pkg,), [archive]) == first
    assert json.loads(cached.read_text()) == first  # and the cache is whole again


def _edit(pkgs: Path) -> None:
    (pkgs / SPEC.stem / "share" / "tool" / "VERSION").write_text("9.9\n")


def _delete(pkgs: Path) -> None:
    (pkgs / SPEC.stem / "share" / "tool" / "VERSION").unlink()


def _other_archive(pkgs: Path) -> None:
    (pkgs / f"{SPEC.stem}.lock").write_bytes(b"\x00" * 8 + b"\x11" * 32)


def _no_lock_file(pkgs: Path) -> None:
    (pkgs / f"{SPEC.stem}.lock").unlink()


def _short_lock_file(pkgs: Path) -> None:
    (pkgs / f"{SPEC.stem}.lock").write_bytes(b"\x00" * 8 + b"\x11" * 5)


def _no_paths_json(pkgs: Path) -> None:
    (pkgs / SPEC.stem / "info" / "paths.json").unlink()


@pytest.mark.parametrize(
    "damage", [_edit, _delete, _other_archive, _no_lock_file, _short_lock_file, _no_paths_json]
)
def test_a_cache_entry_that_is_not_the_locked_archive_is_never_linked(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    pkgs, pkg = cache_entry(tmp_path)
    damage(pkgs)
    assert checked_entries(pkgs, [pkg]) == set()
    assert not (pkgs / SPEC.stem).exists()
    assert not (pkgs / f"{SPEC.stem}.lock").exists()


def test_a_full_check_finds_an_edit_that_kept_size_mtime_and_inode(tmp_path: Path) -> None:
    """The stat shortcut trusts size, mtime and inode; ``full`` (apply --force) hashes."""
    pkgs, pkg = cache_entry(tmp_path)
    assert checked_entries(pkgs, [pkg]) == {"tool"}
    target = pkgs / SPEC.stem / "share" / "tool" / "VERSION"
    st = target.stat()
    with target.open("r+") as f:
        f.write("9.9\n")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert checked_entries(pkgs, [pkg], full=True) == set()


def test_a_lock_without_a_sha256_never_trusts_a_cache_entry(tmp_path: Path) -> None:
    pkgs, pkg = cache_entry(tmp_path)
    unhashed = LockedPackage("conda", "tool", "1.0", "linux-64", pkg.url, None, "0")
    assert checked_entries(pkgs, [unhashed]) == set()
    assert not (pkgs / SPEC.stem).exists()
