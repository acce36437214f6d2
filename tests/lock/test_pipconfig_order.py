"""pip's configuration as uv gets it (uv ignores pip's config): which file wins, which
section, what the ``PIP_*`` variables override, and what a damaged file does (it is
skipped, as pip skips what it cannot read, and never ends the lock in exit 3).

Every test passes its own environment mapping: the real user's pip config is never
read. ``/etc/pip.conf`` is read by pip on every Linux machine, so the tests assert
only the settings they write themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.lock.pipconfig import (
    config_files,
    effective_settings,
    read_pip_settings,
    uv_index_args,
)
from provisioner.profile.model import Environment


def conf(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """An environment whose pip config locations are all under tmp_path."""
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_DIRS": f"{tmp_path / 'xdg1'}{os.pathsep}{tmp_path / 'xdg2'}",
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
    }


def test_the_files_are_read_in_pips_order(environ: dict[str, str], tmp_path: Path) -> None:
    files = config_files(environ)
    assert files[:2] == [tmp_path / "xdg1/pip/pip.conf", tmp_path / "xdg2/pip/pip.conf"]
    assert files[2:5] == [
        Path("/etc/pip.conf"),
        tmp_path / "home/.pip/pip.conf",
        tmp_path / "home/.config/pip/pip.conf",
    ]
    assert config_files({**environ, "PIP_CONFIG_FILE": "/srv/pip.conf"}) == [Path("/srv/pip.conf")]
    assert config_files({**environ, "PIP_CONFIG_FILE": os.devnull}) == []


@pytest.mark.parametrize(
    ("where", "url"),
    [
        (("xdg1",), "https://xdg1.example/simple"),
        (("xdg1", "xdg2"), "https://xdg2.example/simple"),
        (("xdg2", "legacy"), "https://legacy.example/simple"),
        (("legacy", "user"), "https://user.example/simple"),
        (("xdg1", "xdg2", "legacy", "user"), "https://user.example/simple"),
    ],
)
def test_a_later_file_wins(
    environ: dict[str, str], tmp_path: Path, where: tuple[str, ...], url: str
) -> None:
    paths = {
        "xdg1": tmp_path / "xdg1/pip/pip.conf",
        "xdg2": tmp_path / "xdg2/pip/pip.conf",
        "legacy": tmp_path / "home/.pip/pip.conf",
        "user": tmp_path / "home/.config/pip/pip.conf",
    }
    for name in where:
        conf(paths[name], f"[global]\nindex-url = https://{name}.example/simple\n")
    assert read_pip_settings(environ).index_url == url


def test_install_overrides_global_and_underscores_read_as_dashes(
    environ: dict[str, str], tmp_path: Path
) -> None:
    conf(
        tmp_path / "home/.config/pip/pip.conf",
        "[global]\nindex_url = https://global.example/simple\nfind-links = /g\n"
        "[install]\nindex-url = https://install.example/simple\n"
        "[download]\nfind-links = /not-for-install\n",
    )
    settings = read_pip_settings(environ)
    assert settings.index_url == "https://install.example/simple"
    assert settings.find_links == ("/g",)


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("PIP_INDEX_URL", "https://env.example/simple", "index_url", "https://env.example/simple"),
        (
            "PIP_EXTRA_INDEX_URL",
            "file:///a file:///b",
            "extra_index_urls",
            ("file:///a", "file:///b"),
        ),
        ("PIP_FIND_LINKS", "/w1\n/w2", "find_links", ("/w1", "/w2")),
        ("PIP_NO_INDEX", "yes", "no_index", True),
        ("PIP_NO_INDEX", "0", "no_index", False),
        ("PIP_CONSTRAINT", "/c.txt", "constraints", ("/c.txt",)),
        ("PIP_CERT", "/ca.pem", "cert", "/ca.pem"),
        ("PIP_INDEX_URL", "", "index_url", None),  # set but empty: pip's default index
    ],
)
def test_a_pip_variable_overrides_the_files(
    environ: dict[str, str],
    tmp_path: Path,
    variable: str,
    value: str,
    field: str,
    expected: object,
) -> None:
    conf(
        tmp_path / "home/.config/pip/pip.conf",
        "[global]\nindex-url = https://file.example/simple\nextra-index-url = file:///f\n"
        "find-links = /f\nno-index = true\nconstraint = /f.txt\ncert = /f.pem\n",
    )
    assert getattr(read_pip_settings({**environ, variable: value}), field) == expected


@pytest.mark.parametrize(
    ("text", "no_index"),
    [
        ("1", True),
        ("true", True),
        ("On", True),
        (" YES ", True),
        ("0", False),
        ("no", False),
        ("false", False),
        ("", False),
        ("maybe", False),
    ],
)
def test_no_index_reads_pips_truthy_words(
    environ: dict[str, str], tmp_path: Path, text: str, no_index: bool
) -> None:
    conf(tmp_path / "home/.config/pip/pip.conf", f"[global]\nno-index = {text}\n")
    assert read_pip_settings(environ).no_index is no_index


def test_pip_config_file_replaces_every_other_file(environ: dict[str, str], tmp_path: Path) -> None:
    conf(tmp_path / "home/.config/pip/pip.conf", "[global]\nindex-url = https://user/simple\n")
    only = conf(tmp_path / "ci/pip.conf", "[global]\nextra-index-url = file:///ci\n")
    settings = read_pip_settings({**environ, "PIP_CONFIG_FILE": str(only)})
    assert (settings.index_url, settings.extra_index_urls) == (None, ("file:///ci",))
    none = read_pip_settings({**environ, "PIP_CONFIG_FILE": os.devnull})
    assert none.index_url is None and none.extra_index_urls == ()


@pytest.mark.parametrize(
    "damaged",
    [
        b"[global]\nindex-url = https://caf\xe9.example/simple\n",  # latin-1, not UTF-8
        b"[global]\nindex-url = a\n[global]\nindex-url = b\n",  # a section twice
        b"index-url = https://no-section.example/simple\n",
        b"[global\nindex-url = x\n",
        b"\x00\x01\x02",
    ],
    ids=["not-utf8", "duplicate-section", "no-section", "broken-header", "binary"],
)
def test_a_damaged_file_is_skipped_and_the_others_still_count(
    environ: dict[str, str], tmp_path: Path, damaged: bytes
) -> None:
    conf(tmp_path / "xdg1/pip/pip.conf", "[global]\nfind-links = /from-xdg1\n")
    conf(tmp_path / "home/.config/pip/pip.conf", damaged)
    settings = read_pip_settings(environ)
    assert settings.find_links == ("/from-xdg1",)
    assert settings.index_url is None


def test_a_folder_where_the_file_should_be_is_skipped(
    environ: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "home/.config/pip/pip.conf").mkdir(parents=True)
    conf(tmp_path / "home/.pip/pip.conf", "[global]\nindex-url = https://legacy/simple\n")
    assert read_pip_settings(environ).index_url == "https://legacy/simple"


def test_the_profiles_sources_come_first_and_repeat_nothing(
    environ: dict[str, str], tmp_path: Path
) -> None:
    conf(
        tmp_path / "home/.config/pip/pip.conf",
        "[global]\nindex-url = https://pip.example/simple\n"
        "extra-index-url = file:///shared file:///pip-only\nfind-links = /shared\n",
    )
    env = Environment(
        name="x",
        python="3.11",
        index_url="https://profile.example/simple",
        extra_index_urls=("file:///shared",),
        find_links=("/shared", "/profile"),
    )
    settings = effective_settings(env, environ)
    assert settings.index_url == "https://profile.example/simple"
    assert settings.extra_index_urls == ("file:///shared", "file:///pip-only")
    assert settings.find_links == ("/shared", "/profile")
    without = Environment(name="x", python="3.11")
    assert effective_settings(without, environ).index_url == "https://pip.example/simple"


def test_uv_gets_constraints_that_exist_and_the_certificate_as_a_variable(
    environ: dict[str, str], tmp_path: Path
) -> None:
    present = conf(tmp_path / "c.txt", "six<2\n")
    conf(
        tmp_path / "home/.config/pip/pip.conf",
        f"[global]\nconstraint = {present} {tmp_path / 'gone.txt'} https://c.example/c.txt\n"
        "cert = /etc/ssl/mine.pem\nno-index = 1\n",
    )
    args, uv_env = uv_index_args(Environment(name="x", python="3.11"), environ)
    assert args == [
        "--no-index",
        "--constraint",
        str(present),
        "--constraint",
        "https://c.example/c.txt",
    ]
    assert uv_env == {"SSL_CERT_FILE": "/etc/ssl/mine.pem"}
