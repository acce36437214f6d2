"""Integrity from the lock to the prefix: tampered bytes in provision's artifact store,
in rattler's extracted package cache, in uv's cache and in an installed environment
are found, refused or repaired, never linked as if they were the locked package.

All channels and wheels are built here; caches are per test (XDG_CACHE_HOME,
RATTLER_CACHE_DIR, UV_CACHE_DIR)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provisioner.env.artifacts import ArtifactMismatch
from provisioner.env.conda import CondaBackend
from provisioner.env.integrity import altered_files, conda_expectations
from provisioner.env.pip_part import diff_pip_part, install_pip_part
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.lockfile import lock_profile
from provisioner.profile import load_profile
from provisioner.uvbin import uv_executable
from tests.channels import PackageSpec, build_channel, tamper
from tests.pypi_index import Wheel, build_wheel


def write_profile(folder: Path, channel: Path, conda: list[str]) -> Path:
    path = folder / "env.yaml"
    env = {"name": "integrity", "channels": [channel.as_uri()], "python": "3.11", "conda": conda}
    smoke = {"framework": "pytorch", "device": "cpu", "require_accelerator": False}
    profile = {"name": "integrity", "target": {"os": "linux"}, "environment": env}
    path.write_text(yaml.safe_dump({**profile, "smoke_test": smoke}), encoding="utf-8")
    return path


LINUX = "linux-64"
TOOL = PackageSpec("tool", "2.0", files={"share/tool/VERSION": "2.0\n", "share/tool/x": "x\n"})
LIB = PackageSpec("lib", "1.0", subdir=LINUX, files={"lib/lib.txt": "lib\n"})


@pytest.fixture(autouse=True)
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "rattler-cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


def conda_lock(tmp_path: Path) -> tuple[Path, Lock]:
    chan = build_channel(tmp_path / "chan", [TOOL, LIB])
    return chan, lock_profile(load_profile(write_profile(tmp_path, chan, ["tool", "lib"])))


def edit_in_place(path: Path, text: str) -> None:
    """Write into the existing inode, as an editor that keeps hard links does."""
    with path.open("r+", encoding="utf-8") as f:
        f.truncate(0)
        f.write(text)


def store_copy(pkg_name: str, lock: Lock) -> Path:
    """Where provision's artifact store keeps the verified archive of ``pkg_name``."""
    pkg = next(p for p in lock.for_platform(LINUX, "conda") if p.name == pkg_name)
    root = Path(os.environ["XDG_CACHE_HOME"]) / "provision" / "artifacts"
    return root / str(pkg.sha256) / pkg.url.rsplit("/", 1)[-1]


def test_a_tampered_artifact_in_the_store_is_dropped_and_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chan, lock = conda_lock(tmp_path)
    CondaBackend().install(tmp_path / "first", lock, LINUX, quiet=True)
    stored = store_copy("tool", lock)
    good = stored.read_bytes()
    # Someone swaps the stored archive for another valid package; rattler's extracted
    # cache is gone (a new machine sharing the store, a cleaned cache).
    evil_chan = build_channel(
        tmp_path / "evil", [PackageSpec("tool", "2.0", files={"share/tool/VERSION": "evil\n"})]
    )
    stored.write_bytes((evil_chan / "noarch" / "tool-2.0-0.tar.bz2").read_bytes())
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "rattler-cache-2"))
    CondaBackend().install(tmp_path / "second", lock, LINUX, quiet=True)
    assert (tmp_path / "second" / "share" / "tool" / "VERSION").read_text() == "2.0\n"
    assert stored.read_bytes() == good  # fetched again from the channel, verified
    # Store and channel both tampered: refused, nothing linked.
    stored.write_bytes(b"junk")
    tamper(chan, TOOL)
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "rattler-cache-3"))
    with pytest.raises(ArtifactMismatch, match=r"tool=2\.0=0"):
        CondaBackend().install(tmp_path / "third", lock, LINUX, quiet=True)
    assert not (tmp_path / "third" / "share" / "tool").exists()


def test_a_file_edited_in_rattlers_cache_is_extracted_again(tmp_path: Path) -> None:
    _, lock = conda_lock(tmp_path)
    CondaBackend().install(tmp_path / "first", lock, LINUX, quiet=True)
    cached = tmp_path / "rattler-cache" / "pkgs" / "tool-2.0-0" / "share" / "tool" / "VERSION"
    edit_in_place(cached, "evil\n")
    CondaBackend().install(tmp_path / "second", lock, LINUX, quiet=True)
    assert (tmp_path / "second" / "share" / "tool" / "VERSION").read_text() == "2.0\n"
    assert cached.read_text() == "2.0\n"  # the entry itself was extracted again


