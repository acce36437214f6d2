"""The pip part of a lock: uv resolves for the target's platform and Python, with
pip's configuration translated (uv ignores it). Real wheels, real indexes."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

from provisioner.errors import ExternalFailure
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.lockfile import lock_profile, read_lockfile, write_lockfile
from provisioner.lock.pip_part import conda_provided, resolve_pip
from provisioner.lock.pipconfig import read_pip_settings, uv_index_args
from provisioner.profile import load_profile
from tests.channels import PackageSpec, build_channel, python_standin
from tests.pypi_index import Wheel, build_simple_index, build_wheel
from tests.support import machine

ProfileWriter = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pip_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A file:// simple index with a 'CUDA' torchlike 2.13.0 (needs nvidia-fake) and
    platform wheels, and a find-links folder with torchlike 2.13.0+cpu. pip's own
    configuration on this machine stays hidden (the conftest guard)."""
    simple = build_simple_index(
        tmp_path / "index",
        [
            Wheel("torchlike", "2.13.0", requires=("nvidia-fake==1.0",)),
            Wheel("nvidia-fake", "1.0"),
            Wheel("helper", "1.0"),
            Wheel("plat", "1.0", "cp37-cp37m-win_amd64"),
            Wheel("plat", "1.0", "cp311-cp311-manylinux_2_17_x86_64"),
        ],
    )
    links = tmp_path / "wheels"
    build_wheel(Wheel("torchlike", "2.13.0+cpu", requires=("helper",)), links)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    return simple, links


