"""What ``provision verify`` and ``apply --force`` hash: every installed file against
its package's record (pip ``RECORD``, conda ``conda-meta`` ``paths_data``).

A tampered, missing or unreadable file, or a record that is gone or damaged, must
never read as intact, and nothing in an environment's files may crash the check
(exit 3). The venv is a real one (``uv venv``) with real wheels built here; the conda
prefix is a real package (built by ``tests/channels.py``) unpacked with the
``conda-meta`` record rattler writes for it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.env.installed_files import files_at
from provisioner.env.integrity import AlteredFile, altered_files, by_package, conda_expectations
from provisioner.env.pip_part import diff_pip_part, installed_distributions
from provisioner.lock import LockedPackage
from provisioner.uvbin import uv_executable
from tests.channels import PackageSpec, build_package
from tests.pypi_index import Wheel, build_wheel

WHEELS = (Wheel("alpha", "1.0"), Wheel("beta-pkg", "2.0", single_module=True))


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    for wheel in WHEELS:
        build_wheel(wheel, folder)
    return folder


@pytest.fixture
def venv(tmp_path: Path, wheel_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real venv with ``alpha`` and ``beta-pkg`` installed by uv; returns its python.
    uv hard-links the venv to its cache, so each test has its own cache: a tampered
    file would otherwise be tampered in the next test's venv too."""
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    prefix = tmp_path / "venv"
    uv = str(uv_executable())
    subprocess.run([uv, "venv", "-q", str(prefix)], check=True)
    python = prefix / "bin" / "python"
    names = [w.name for w in WHEELS]
    install = [uv, "pip", "install", "-q", "--python", str(python), "--no-index"]
    subprocess.run([*install, "--find-links", str(wheel_dir), *names], check=True)
    return python


def site_of(python: Path) -> Path:
    return next((python.parent.parent / "lib").glob("python3*/site-packages"))


def info_of(python: Path, stem: str) -> Path:
    return next(site_of(python).glob(f"{stem}-*.dist-info"))


def locked(name: str, version: str) -> LockedPackage:
    return LockedPackage("pip", name, version, "linux-64", f"file:///w/{name}.whl", None)


LOCK = (locked("alpha", "1.0"), locked("beta-pkg", "2.0"))


def test_an_untouched_venv_has_no_altered_file(venv: Path) -> None:
    checked, altered = files_at(venv.parent.parent, venv, "venv")
    assert altered == [] and checked >= 2  # both modules, at least
    assert diff_pip_part(venv, LOCK, owns_all=True, files=True).matches


def _same_size_edit(site: Path) -> None:
    module = site / "alpha" / "__init__.py"
    text = module.read_text()
    module.write_text(text.replace("1", "9"))  # as long as before: only a hash tells


def _longer(site: Path) -> None:
    with (site / "alpha" / "__init__.py").open("a") as f:
        f.write("import os; os.system('id')\n")


def _deleted(site: Path) -> None:
    (site / "alpha" / "__init__.py").unlink()


def _folder_in_its_place(site: Path) -> None:
    module = site / "alpha" / "__init__.py"
    module.unlink()
    module.mkdir()


def _swapped_for_a_symlink(site: Path) -> None:
    module = site / "alpha" / "__init__.py"
    evil = site.parent / "evil.py"
    evil.write_text("raise SystemExit('evil')\n")
    module.unlink()
    module.symlink_to(evil)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_same_size_edit, "changed"),
        (_longer, "changed"),
        (_deleted, "missing"),
        (_folder_in_its_place, "changed"),
        (_swapped_for_a_symlink, "changed"),
    ],
)
def test_a_tampered_pip_file_is_named_with_its_package(
    venv: Path, tamper: Callable[[Path], None], problem: str
) -> None:
    tamper(site_of(venv))
    _, altered = files_at(venv.parent.parent, venv, "venv")
    assert altered == [f"pip:alpha: alpha/__init__.py ({problem})"]
    diff = diff_pip_part(venv, LOCK, owns_all=True, files=True)
    assert not diff.matches
    assert [p.name for _, p in diff.change] == ["alpha"]


