"""The embedded conda backend: py-rattler installs exactly the locked packages from a
real local channel into a temp prefix, conda-meta is readable, the diff needs no
reinstall, and a tampered artifact is refused before anything is linked."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast

import pytest

from provisioner.env import EnvBackend
from provisioner.env.conda import ArtifactMismatch, CondaBackend, read_conda_meta
from provisioner.errors import ExitCode, ExternalFailure
from provisioner.lock import Lock
from provisioner.lock.lockfile import lock_profile
from provisioner.profile import load_profile
from provisioner.uvbin import uv_executable
from tests.channels import PackageSpec, build_channel, demo_packages, python_standin, tamper
from tests.pypi_index import Wheel, build_simple_index, build_wheel
from tests.support.profiles import profile_document
from tests.support.profiles import write_profile as write_yaml

LINUX = "linux-64"
# The python stand-in is a venv of this interpreter, so profiles ask for its version.
HOST_PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def write_profile(folder: Path, channel: Path, conda: list[str], **env: object) -> Path:
    environment = {
        "name": "condatest",
        "manager": "conda",
        "channels": [channel.as_uri()],
        "python": HOST_PY,
        "conda": conda,
        **env,
    }
    return write_yaml(folder / "env.yaml", profile_document("condatest", environment))


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_channel(
        tmp_path_factory.mktemp("conda-backend") / "chan",
        demo_packages(formats=("tar.bz2", "conda")),
    )


@pytest.fixture
def locker(tmp_path: Path, channel: Path) -> Callable[..., Lock]:
    def lock(conda: list[str], **env: object) -> Lock:
        return lock_profile(load_profile(write_profile(tmp_path, channel, conda, **env)))

    return lock


def meta_mtimes(prefix: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (prefix / "conda-meta").glob("*.json")}


def test_backend_satisfies_the_protocol() -> None:
    backend: EnvBackend = CondaBackend()
    assert backend.name == "conda"


def test_install_writes_readable_conda_meta_and_diff_is_empty(
    tmp_path: Path, locker: Callable[..., Lock]
) -> None:
    import rattler

    lock = locker(["app", "tool"])
    prefix = tmp_path / "envs" / "condatest"
    backend = CondaBackend()
    before = backend.diff(prefix, lock, LINUX)
    assert not before.exists and {p.name for p in before.add} == {
        "app",
        "libcore",
        "liblinux",
        "tool",
    }
    backend.install(prefix, lock, LINUX, quiet=True)
    assert (prefix / "share" / "tool" / "VERSION").read_text() == "2.0\n"
    assert (prefix / "lib" / "liblinux.so").is_file()
    assert (prefix / "conda-meta" / "history").is_file()
    meta = read_conda_meta(prefix)
    for pkg in lock.for_platform(LINUX, "conda"):
        record = meta[pkg.name]
        assert (record["version"], record["build"]) == (pkg.version, pkg.build)
        assert record["sha256"] == pkg.sha256 and record["md5"] == pkg.md5
        # the original channel and URL (linked from the verified store copy)
        assert record["channel"] == pkg.url.rsplit("/", 2)[0] + "/"
        assert record["url"] == pkg.url
        for rel in cast("list[str]", record["files"]):
            assert (prefix / str(rel)).exists()
        # conda's own record format, as a conda implementation (rattler) parses it
        parsed = rattler.PrefixRecord.from_path(
            prefix / "conda-meta" / f"{pkg.name}-{pkg.version}-{pkg.build}.json"
        )
        assert parsed.name.normalized == pkg.name
    assert meta["tool"]["noarch"] == "generic"
    assert backend.diff(prefix, lock, LINUX).matches


def test_changing_one_pin_changes_only_that_package(
    tmp_path: Path, locker: Callable[..., Lock]
) -> None:
    prefix = tmp_path / "env"
    backend = CondaBackend()
    old = locker(["app", "tool 2.*"])
    backend.install(prefix, old, LINUX, quiet=True)
    mtimes = meta_mtimes(prefix)
    new = locker(["app", "tool 1.*"])
    diff = backend.diff(prefix, new, LINUX)
    assert not diff.add and not diff.remove
    assert [(installed, p.spec()) for installed, p in diff.change] == [("tool=2.0=0", "tool=1.0=0")]
    backend.install(prefix, new, LINUX, quiet=True)
    assert (prefix / "share" / "tool" / "VERSION").read_text() == "1.0\n"
    assert backend.diff(prefix, new, LINUX).matches
    after = meta_mtimes(prefix)
    unchanged = {n for n in mtimes if n in after and after[n] == mtimes[n]}
    assert unchanged == {"app-1.0-0.json", "libcore-1.2-h1_0.json", "liblinux-3.0-h0_0.json"}
    assert "tool-1.0-0.json" in after and "tool-2.0-0.json" not in after


def test_unlocked_package_shows_as_remove_and_is_removed(
    tmp_path: Path, locker: Callable[..., Lock]
) -> None:
    prefix = tmp_path / "env"
    backend = CondaBackend()
    backend.install(prefix, locker(["app", "tool"]), LINUX, quiet=True)
    smaller = locker(["tool"])
    diff = backend.diff(prefix, smaller, LINUX)
    assert diff.remove == ("conda:app", "conda:libcore", "conda:liblinux")
    assert not diff.add and not diff.change
    backend.install(prefix, smaller, LINUX, quiet=True)
    assert set(read_conda_meta(prefix)) == {"tool"}
    assert not (prefix / "lib" / "liblinux.so").exists()


@pytest.fixture
def fresh_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "rattler-cache"))


@pytest.mark.usefixtures("fresh_caches")
def test_tampered_artifact_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    specs = demo_packages()
    chan = build_channel(tmp_path / "chan", specs)
    lock = lock_profile(load_profile(write_profile(tmp_path, chan, ["app", "tool"])))
    libcore = next(s for s in specs if s.name == "libcore" and s.subdir == LINUX)
    tamper(chan, libcore)  # bytes change after locking; the repodata is not touched
    prefix = tmp_path / "env"
    with pytest.raises(ArtifactMismatch) as info:
        CondaBackend().install(prefix, lock, LINUX, quiet=True)
    err = info.value
    assert "libcore=1.2=h1_0" in err.message and "refused" in err.message
    assert "\n" not in err.message and err.hint and err.exit_code == ExitCode.NOT_READY
    assert not (prefix / "conda-meta").exists()  # nothing at all was linked
    assert not (prefix / "share" / "libcore").exists()


@pytest.mark.usefixtures("fresh_caches")
def test_tampered_upgrade_leaves_the_existing_env_alone(tmp_path: Path) -> None:
    specs = demo_packages()
    chan = build_channel(tmp_path / "chan", specs)
    old = lock_profile(load_profile(write_profile(tmp_path, chan, ["tool 1.*"])))
    prefix = tmp_path / "env"
    CondaBackend().install(prefix, old, LINUX, quiet=True)
    new = lock_profile(load_profile(write_profile(tmp_path, chan, ["tool 2.*"])))
    tamper(chan, next(s for s in specs if s.name == "tool" and s.version == "2.0"))
    with pytest.raises(ArtifactMismatch, match=r"tool=2\.0=0"):
        CondaBackend().install(prefix, new, LINUX, quiet=True)
    assert (prefix / "share" / "tool" / "VERSION").read_text() == "1.0\n"
    assert CondaBackend().diff(prefix, old, LINUX).matches


@pytest.mark.usefixtures("fresh_caches")
def test_a_poisoned_rattler_cache_entry_is_not_used(tmp_path: Path) -> None:
    # rattler keys its cache by name-version-build: another channel's "tool-2.0-0"
    # extracted earlier must not be linked in place of the locked bytes.
    other = build_channel(
        tmp_path / "other", [PackageSpec("tool", "2.0", files={"share/tool/VERSION": "evil\n"})]
    )
    evil = lock_profile(load_profile(write_profile(tmp_path, other, ["tool"])))
    CondaBackend().install(tmp_path / "first", evil, LINUX, quiet=True)
    chan = build_channel(tmp_path / "chan", demo_packages())
    lock = lock_profile(load_profile(write_profile(tmp_path, chan, ["tool"])))
    CondaBackend().install(tmp_path / "second", lock, LINUX, quiet=True)
    assert (tmp_path / "second" / "share" / "tool" / "VERSION").read_text() == "2.0\n"


@pytest.mark.usefixtures("fresh_caches")
def test_missing_artifact_is_one_clear_error(tmp_path: Path) -> None:
    specs = demo_packages()
    chan = build_channel(tmp_path / "chan", specs)
    lock = lock_profile(load_profile(write_profile(tmp_path, chan, ["tool"])))
    (chan / "noarch" / "tool-2.0-0.tar.bz2").unlink()
    with pytest.raises(ExternalFailure) as info:
        CondaBackend().install(tmp_path / "env", lock, LINUX, quiet=True)
    assert "missing from its channel" in info.value.message and info.value.hint


@pytest.mark.slow
def test_pip_part_installs_after_the_conda_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conda part with a Python (a stand-in for conda-forge's python, see
    channels.python_standin), then the locked pip part with hashes into the prefix."""
    monkeypatch.delenv("PIP_NO_INDEX")  # the index is a local folder
    chan = build_channel(tmp_path / "chan", [*demo_packages(), python_standin()])
    simple = build_simple_index(
        tmp_path / "index",
        [
            Wheel("greeting", "1.0", requires=("helper",)),
            Wheel("greeting", "1.1", requires=("helper",)),
            Wheel("helper", "2.0"),
        ],
    )
    profile = write_profile(
        tmp_path, chan, ["tool"], pip=["greeting==1.0"], index_url=simple.as_uri()
    )
    lock = lock_profile(load_profile(profile))
    assert {(p.manager, p.name) for p in lock.packages} == {
        ("conda", "python"),
        ("conda", "tool"),
        ("pip", "greeting"),
        ("pip", "helper"),
    }
    prefix = tmp_path / "env"
    backend = CondaBackend()
    assert not backend.diff(prefix, lock, LINUX).exists
    backend.install(prefix, lock, LINUX, quiet=True)
    out = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import sys, greeting; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(out.stdout.strip()) == prefix
    site = prefix / "lib" / f"python{HOST_PY}" / "site-packages"
    assert (site / "greeting" / "__init__.py").is_file()
    assert backend.diff(prefix, lock, LINUX).matches
    # One pip pin changed: only that package differs.
    profile2 = write_profile(
        tmp_path, chan, ["tool"], pip=["greeting==1.1"], index_url=simple.as_uri()
    )
    diff = backend.diff(prefix, lock_profile(load_profile(profile2)), LINUX)
    assert not diff.add and not diff.remove
    assert [(old, new.spec()) for old, new in diff.change] == [("greeting==1.0", "greeting==1.1")]


