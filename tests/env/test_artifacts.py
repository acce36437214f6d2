"""The one opener of a lock's URLs (apply's artifact store and bundle both use it): a
``file://`` URL or a path is a local file, anything else a download; each failure is
one line naming the package, the cause and a fix."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from provisioner.env.artifacts import (
    DownloadFailed,
    open_source,
    source_path,
    store_ledger,
    verified_artifact,
)
from provisioner.errors import ExternalFailure
from provisioner.lock import LockedPackage


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _package(url: str) -> LockedPackage:
    return LockedPackage("conda", "demo", "1.0", "linux-64", url, "0" * 64, build="0")


def test_source_path_reads_file_urls_and_plain_paths() -> None:
    assert source_path("file:///srv/chan/a%20b.conda") == Path("/srv/chan/a b.conda")
    assert source_path("/srv/chan/x.conda") == Path("/srv/chan/x.conda")
    assert source_path("https://conda.anaconda.org/x.conda") is None


def test_a_local_source_is_read_and_a_missing_one_is_the_os_error(tmp_path: Path) -> None:
    (tmp_path / "x.conda").write_bytes(b"bytes")
    with open_source((tmp_path / "x.conda").as_uri()) as f:
        assert f.read() == b"bytes"
    with pytest.raises(FileNotFoundError):
        open_source((tmp_path / "gone.conda").as_uri())


def test_an_unreachable_download_is_download_failed() -> None:
    with pytest.raises(DownloadFailed) as info:
        open_source(f"http://127.0.0.1:{_closed_port()}/x.conda", timeout=10)
    assert "refused" in str(info.value.reason).lower()


def test_a_package_missing_from_its_channel_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "chan" / "linux-64" / "demo-1.0-0.conda"
    store = tmp_path / "store"
    with pytest.raises(ExternalFailure) as info:
        verified_artifact(_package(missing.as_uri()), store, store_ledger(store))
    assert info.value.message == (
        f"conda package demo=1.0=0 is missing from its channel: {missing}"
    )


def test_a_package_that_cannot_be_downloaded_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/linux-64/demo-1.0-0.conda"
    store = tmp_path / "store"
    with pytest.raises(ExternalFailure) as info:
        verified_artifact(_package(url), store, store_ledger(store))
    assert info.value.message.startswith(f"cannot download conda package demo=1.0=0 from {url}: ")
    assert "\n" not in info.value.message
