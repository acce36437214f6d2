"""The conda part of a lock: py-rattler solves on a real local channel, for the
profile's platform and virtual packages (not this machine's)."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from provisioner.errors import ExitCode, ExternalFailure
from provisioner.lock.conda import channel_urls, conda_specs, solve_conda, virtual_package_specs
from provisioner.profile import load_profile
from tests.channels import PackageSpec, build_channel, sha256_of

ProfileWriter = Callable[..., Path]


def by_name(packages: tuple[object, ...]) -> dict[str, object]:
    return {p.name: p for p in packages}  # type: ignore[attr-defined]


def test_linux_lock_has_linux_dependencies_urls_and_hashes(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()]))
    locked = solve_conda(resolved, "linux-64")
    names = {p.name: p for p in locked}
    assert sorted(names) == ["app", "libcore", "liblinux", "tool"]
    assert names["tool"].version == "2.0"  # highest by default
    assert names["libcore"].build == "h1_0" and names["libcore"].subdir == "linux-64"
    assert names["app"].subdir == "noarch"
    for p in locked:
        assert p.manager == "conda" and p.platform == "linux-64"
        assert p.url.startswith(demo_channel.as_uri() + "/")
        artifact = demo_channel / p.subdir / p.url.rsplit("/", 1)[-1]
        assert p.sha256 == sha256_of(artifact)
        assert p.md5 and len(p.md5) == 32
    assert names["libcore"].dependencies == ("__glibc >=2.17", "liblinux")


def test_win64_lock_from_linux_uses_the_win_virtual_package(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()], os_="windows"))
    locked = {p.name: p for p in solve_conda(resolved, "win-64")}
    assert sorted(locked) == ["app", "libcore", "libwin", "tool"]
    assert locked["libcore"].build == "h2_0"
    assert "__win" in locked["libcore"].dependencies
    assert all(p.platform == "win-64" for p in locked.values())


def test_virtual_packages_follow_the_profile(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    linux = load_profile(write_profile([demo_channel.as_uri()]))
    win = load_profile(write_profile([demo_channel.as_uri()], os_="windows", name="w.yaml"))
    cuda = load_profile(write_profile([demo_channel.as_uri()], gpu="cuda", name="c.yaml"))
    assert {n for n, _, _ in virtual_package_specs(linux, "linux-64")} == {
        "__unix",
        "__linux",
        "__glibc",
        "__archspec",
    }
    assert {n for n, _, _ in virtual_package_specs(win, "win-64")} == {"__win", "__archspec"}
    # nvidia 530.30 driver floor -> CUDA 12.0
    assert ("__cuda", "12.0", "0") in virtual_package_specs(cuda, "linux-64")


@pytest.mark.parametrize(
    ("floor", "cuda"),
    [
        ("525.60", "12.0"),  # exactly the table's floor
        ("525", "11.8"),  # 525 is 525.0: below 525.60
        ("546.33", "12.0"),
        ("579.99", "12.0"),  # below R580: still CUDA 12
        ("580", "13.0"),  # R580, the CUDA 13 floor (what torch 2.11+ builds need)
        ("581.57", "13.0"),
        ("495.29.05", "11.5"),  # a third field does not lower it
        ("495", "11.4"),
    ],
)
def test_the_driver_floor_sets_the_cuda_virtual_package(
    demo_channel: Path, write_profile: ProfileWriter, floor: str, cuda: str
) -> None:
    path = write_profile([demo_channel.as_uri()], gpu="cuda")
    data = yaml.safe_load(path.read_text())
    data["requires"]["gpu"]["vendors"]["nvidia"] = floor
    path.write_text(yaml.safe_dump(data))
    assert ("__cuda", cuda, "0") in virtual_package_specs(load_profile(path), "linux-64")


def test_cuda_packages_solve_only_for_cuda_profiles(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    cuda = load_profile(write_profile([demo_channel.as_uri()], gpu="cuda", conda=["needs-cuda"]))
    assert [p.name for p in solve_conda(cuda, "linux-64")] == ["needs-cuda"]
    cpu = load_profile(write_profile([demo_channel.as_uri()], conda=["needs-cuda"], name="b.yaml"))
    with pytest.raises(ExternalFailure) as info:
        solve_conda(cpu, "linux-64")
    assert "__cuda" in info.value.message and "\n" not in info.value.message


def test_glibc_is_the_profiles_not_the_hosts(
    demo_channel: Path, write_profile: ProfileWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The package needs glibc 2.35; the profile assumes 2.31 whatever this host has.
    resolved = load_profile(write_profile([demo_channel.as_uri()], conda=["needs-new-glibc"]))
    with pytest.raises(ExternalFailure, match="__glibc"):
        solve_conda(resolved, "linux-64")
    monkeypatch.setenv("CONDA_OVERRIDE_GLIBC", "2.35")
    assert [p.name for p in solve_conda(resolved, "linux-64")] == ["needs-new-glibc"]


def test_channel_forms_resolve_to_the_same_channel(
    demo_channel: Path, write_profile: ProfileWriter, tmp_path: Path
) -> None:
    folder = demo_channel.parent
    rel = os.path.relpath(demo_channel, tmp_path / "profiles")
    forms = [demo_channel.as_uri(), str(demo_channel), rel]
    locks = []
    for i, form in enumerate(forms):
        resolved = load_profile(
            write_profile([form], name=f"p{i}.yaml", folder=tmp_path / "profiles")
        )
        assert channel_urls(resolved) == (demo_channel.as_uri(),)
        locks.append(solve_conda(resolved, "linux-64"))
    assert locks[0] == locks[1] == locks[2]
    assert folder.exists()


def test_pins_are_honoured(demo_channel: Path, write_profile: ProfileWriter) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()], conda=["app", "tool 1.*"]))
    assert {p.name: p.version for p in solve_conda(resolved, "linux-64")}["tool"] == "1.0"


def test_python_is_added_only_when_needed(
    tmp_path: Path, demo_channel: Path, write_profile: ProfileWriter
) -> None:
    no_python = load_profile(write_profile([demo_channel.as_uri()]))
    assert conda_specs(no_python, python_available=False) == ["app", "tool"]
    assert conda_specs(no_python, python_available=True)[0] == "python 3.11.*"
    with_pip = load_profile(write_profile([demo_channel.as_uri()], pip=["six"], name="p.yaml"))
    assert conda_specs(with_pip, python_available=False)[0] == "python 3.11.*"
    # A channel that has python gets it into the lock, pinned to environment.python.
    chan = build_channel(
        tmp_path / "pychan",
        [
            PackageSpec("python", "3.11.9", "h0_cpython", "linux-64"),
            PackageSpec("python", "3.12.1", "h0_cpython", "linux-64"),
            PackageSpec("tool", "1.0"),
        ],
    )
    resolved = load_profile(write_profile([chan.as_uri()], conda=["tool"], name="py.yaml"))
    versions = {p.name: p.version for p in solve_conda(resolved, "linux-64")}
    assert versions == {"python": "3.11.9", "tool": "1.0"}


def test_missing_package_is_one_line_with_a_fix(
    demo_channel: Path, write_profile: ProfileWriter
) -> None:
    resolved = load_profile(write_profile([demo_channel.as_uri()], conda=["no-such-pkg"]))
    with pytest.raises(ExternalFailure) as info:
        solve_conda(resolved, "linux-64")
    err = info.value
    assert "no-such-pkg" in err.message and "\n" not in err.message
    assert err.hint and err.exit_code == ExitCode.NOT_READY


@pytest.mark.parametrize(
    "channel",
    ["file:///nonexistent/provision-test-channel", "http://127.0.0.1:9/unreachable"],
)
def test_unreachable_channel_is_one_line_with_a_fix(
    channel: str, write_profile: ProfileWriter
) -> None:
    resolved = load_profile(write_profile([channel]))
    with pytest.raises(ExternalFailure) as info:
        solve_conda(resolved, "linux-64")
    err = info.value
    assert err.message.startswith("cannot read conda channel")
    assert channel in err.message and "\n" not in err.message
    assert err.hint and "environment.channels" in err.hint


@pytest.fixture
def http_channel(demo_channel: Path) -> Iterator[str]:
    """The demo channel served over HTTP on 127.0.0.1 (a real server, in a thread)."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(demo_channel))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_channel_and_the_profiles_proxy(
    http_channel: str,
    write_profile: ProfileWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "direct"))
    direct = load_profile(write_profile([http_channel]))
    locked = solve_conda(direct, "linux-64")
    assert {p.name for p in locked} == {"app", "libcore", "liblinux", "tool"}
    assert all(p.url.startswith(http_channel + "/") for p in locked)
    # The same channel through a proxy where nothing listens: only the proxy can fail it.
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "proxied"))
    proxied = load_profile(write_profile([http_channel], proxy="http://127.0.0.1:9", name="p.yaml"))
    with pytest.raises(ExternalFailure, match="cannot read conda channel"):
        solve_conda(proxied, "linux-64")
    assert "HTTPS_PROXY" not in os.environ  # restored


def test_the_cuda_13_row_agrees_with_nvidia_s_driver_floor() -> None:
    """The lock's driver -> __cuda table and validate's CUDA 13 floor (data/nvidia.yaml)
    name the same driver, so a profile validate accepts for torch 2.11 solves for CUDA 13."""
    from provisioner.compatdata.nvidia import driver_floor
    from provisioner.lock.conda import CUDA_FOR_DRIVER

    floor = driver_floor("13.0", "linux")
    assert floor is not None
    assert (floor.driver, "13.0") in CUDA_FOR_DRIVER