def test_pip_config_is_translated_for_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(
        "[global]\nindex-url = https://mirror.example/simple\n"
        "extra-index-url = file:///a/simple file:///b/simple\nfind-links = /opt/w\n"
        f"constraint = {conf}\ncert = /etc/ssl/x.pem\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.setenv("PIP_FIND_LINKS", "/env/wheels")
    monkeypatch.delenv("PIP_CERT", raising=False)
    settings = read_pip_settings()
    assert settings.index_url == "https://mirror.example/simple"
    assert settings.extra_index_urls == ("file:///a/simple", "file:///b/simple")
    assert settings.find_links == ("/env/wheels",)  # the variable overrides the file
    from provisioner.profile.model import Environment

    env = Environment(
        name="x", python="3.11", extra_index_urls=("file:///profile/simple",), find_links=("/p",)
    )
    args, uv_env = uv_index_args(env)
    assert args == [
        "--index-url",
        "https://mirror.example/simple",
        "--extra-index-url",
        "file:///profile/simple",
        "--extra-index-url",
        "file:///a/simple",
        "--extra-index-url",
        "file:///b/simple",
        "--find-links",
        "/p",
        "--find-links",
        "/env/wheels",
        "--constraint",
        str(conf),
    ]
    assert uv_env == {"SSL_CERT_FILE": "/etc/ssl/x.pem"}
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert "--no-index" in uv_index_args(env)[0]


def test_find_links_cpu_build_wins_over_the_index_build(
    pip_sources: tuple[Path, Path], write_profile: ProfileWriter
) -> None:
    simple, links = pip_sources
    resolved = load_profile(
        write_profile(
            [],
            manager="venv",
            conda=[],
            pip=["torchlike==2.13.0"],
            extra_index_urls=[simple.as_uri()],
            find_links=[str(links)],
        )
    )
    locked = {p.name: p for p in resolve_pip(resolved, "linux-64")}
    assert set(locked) == {"torchlike", "helper"}  # no nvidia-fake
    torch = locked["torchlike"]
    wheel = links / "torchlike-2.13.0+cpu-py3-none-any.whl"
    assert torch.version == "2.13.0+cpu" and torch.url == unquote(wheel.as_uri())
    assert torch.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert locked["helper"].url.startswith(simple.parent.as_uri() + "/files/")


def test_pip_config_file_alone_is_enough(
    pip_sources: tuple[Path, Path],
    write_profile: ProfileWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simple, links = pip_sources
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nextra-index-url = {simple.as_uri()}\nfind-links = {links}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    resolved = load_profile(write_profile([], manager="venv", conda=[], pip=["torchlike==2.13.0"]))
    assert {p.name: p.version for p in resolve_pip(resolved, "linux-64")} == {
        "helper": "1.0",
        "torchlike": "2.13.0+cpu",
    }


@pytest.mark.parametrize(
    ("platform", "python", "tag"),
    [("win-64", "3.7", "cp37-cp37m-win_amd64"), ("linux-64", "3.11", "cp311-cp311-manylinux")],
)
def test_resolves_for_the_target_platform_and_python(
    pip_sources: tuple[Path, Path],
    write_profile: ProfileWriter,
    platform: str,
    python: str,
    tag: str,
) -> None:
    simple, _ = pip_sources
    resolved = load_profile(
        write_profile(
            [],
            manager="venv",
            conda=[],
            python=python,
            pip=["plat==1.0"],
            index_url=simple.as_uri(),
        )
    )
    (plat,) = resolve_pip(resolved, platform)
    assert plat.manager == "pip" and plat.platform == platform
    assert tag in plat.url and re.fullmatch(r"[0-9a-f]{64}", plat.sha256 or "")


def test_lock_of_a_venv_profile_has_only_pip_entries(
    pip_sources: tuple[Path, Path], write_profile: ProfileWriter, tmp_path: Path
) -> None:
    simple, links = pip_sources
    resolved = load_profile(
        write_profile(
            ["conda-forge"],  # never contacted: a venv has no conda part
            manager="venv",
            conda=[],
            pip=["torchlike==2.13.0"],
            extra_index_urls=[simple.as_uri()],
            find_links=[str(links)],
        )
    )
    locked = lock_profile(resolved)
    assert {(p.manager, p.name) for p in locked.packages} == {
        ("pip", "helper"),
        ("pip", "torchlike"),
    }
    assert locked.channels == ()
    assert read_lockfile(write_lockfile(locked, resolved, tmp_path / "v.conda-lock.yml")) == locked


def test_unknown_requirement_is_one_line_with_a_fix(
    pip_sources: tuple[Path, Path], write_profile: ProfileWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    simple, _ = pip_sources
    monkeypatch.delenv("UV_OFFLINE")  # the only index is a local folder: no network used
    resolved = load_profile(
        write_profile(
            [], manager="venv", conda=[], pip=["no-such-dist==1.0"], index_url=simple.as_uri()
        )
    )
    with pytest.raises(ExternalFailure) as info:
        resolve_pip(resolved, "linux-64")
    err = info.value
    assert err.message.startswith("cannot resolve pip requirements for linux-64 / Python 3.11")
    assert "no-such-dist" in err.message and "\n" not in err.message and err.hint


def test_offline_without_a_cache_says_so(
    pip_sources: tuple[Path, Path], write_profile: ProfileWriter
) -> None:
    resolved = load_profile(
        write_profile(
            [],
            manager="venv",
            conda=[],
            pip=["provision-never-cached==0.0.1"],
            index_url="https://pypi.org/simple",
        )
    )
    with pytest.raises(ExternalFailure) as info:
        resolve_pip(resolved, "linux-64")
    assert info.value.message.startswith("cannot resolve pip requirements for linux-64")
    assert "offline" in info.value.message and "UV_OFFLINE" in (info.value.hint or "")


def test_unreachable_index_is_one_line_with_a_fix(
    pip_sources: tuple[Path, Path], write_profile: ProfileWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    resolved = load_profile(
        write_profile(
            [], manager="venv", conda=[], pip=["six"], index_url="http://127.0.0.1:9/simple"
        )
    )
    with pytest.raises(ExternalFailure) as info:
        resolve_pip(resolved, "linux-64")
    assert info.value.message.startswith("cannot reach the pip index")
    assert "\n" not in info.value.message


def test_proxy_from_the_profile_is_used(
    pip_sources: tuple[Path, Path], write_profile: ProfileWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on 127.0.0.1:9: the resolve can only fail if uv goes through it.
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    for var in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    resolved = load_profile(
        write_profile(
            [],
            manager="venv",
            conda=[],
            pip=["six"],
            index_url="https://pypi.org/simple",
            proxy="http://127.0.0.1:9",
        )
    )
    with pytest.raises(ExternalFailure, match="cannot reach the pip index"):
        resolve_pip(resolved, "linux-64")


@pytest.mark.slow
def test_cpu_profile_locks_the_local_cpu_torch_wheel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # This machine's pip sources (its CPU torch wheel folder, file:// mirrors), offline.
    local_torch = machine.cpu_profile_offline()
    monkeypatch.setenv("PIP_CONFIG_FILE", str(machine.pip_config_file(tmp_path)))
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    resolved = load_profile(REPO / "profiles" / "cpu.yaml")
    locked = {p.name: p for p in resolve_pip(resolved, "linux-64")}
    assert {"torch", "numpy"} <= set(locked)
    assert not [n for n in locked if n.startswith("nvidia")], sorted(locked)
    torch = locked["torch"]
    assert torch.version == "2.13.0+cpu" and torch.url == f"file://{local_torch}"
    assert torch.sha256 == hashlib.sha256(local_torch.read_bytes()).hexdigest()


@pytest.mark.network
@pytest.mark.slow
def test_windows_python37_tensorflow_directml_from_pypi(
    write_profile: ProfileWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)  # PyPI only: pip's config is hidden
    resolved = load_profile(
        write_profile(
            [],
            os_="windows",
            manager="venv",
            conda=[],
            python="3.7",
            pip=["tensorflow-directml==1.15.8"],
        )
    )
    locked = {p.name: p for p in resolve_pip(resolved, "win-64")}
    tfdml = locked["tensorflow-directml"]
    assert tfdml.version == "1.15.8"
    assert tfdml.url.startswith("https://files.pythonhosted.org/")
    assert tfdml.url.endswith("-cp37-cp37m-win_amd64.whl")
    assert "numpy" in locked and "protobuf" in locked
    for p in locked.values():
        assert p.platform == "win-64" and re.fullmatch(r"[0-9a-f]{64}", p.sha256 or ""), p
        assert not p.url.endswith(("linux_x86_64.whl", "manylinux1_x86_64.whl")), p.url


def test_conda_provided_lists_python_libraries_by_pypi_name() -> None:
    def conda(name: str, version: str, *deps: str) -> LockedPackage:
        return LockedPackage(
            "conda", name, version, "linux-64", f"file:///c/{name}", "0" * 64, dependencies=deps
        )

    provided = conda_provided(
        [
            conda("python", "3.11.9", "libzlib"),
            conda("pytorch", "2.4.1", "python >=3.11,<3.12.0a0", "numpy"),
            conda("numpy", "1.26.4", "python_abi 3.11.*", "python >=3.11"),
            conda("libzlib", "1.3.1"),  # not a Python library
            conda("weird", "1.0_rc!x", "python"),  # not a PEP 440 version
        ]
    )
    assert provided == {"torch": "2.4.1", "numpy": "1.26.4"}


@pytest.mark.slow
def test_pip_part_agrees_with_conda_provided_libraries(
    pip_sources: tuple[Path, Path],
    write_profile: ProfileWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("UV_OFFLINE")  # the only index is a local folder
    host_py = f"{sys.version_info.major}.{sys.version_info.minor}"
    helper = PackageSpec(
        "helper",
        "1.0",
        "pyh0_0",
        depends=("python",),
        files={"site-packages/helper/__init__.py": ""},
        noarch="python",
    )
    chan = build_channel(tmp_path / "chan", [python_standin(), helper])
    simple = build_simple_index(
        tmp_path / "index2",
        [
            Wheel("greeting", "1.0", requires=("helper",)),
            Wheel("greeting", "2.0", requires=("helper>=2",)),
            Wheel("helper", "1.0"),
            Wheel("helper", "2.0"),
        ],
    )

    def lock(pin: str) -> Lock:
        return lock_profile(
            load_profile(
                write_profile(
                    [chan.as_uri()],
                    conda=["helper"],
                    python=host_py,
                    pip=[pin],
                    index_url=simple.as_uri(),
                )
            )
        )

    locked = lock("greeting==1.0")
    assert {(p.manager, p.name, p.version) for p in locked.packages} == {
        ("conda", "python", python_standin().version),
        ("conda", "helper", "1.0"),
        ("pip", "greeting", "1.0"),  # helper comes from conda, not a second time from pip
    }
    with pytest.raises(ExternalFailure) as info:
        lock("greeting==2.0")  # needs helper>=2, conda has 1.0
    assert info.value.message.endswith("(pinned by the conda part: helper==1.0)")


@pytest.fixture
def two_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip's config (written here, the machine's hidden) with an index-url and two
    ``file://`` extra indexes, as on a machine with local mirrors: the first extra has
    ``wanted`` 1.0 only, the second has ``wanted`` 2.0 and its dependency."""
    base = build_simple_index(tmp_path / "base", [Wheel("filler", "1.0")])
    first = build_simple_index(tmp_path / "first", [Wheel("wanted", "1.0")])
    second = build_simple_index(
        tmp_path / "second", [Wheel("wanted", "2.0", requires=("gastlike==0.2.2",))]
    )
    build_simple_index(tmp_path / "second", [Wheel("gastlike", "0.2.2")])
    conf = tmp_path / "pip.conf"
    conf.write_text(
        f"[global]\nindex-url = {base.as_uri()}\n"
        f"extra-index-url = {first.as_uri()} {second.as_uri()}\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    for var in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    return second


def test_every_configured_index_is_considered_as_pip_does(
    two_indexes: Path, write_profile: ProfileWriter
) -> None:
    resolved = load_profile(write_profile([], manager="venv", conda=[], pip=["wanted==2.0"]))
    locked = {p.name: p for p in resolve_pip(resolved, "linux-64")}
    assert {n: p.version for n, p in locked.items()} == {"wanted": "2.0", "gastlike": "0.2.2"}
    assert locked["wanted"].url.startswith(two_indexes.parent.as_uri() + "/files/")


def test_first_index_strategy_is_the_profiles_choice_and_keeps_uvs_hint(
    two_indexes: Path, write_profile: ProfileWriter
) -> None:
    profile = write_profile(
        [], manager="venv", conda=[], pip=["wanted==2.0"], index_strategy="first-index"
    )
    with pytest.raises(ExternalFailure) as info:
        resolve_pip(load_profile(profile), "linux-64")
    message = info.value.message
    assert "wanted" in message and "\n" not in message
    assert "hint: " in message and "--index-strategy unsafe-best-match" in message