@pytest.mark.usefixtures("fresh_caches")
def test_install_from_an_http_channel(tmp_path: Path, channel: Path) -> None:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(channel))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        profile = tmp_path / "http.yaml"
        write_profile(tmp_path, channel, ["app"]).rename(profile)
        profile.write_text(profile.read_text().replace(channel.as_uri(), url))
        lock = lock_profile(load_profile(profile))
        assert all(p.url.startswith(url) for p in lock.packages)
        prefix = tmp_path / "env"
        CondaBackend().install(prefix, lock, LINUX, quiet=False)  # with download bars
        assert CondaBackend().diff(prefix, lock, LINUX).matches
        assert read_conda_meta(prefix)["app"]["channel"] == url + "/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_noarch_python_package_lands_in_site_packages(tmp_path: Path) -> None:
    # A lockfile does not say noarch: python; the backend reads it from the archive, and
    # rattler links site-packages/ into lib/pythonX.Y/site-packages of the prefix.
    purepy = PackageSpec(
        "purepy",
        "1.0",
        "pyh0_0",
        depends=("python >=3.8",),
        files={"site-packages/purepy/__init__.py": "VALUE = 42\n"},
        noarch="python",
    )
    chan = build_channel(tmp_path / "chan", [python_standin(), purepy])
    lock = lock_profile(load_profile(write_profile(tmp_path, chan, ["purepy"])))
    assert {p.name for p in lock.packages} == {"python", "purepy"}  # python added: available
    prefix = tmp_path / "env"
    CondaBackend().install(prefix, lock, LINUX, quiet=True)
    assert (
        prefix / "lib" / f"python{HOST_PY}" / "site-packages" / "purepy" / "__init__.py"
    ).is_file()
    out = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import purepy; print(purepy.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "42"
    assert read_conda_meta(prefix)["purepy"]["noarch"] == "python"
    assert CondaBackend().diff(prefix, lock, LINUX).matches


@pytest.mark.slow
def test_pip_extras_in_a_conda_env_without_pip_part_are_removed(tmp_path: Path) -> None:
    chan = build_channel(tmp_path / "chan", [python_standin(), *demo_packages()])
    lock = lock_profile(load_profile(write_profile(tmp_path, chan, ["tool"])))
    assert not lock.for_platform(LINUX, "pip")
    prefix = tmp_path / "env"
    backend = CondaBackend()
    backend.install(prefix, lock, LINUX, quiet=True)
    assert backend.diff(prefix, lock, LINUX).matches
    wheel = build_wheel(Wheel("stray", "1.0"), tmp_path / "wheels")
    subprocess.run(
        [uv_executable(), "pip", "install", "--python", str(prefix / "bin" / "python"), wheel],
        check=True,
        capture_output=True,
    )
    assert backend.diff(prefix, lock, LINUX).remove == ("pip:stray",)
    backend.install(prefix, lock, LINUX, quiet=True)
    assert backend.diff(prefix, lock, LINUX).matches


@pytest.mark.usefixtures("fresh_caches")
def test_link_scripts_are_installed_but_not_run(tmp_path: Path) -> None:
    hooked = PackageSpec(
        "hooked", "1.0", "h0_0", LINUX, link_scripts={"post-link": 'touch "$PREFIX/ran"\n'}
    )
    chan = build_channel(tmp_path / "chan", [hooked])
    lock = lock_profile(load_profile(write_profile(tmp_path, chan, ["hooked"])))
    prefix = tmp_path / "env"
    CondaBackend().install(prefix, lock, LINUX, quiet=True)
    assert (prefix / "bin" / ".hooked-post-link.sh").is_file()
    assert not (prefix / "ran").exists()