def test_a_deleted_record_does_not_hide_a_tampered_module(venv: Path) -> None:
    """Without its RECORD nothing says what the files should be: the distribution is
    not intact (it is reinstalled), never silently skipped."""
    info = info_of(venv, "alpha")
    (info / "RECORD").unlink()
    _longer(site_of(venv))
    _, altered = files_at(venv.parent.parent, venv, "venv")
    assert altered == [f"pip:alpha: {info.name}/RECORD (missing)"]
    diff = diff_pip_part(venv, LOCK, owns_all=True, files=True)
    assert [p.name for _, p in diff.change] == ["alpha"]
    # Even without hashing: a plain apply's diff sees the missing RECORD.
    assert [p.name for _, p in diff_pip_part(venv, LOCK, owns_all=True).change] == ["alpha"]


def _bad_utf8_record(info: Path) -> None:
    (info / "RECORD").write_bytes(b"alpha/__init__.py,sha256=\xff\xfe,3\n")


def _superscript_size(info: Path) -> None:
    record = (info / "RECORD").read_text()
    sized = re.sub(r"(alpha/__init__\.py,sha256=[^,]+),\d+", "\\1,\u00b2", record)
    (info / "RECORD").write_text(sized)


def _nul_in_a_path(info: Path) -> None:
    with (info / "RECORD").open("a") as f:
        f.write("alpha/x\x00y.py,sha256=AAAA,3\n")


def _bad_utf8_metadata(info: Path) -> None:
    (info / "METADATA").write_bytes(b"Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\xff\n\n")


@pytest.mark.parametrize(
    "damage", [_bad_utf8_record, _superscript_size, _nul_in_a_path, _bad_utf8_metadata]
)
def test_a_damaged_dist_info_is_a_finding_not_a_crash(
    venv: Path, damage: Callable[[Path], None]
) -> None:
    damage(info_of(venv, "alpha"))
    checked, altered = files_at(venv.parent.parent, venv, "venv")  # no exception
    assert checked >= 1
    diff = diff_pip_part(venv, LOCK, owns_all=True, files=True)
    if damage is _superscript_size:  # an unreadable size: the hash still decides
        assert altered == [] and diff.matches
    else:
        assert not diff.matches
        assert any(p.name == "alpha" for p in (*diff.add, *(p for _, p in diff.change)))


def test_installed_distributions_reads_names_versions_and_installer(venv: Path) -> None:
    found = installed_distributions(venv)
    assert {n: (d.version, d.installer, d.missing) for n, d in found.items()} == {
        "alpha": ("1.0", "uv", ""),
        "beta-pkg": ("2.0", "uv", ""),
    }


@pytest.mark.parametrize(
    ("lock", "change"),
    [
        ((locked("alpha", "1.1"), locked("beta-pkg", "2.0")), ["alpha==1.0"]),
        ((locked("alpha", "1.0"),), []),
        ((*LOCK, locked("gamma", "3.0")), []),
    ],
)
def test_the_pip_diff_names_version_moves_removals_and_additions(
    venv: Path, lock: tuple[LockedPackage, ...], change: list[str]
) -> None:
    diff = diff_pip_part(venv, lock, owns_all=True)
    assert [old for old, _ in diff.change] == change
    locked_names = {p.name for p in lock}
    assert diff.remove == tuple(f"pip:{n}" for n in ("alpha", "beta-pkg") if n not in locked_names)
    assert [p.name for p in diff.add] == [n for n in sorted(locked_names) if n == "gamma"]


# -- conda: conda-meta paths_data -------------------------------------------------

PKG = PackageSpec(
    "tool",
    "1.0",
    files={"share/tool/VERSION": "1.0\n", "share/tool/data.txt": "payload\n"},
    symlinks={"share/tool/link": "VERSION"},
)