def test_a_file_poisoned_in_rattlers_cache_with_its_paths_json_rewritten_is_not_linked(
    tmp_path: Path,
) -> None:
    """The entry's own info/paths.json rewritten to match the edited file: the entry is
    checked against the paths.json inside the verified archive, not its own copy."""
    _, lock = conda_lock(tmp_path)
    CondaBackend().install(tmp_path / "first", lock, LINUX, quiet=True)
    entry = tmp_path / "rattler-cache" / "pkgs" / "tool-2.0-0"
    cached = entry / "share" / "tool" / "VERSION"
    evil = b"evil!\n"
    cached.unlink()  # a new inode: the first environment keeps its file
    cached.write_bytes(evil)
    paths_json = entry / "info" / "paths.json"
    data = json.loads(paths_json.read_text())
    for item in data["paths"]:
        if item["_path"] == "share/tool/VERSION":
            item.update(sha256=hashlib.sha256(evil).hexdigest(), size_in_bytes=len(evil))
    paths_json.unlink()
    paths_json.write_text(json.dumps(data))
    CondaBackend().install(tmp_path / "second", lock, LINUX, quiet=True)
    assert (tmp_path / "second" / "share" / "tool" / "VERSION").read_text() == "2.0\n"
    assert cached.read_text() == "2.0\n"  # the entry was extracted again
    assert not altered_files(conda_expectations(tmp_path / "second"))[1]


def test_a_file_edited_in_a_conda_env_is_named_and_force_relinks_it(tmp_path: Path) -> None:
    _, lock = conda_lock(tmp_path)
    prefix = tmp_path / "env"
    backend = CondaBackend()
    backend.install(prefix, lock, LINUX, quiet=True)
    version = prefix / "share" / "tool" / "VERSION"
    edit_in_place(version, "evil\n")  # hard-linked: rattler's cache entry changes too
    (prefix / "lib" / "lib.txt").unlink()
    assert backend.diff(prefix, lock, LINUX).matches  # the cheap diff trusts conda-meta
    checked, altered = altered_files(conda_expectations(prefix))
    assert checked == 3
    assert [a.describe() for a in altered] == [
        "conda:lib: lib/lib.txt (missing)",
        "conda:tool: share/tool/VERSION (changed)",
    ]
    deep = backend.diff(prefix, lock, LINUX, files=True)
    assert deep.altered == ("conda:lib", "conda:tool")
    assert [old for old, _ in deep.change] == [
        "lib=1.0=0 (altered: lib/lib.txt)",
        "tool=2.0=0 (altered: share/tool/VERSION)",
    ]
    backend.install(prefix, lock, LINUX, diff=deep, quiet=True)
    assert version.read_text() == "2.0\n" and (prefix / "lib" / "lib.txt").read_text() == "lib\n"
    assert backend.diff(prefix, lock, LINUX, files=True).matches


def test_conda_meta_records_the_channel_url_not_the_store(tmp_path: Path) -> None:
    _, lock = conda_lock(tmp_path)
    prefix = tmp_path / "env"
    CondaBackend().install(prefix, lock, LINUX, quiet=True)
    for pkg in lock.for_platform(LINUX, "conda"):
        meta = prefix / "conda-meta" / f"{pkg.name}-{pkg.version}-{pkg.build}.json"
        record = json.loads(meta.read_text(encoding="utf-8"))
        assert record["url"] == pkg.url and record["url"].startswith((tmp_path / "chan").as_uri())


# --- the pip part: uv's cache and installed files ------------------------------------


@pytest.fixture
def wheel_lock(tmp_path: Path) -> tuple[LockedPackage, ...]:
    path = build_wheel(Wheel("demo-pkg", "1.0"), tmp_path / "wheels")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return (LockedPackage("pip", "demo-pkg", "1.0", LINUX, path.as_uri(), sha),)


def make_venv(where: Path) -> Path:
    run = [uv_executable(), "venv", "--python", sys.executable, str(where)]
    subprocess.run(run, check=True, capture_output=True)
    return where / "bin" / "python"


def module_file(python: Path) -> Path:
    return next(python.parent.parent.glob("lib/python3*/site-packages/demo_pkg/__init__.py"))


def test_a_file_edited_in_uvs_cache_is_not_linked(
    tmp_path: Path, wheel_lock: tuple[LockedPackage, ...]
) -> None:
    first = make_venv(tmp_path / "v1")
    install_pip_part(first, wheel_lock, quiet=True)
    edit_in_place(module_file(first), "EVIL = 1\n")  # uv hard-links: its cache changes too
    cached = [p for p in (tmp_path / "uv-cache").rglob("demo_pkg/__init__.py")]
    assert cached and all(p.read_text() == "EVIL = 1\n" for p in cached)
    second = make_venv(tmp_path / "v2")
    install_pip_part(second, wheel_lock, quiet=True)
    assert module_file(second).read_text() == "__version__ = '1.0'\n"
    assert diff_pip_part(second, wheel_lock, files=True).matches


def test_a_file_edited_in_a_venv_is_named_and_reinstalled(
    tmp_path: Path, wheel_lock: tuple[LockedPackage, ...]
) -> None:
    python = make_venv(tmp_path / "v")
    install_pip_part(python, wheel_lock, quiet=True)
    edit_in_place(module_file(python), "EVIL = 1\n")
    assert diff_pip_part(python, wheel_lock).matches  # names and versions still match
    deep = diff_pip_part(python, wheel_lock, files=True)
    assert deep.altered == ("pip:demo-pkg",)
    assert [old for old, _ in deep.change] == ["demo-pkg==1.0 (altered: demo_pkg/__init__.py)"]
    install_pip_part(python, wheel_lock, quiet=True, current=deep)
    assert module_file(python).read_text() == "__version__ = '1.0'\n"
    assert diff_pip_part(python, wheel_lock, files=True).matches
