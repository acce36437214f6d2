"""What a bundle carries comes from the verified artifact store, hash-checked against
the lock: a source changed after locking is refused, a copy someone altered in the
store is fetched again rather than bundled, and every failure is one line with the
package, the cause and a fix. Sources are files and a loopback port made here."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.bundle.build import _fetch_locked, artifact_path
from provisioner.bundle.fetch import verified
from provisioner.errors import ExitCode, ExternalFailure
from provisioner.lock import LockedPackage, PackageManager

WHEEL = b"PK\x03\x04 a wheel's bytes\n" * 64
SHA = hashlib.sha256(WHEEL).hexdigest()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "provision" / "artifacts"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "index" / "six-1.17.0-py2.py3-none-any.whl"
    path.parent.mkdir()
    path.write_bytes(WHEEL)
    return path


def test_a_verified_file_lands_in_the_store_by_its_sha256(source: Path, cache: Path) -> None:
    got = verified(source.as_uri(), SHA, "pip package six==1.17.0")
    assert got == cache / SHA / source.name and got.read_bytes() == WHEEL
    source.unlink()  # the second bundle reads nothing from the source
    assert verified(source.as_uri(), SHA, "pip package six==1.17.0") == got


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.write_bytes(b"PK evil bytes"),
        lambda p: p.write_bytes(WHEEL[:-1] + b"!"),  # same size
        lambda p: p.write_bytes(b""),
    ],
    ids=["replaced", "same-size", "emptied"],
)
def test_a_copy_altered_in_the_store_is_fetched_again_not_bundled(
    source: Path, tamper: Callable[[Path], object]
) -> None:
    stored = verified(source.as_uri(), SHA, "pip package six==1.17.0")
    tamper(stored)
    again = verified(source.as_uri(), SHA, "pip package six==1.17.0")
    assert hashlib.sha256(again.read_bytes()).hexdigest() == SHA


def test_an_altered_copy_with_no_source_left_is_refused(source: Path) -> None:
    stored = verified(source.as_uri(), SHA, "pip package six==1.17.0")
    stored.write_bytes(b"PK evil bytes")
    source.unlink()
    with pytest.raises(ExternalFailure) as e:
        verified(source.as_uri(), SHA, "pip package six==1.17.0")
    assert e.value.message.startswith(f"cannot read pip package six==1.17.0 from {source}: ")
    assert not stored.exists()  # the altered copy is gone, never bundled


def test_a_source_changed_after_locking_is_refused_and_nothing_is_stored(
    source: Path, cache: Path
) -> None:
    source.write_bytes(WHEEL + b"appended")
    with pytest.raises(ExternalFailure) as e:
        verified(source.as_uri(), SHA, "pip package six==1.17.0")
    assert e.value.message.startswith(
        f"hash mismatch for pip package six==1.17.0 from {source.as_uri()}: the lock has "
        f"sha256 {SHA[:16]}..., the file has "
    )
    assert e.value.message.endswith("...; refused, not bundled")
    assert e.value.exit_code == ExitCode.NOT_READY
    assert not (cache / SHA).exists() or not any((cache / SHA).iterdir())


def test_a_missing_source_is_one_line_with_a_fix(tmp_path: Path) -> None:
    gone = tmp_path / "gone" / "six-1.17.0-py2.py3-none-any.whl"
    with pytest.raises(ExternalFailure) as e:
        verified(gone.as_uri(), SHA, "pip package six==1.17.0")
    assert e.value.message == (
        f"cannot read pip package six==1.17.0 from {gone}: No such file or directory"
    )
    assert e.value.hint is not None and "provision lock PROFILE" in e.value.hint


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_unreachable_source_is_one_line_with_a_fix() -> None:
    url = f"http://127.0.0.1:{closed_port()}/six-1.17.0-py2.py3-none-any.whl"
    with pytest.raises(ExternalFailure) as e:
        verified(url, SHA, "pip package six==1.17.0")
    assert e.value.message.startswith(f"cannot download pip package six==1.17.0 from {url}: ")
    assert "\n" not in e.value.message
    assert e.value.hint is not None and "HTTPS_PROXY" in e.value.hint


def pkg(manager: PackageManager, url: str, sha: str | None, subdir: str = "") -> LockedPackage:
    return LockedPackage(manager, "six", "1.17.0", "linux-64", url, sha, subdir=subdir)


def test_locked_packages_go_to_their_place_in_the_bundle(source: Path) -> None:
    entries = _fetch_locked([pkg("pip", source.as_uri(), SHA)], "linux-64")
    assert [(e.path, e.sha256, e.size) for e in entries] == [
        (f"wheels/{source.name}", SHA, len(WHEEL))
    ]
    conda = pkg("conda", "https://c.example/chan/noarch/six-1.17.0-0.conda", SHA, "noarch")
    assert artifact_path(conda) == "channel/noarch/six-1.17.0-0.conda"


@pytest.mark.parametrize(
    ("package", "message"),
    [
        (
            pkg("pip", "file:///w/six-1.17.0-py3-none-any.whl", None),
            "the lock has no sha256 for pip package six==1.17.0",
        ),
        (
            pkg("pip", "file:///w/six-1.17.0.tar.gz", "0" * 64),
            "pip package six==1.17.0 has no wheel for linux-64 in the lock (only "
            "six-1.17.0.tar.gz, which the target would have to build)",
        ),
    ],
)
def test_what_cannot_be_bundled_is_named_before_anything_is_fetched(
    package: LockedPackage, message: str, cache: Path
) -> None:
    with pytest.raises(ExternalFailure) as e:
        _fetch_locked([package], "linux-64")
    assert e.value.message == message
    assert not cache.exists() or not any(os.scandir(cache))
