"""The pip part: hash-pinned install of locked pip entries, and a diff read from
site-packages. Wheels built by the tests (tests/pypi_index.py), a real venv."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from provisioner.env.dist_info import site_packages
from provisioner.env.pip_failures import explain_install_failure
from provisioner.env.pip_part import (
    diff_pip_part,
    install_pip_part,
    installed_distributions,
    requirements_text,
    stored_url,
)
from provisioner.errors import ExternalFailure
from provisioner.lock import LockedPackage
from provisioner.uvbin import uv_executable
from tests.pypi_index import small_package


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A new, empty venv for each test (one shared venv made the tests depend on their
    order: what one installed, the next one's diff saw)."""
    prefix = tmp_path / "env"
    subprocess.run(
        [uv_executable(), "venv", "--python", sys.executable, str(prefix)],
        check=True,
        capture_output=True,
    )
    return prefix / "bin" / "python"


def test_requirements_text_pins_url_and_hash() -> None:
    six = small_package("six", "1.17.0")
    text = requirements_text((six,))
    assert text == f"six @ {six.url} --hash=sha256:{six.sha256}\n"


def test_install_then_diff_is_empty_and_reads_direct_url(venv: Path) -> None:
    locked = (small_package("six", "1.17.0"), small_package("tabulate", "0.8.10"))
    assert {p.name for p in diff_pip_part(venv, locked).add} == {"six", "tabulate"}
    install_pip_part(venv, locked, quiet=True)
    d = diff_pip_part(venv, locked)
    assert d.matches, d
    dists = installed_distributions(venv)
    assert dists["tabulate"].version == "0.8.10"
    # from direct_url.json: installed from the wheel verified into provision's store
    assert dists["tabulate"].url == stored_url(locked[1])
    assert f"/artifacts/{locked[1].sha256}/tabulate-0.8.10" in (dists["tabulate"].url or "")
    assert dists["six"].installer == "uv"
    out = subprocess.run(
        [str(venv), "-c", "import six, tabulate; print(tabulate.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "0.8.10"


def test_changed_pin_and_extra_package_show_in_diff_and_converge(venv: Path) -> None:
    old = (small_package("six", "1.17.0"), small_package("tabulate", "0.8.10"))
    install_pip_part(venv, old, quiet=True)
    new = (small_package("tabulate", "0.10.0"),)  # six dropped, tabulate bumped
    d = diff_pip_part(venv, new)
    assert d.remove == ("pip:six",)
    assert [(o, p.version) for o, p in d.change] == [("tabulate==0.8.10", "0.10.0")]
    six_info = next(
        p for p in venv.parent.parent.glob("lib/python3*/site-packages/six-*.dist-info")
    )
    install_pip_part(venv, new, quiet=True)
    assert diff_pip_part(venv, new).matches
    assert not six_info.exists()


def test_tampered_artifact_is_refused_and_not_installed(
    venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store of its own: a verified copy of the real wheel (another test's) is installed
    # in place of the URL's bytes, which is the next test's case.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real = small_package("iniconfig", "2.3.0")
    wheel = tmp_path / Path(real.url).name
    # A well-formed wheel whose bytes changed after locking: one file rewritten.
    with (
        zipfile.ZipFile(Path(real.url.removeprefix("file://"))) as src,
        zipfile.ZipFile(wheel, "w") as dst,
    ):
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "iniconfig/__init__.py":
                data += b"\nimport os; os.system('echo owned')\n"
            dst.writestr(item, data)
    tampered = LockedPackage(
        "pip", real.name, real.version, real.platform, wheel.as_uri(), real.sha256
    )
    with pytest.raises(ExternalFailure) as e:
        install_pip_part(venv, (tampered,), quiet=True)
    assert e.value.message.startswith("hash mismatch for pip package iniconfig==2.3.0")
    assert e.value.message.endswith("refused, nothing installed")
    assert "iniconfig" not in installed_distributions(venv)


def test_a_verified_copy_in_the_store_is_installed_never_the_tampered_url(
    venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real = small_package("iniconfig", "2.3.0")
    install_pip_part(venv, (real,), quiet=True)  # the lock's bytes, stored by their sha256
    install_pip_part(venv, (), quiet=True)  # removed again; the store keeps its copy
    assert "iniconfig" not in installed_distributions(venv)
    wheel = tmp_path / Path(real.url).name
    wheel.write_bytes(b"not the wheel the lock names")
    swapped = LockedPackage(
        "pip", real.name, real.version, real.platform, wheel.as_uri(), real.sha256
    )
    install_pip_part(venv, (swapped,), quiet=True)
    site = site_packages(venv)
    assert site is not None
    init = site / "iniconfig" / "__init__.py"
    original = zipfile.ZipFile(Path(real.url.removeprefix("file://"))).read("iniconfig/__init__.py")
    assert init.read_bytes() == original


def test_missing_hash_in_lock_is_refused() -> None:
    six = small_package("six", "1.17.0")
    unhashed = LockedPackage("pip", "six", "1.17.0", "linux-64", six.url, None)
    with pytest.raises(ExternalFailure, match="no sha256"):
        requirements_text((unhashed,))


def test_offline_without_cache_is_one_clear_error(venv: Path) -> None:
    # UV_OFFLINE=1 (set by the root conftest) and an https URL that is not cached.
    pkg = LockedPackage(
        "pip",
        "not-cached-pkg",
        "1.0",
        "linux-64",
        "https://files.pythonhosted.org/packages/xx/not_cached_pkg-1.0-py3-none-any.whl",
        "0" * 64,
    )
    with pytest.raises(ExternalFailure) as e:
        install_pip_part(venv, (pkg,), quiet=True)
    assert "offline" in e.value.message or "unreachable" in e.value.message
    assert e.value.hint


@pytest.mark.parametrize(
    ("output", "cause"),
    [
        (
            "error: Failed to write to the filesystem\n"
            "  Caused by: No space left on device (os error 28)",
            "disk is full",
        ),
        ("OSError: [Errno 28] No space left on device", "disk is full"),
        (
            "ERROR: Could not fetch URL https://pypi.org/simple/six/: connection error",
            "unreachable",
        ),
        ("error: Failed to fetch: `https://idx.example/six.whl`\n  dns error", "unreachable"),
        ("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.", "sha256"),
    ],
)
def test_installer_failures_map_to_cause_and_fix(output: str, cause: str) -> None:
    err = explain_install_failure(output)
    assert cause in err.message
    assert err.hint


def test_unreachable_index_is_one_clear_error(venv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real connection attempt to a closed local port (the network guard allows localhost).
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    pkg = LockedPackage(
        "pip",
        "unreachable-pkg",
        "1.0",
        "linux-64",
        "http://127.0.0.1:9/files/unreachable_pkg-1.0-py3-none-any.whl",
        "0" * 64,
    )
    with pytest.raises(ExternalFailure) as e:
        install_pip_part(venv, (pkg,), quiet=True)
    assert e.value.message.startswith(
        "cannot download pip package unreachable-pkg==1.0 from http://127.0.0.1:9/"
    )
    assert e.value.hint and "proxy" in e.value.hint


def test_a_deleted_module_file_is_a_change_and_install_restores_it(venv: Path) -> None:
    locked = (small_package("six", "1.17.0"),)
    install_pip_part(venv, locked, quiet=True)
    site = next(venv.parent.parent.glob("lib/python3*/site-packages"))
    (site / "six.py").unlink()
    d = diff_pip_part(venv, locked)
    assert [(o, p.name) for o, p in d.change] == [("six==1.17.0 (missing six.py)", "six")]
    install_pip_part(venv, locked, quiet=True)
    assert (site / "six.py").is_file()
    assert diff_pip_part(venv, locked).matches
    subprocess.run([str(venv), "-c", "import six"], check=True, capture_output=True)


def test_in_a_venv_a_foreign_installers_distribution_is_removed(venv: Path) -> None:
    six, tabulate = small_package("six", "1.17.0"), small_package("tabulate", "0.8.10")
    install_pip_part(venv, (six, tabulate), quiet=True)
    info = next(venv.parent.parent.glob("lib/python3*/site-packages/six-*.dist-info"))
    (info / "INSTALLER").write_text("poetry\n")
    # A conda prefix: a distribution pip/uv did not install is left alone.
    assert diff_pip_part(venv, (tabulate,)).remove == ()
    # A venv: every distribution is the pip part, whatever installed it.
    assert diff_pip_part(venv, (tabulate,), owns_all=True).remove == ("pip:six",)
    install_pip_part(venv, (tabulate,), quiet=True, owns_all=True)
    assert not info.exists()
    assert diff_pip_part(venv, (tabulate,), owns_all=True).matches