def conda_prefix(tmp_path: Path, spec: PackageSpec = PKG) -> Path:
    """``spec`` unpacked into a prefix, with the ``conda-meta`` record rattler writes."""
    archive = build_package(spec, tmp_path / "pkgs")
    prefix = tmp_path / "prefix"
    with tarfile.open(archive) as tar:
        tar.extractall(prefix, filter="tar")
    paths = json.loads((prefix / "info" / "paths.json").read_text())
    shutil.rmtree(prefix / "info")
    meta = {
        "name": spec.name,
        "version": spec.version,
        "build": spec.build,
        "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
        "paths_data": paths,
        "files": [p["_path"] for p in paths["paths"]],
    }
    (prefix / "conda-meta").mkdir()
    (prefix / "conda-meta" / f"{spec.stem}.json").write_text(json.dumps(meta))
    return prefix


def meta_path(prefix: Path) -> Path:
    return prefix / "conda-meta" / f"{PKG.stem}.json"


def test_an_untouched_conda_prefix_checks_every_hashed_file(tmp_path: Path) -> None:
    prefix = conda_prefix(tmp_path)
    checked, altered = altered_files(conda_expectations(prefix))
    assert (checked, altered) == (2, ())  # the two files; the symlink has no hash


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda p: (p / "share/tool/VERSION").write_text("9.9\n"), "changed"),
        (lambda p: (p / "share/tool/VERSION").write_text("1.0\n\n"), "changed"),
        (lambda p: (p / "share/tool/VERSION").unlink(), "missing"),
    ],
)
def test_a_tampered_conda_file_is_named(
    tmp_path: Path, edit: Callable[[Path], object], problem: str
) -> None:
    prefix = conda_prefix(tmp_path)
    edit(prefix)
    _, altered = altered_files(conda_expectations(prefix))
    assert altered == (AlteredFile("conda", "tool", "share/tool/VERSION", problem),)
    assert list(by_package(altered)) == ["conda:tool"]


def test_a_file_rewritten_for_the_prefix_is_checked_against_sha256_in_prefix(
    tmp_path: Path,
) -> None:
    """conda rewrites placeholder paths at link time and records the new hash as
    ``sha256_in_prefix`` (and the size stops matching): that hash is the one to check."""
    prefix = conda_prefix(tmp_path)
    target = prefix / "share/tool/data.txt"
    target.write_text(f"payload in {prefix}\n")
    meta = json.loads(meta_path(prefix).read_text())
    for entry in meta["paths_data"]["paths"]:
        if entry["_path"] == "share/tool/data.txt":
            entry["sha256_in_prefix"] = hashlib.sha256(target.read_bytes()).hexdigest()
    meta_path(prefix).write_text(json.dumps(meta))
    assert altered_files(conda_expectations(prefix)) == (2, ())
    target.write_text(f"payload in {prefix}!\n")
    _, altered = altered_files(conda_expectations(prefix))
    assert [a.path for a in altered] == ["share/tool/data.txt"]


def test_only_the_named_packages_are_checked(tmp_path: Path) -> None:
    prefix = conda_prefix(tmp_path)
    (prefix / "share/tool/VERSION").write_text("tampered\n")
    assert altered_files(conda_expectations(prefix, names=["other"])) == (0, ())
    assert len(altered_files(conda_expectations(prefix, names=["tool"]))[1]) == 1


def test_verify_of_a_conda_prefix_with_a_pip_part_checks_both(tmp_path: Path, venv: Path) -> None:
    """``files_at`` for a conda prefix: conda-meta for conda's files, RECORD for the
    distributions pip or uv installed (here: the venv's, seen through its python)."""
    prefix = conda_prefix(tmp_path)
    (prefix / "share/tool/VERSION").write_text("tampered\n")
    _longer(site_of(venv))
    _, altered = files_at(prefix, venv, "conda")
    assert altered == [
        "conda:tool: share/tool/VERSION (changed)",
        "pip:alpha: alpha/__init__.py (changed)",
    ]
