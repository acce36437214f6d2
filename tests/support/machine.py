"""What this machine happens to offer the tests, reached only through this module.

The suite must tell the truth on any box. A few tests use what a developer machine
may have and a CI runner may not: a local CPU torch wheel folder and ``file://`` PyPI
mirrors named in pip's configuration, and pyenv's Pythons. Each accessor returns the
resource or skips the test with a reason that names what is missing. Everything else
builds its own data (``tests/channels.py``, ``tests/pypi_index.py``).

The machine is read once, at import, from the environment the suite started with
(before the guards in ``tests/conftest.py`` point ``HOME`` and pip elsewhere); the
real user's files are found through that ``HOME``, never through ``pwd``.

``PROVISION_TEST_NO_MACHINE=1`` pretends this machine offers nothing, to see the suite
as a bare CI runner would (the same as no pip config and no pyenv).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from provisioner.lock.pipconfig import PipSettings, read_pip_settings
from provisioner.platforms import PYTHON_PLATFORM
from provisioner.uvbin import uv_executable

NO_MACHINE = "PROVISION_TEST_NO_MACHINE"
# The environment the suite started with, before any fixture replaced HOME or PIP_*.
STARTING_ENVIRON: Mapping[str, str] = dict(os.environ)
REPO = Path(__file__).resolve().parents[2]
# uv's cache for every offline run, which no online run writes. Online runs (tests marked
# ``network``) cache registry pages and the metadata of whichever versions they resolved;
# uv offline resolves from those, so an offline lock sharing their cache depended on
# which tests ran before it and on PyPI at that hour (a cached page saying numpy 2.4.0
# was yanked, beside the metadata of 2.4.0 alone, failed six offline locks of the cpu
# profile). Offline, only the local sources (file:// indexes, find-links) are read; their
# pages are never cached, and the wheels uv unpacks here are keyed by their hashes.
OFFLINE_UV_CACHE = REPO / ".cache" / "tests" / "uv-offline"


def _bare() -> bool:
    return STARTING_ENVIRON.get(NO_MACHINE, "") not in ("", "0")


@cache
def pip_settings() -> PipSettings:
    """pip's own configuration on this machine (config files and ``PIP_*`` variables)."""
    if _bare():
        return PipSettings()
    return read_pip_settings(STARTING_ENVIRON)


def _local_folder(location: str) -> Path | None:
    if location.startswith("file://"):
        location = unquote(urlparse(location).path)
    elif "://" in location:
        return None
    path = Path(location)
    return path if path.is_dir() else None


def wheel_folder() -> Path:
    """The local wheel folder in pip's ``find-links`` (e.g. ``/opt/wheels``)."""
    for link in pip_settings().find_links:
        folder = _local_folder(link)
        if folder is not None:
            return folder
    pytest.skip("needs a local wheel folder in the find-links of pip's config on this machine")


def cpu_torch_wheel(version: str = "2.13.0+cpu") -> Path:
    """The local CPU torch wheel (``torch-<version>-*.whl``) from pip's find-links."""
    found = sorted(wheel_folder().glob(f"torch-{version}-*.whl"))
    if not found:
        pytest.skip(f"needs a local CPU torch wheel torch-{version} in pip's find-links folder")
    return found[-1]


def pypi_mirrors() -> list[Path]:
    """The local ``file://`` PEP 503 indexes in pip's config (their ``simple`` folders)."""
    settings = pip_settings()
    urls = ([settings.index_url] if settings.index_url else []) + list(settings.extra_index_urls)
    folders = [_local_folder(url) for url in urls if url.startswith("file://")]
    return [f for f in folders if f is not None]


def pypi_mirror() -> Path:
    """The first local ``file://`` PyPI mirror in pip's config (its ``simple`` folder)."""
    mirrors = pypi_mirrors()
    if not mirrors:
        pytest.skip("needs a local file:// PyPI mirror in pip's index URLs (pip config)")
    return mirrors[0]


@dataclass(frozen=True)
class MirrorWheel:
    """A wheel of the local PyPI mirror, with the sha256 its index states."""

    path: Path
    sha256: str

    @property
    def url(self) -> str:
        return self.path.as_uri()


def mirror_wheel(name: str, version: str, tag: str = r"[^\"#]*none-any") -> MirrorWheel:
    """A (pure-Python by default) wheel of ``name==version`` from the local PyPI mirror."""
    pypi_mirror()  # skips when there is none
    stem = rf"{re.escape(name)}-{re.escape(version)}-{tag}\.whl"
    for simple in pypi_mirrors():
        index = simple / name / "index.html"
        text = index.read_text("utf-8") if index.is_file() else ""
        m = re.search(rf'href="([^"#]*/{stem})#sha256=([0-9a-f]{{64}})"', text)
        path = (index.parent / unquote(m[1])).resolve() if m else None
        if m and path and path.is_file():
            return MirrorWheel(path, m[2])
    pytest.skip(f"needs the wheel of {name} {version} in a local PyPI mirror (pip config)")


def pip_config_file(folder: Path) -> Path:
    """A pip.conf with this machine's package sources (find-links, indexes, constraints),
    for a child pip or ``provision lock`` (``PIP_CONFIG_FILE``); skips when there are none."""
    s = pip_settings()
    if not (s.find_links or s.index_url or s.extra_index_urls):
        pytest.skip("needs pip's config on this machine to name a local wheel folder or mirror")
    lines = ["[global]"]
    if s.index_url:
        lines.append(f"index-url = {s.index_url}")
    for key, values in (
        ("extra-index-url", s.extra_index_urls),
        ("find-links", s.find_links),
        ("constraint", s.constraints),
    ):
        if values:
            lines.append(f"{key} = {' '.join(values)}")
    if s.cert:
        lines.append(f"cert = {s.cert}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pip.conf"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def offline(environ: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """``environ`` changed so that uv runs offline with :data:`OFFLINE_UV_CACHE`."""
    environ["UV_OFFLINE"] = "1"
    environ["UV_CACHE_DIR"] = str(OFFLINE_UV_CACHE)
    return environ


def _source_args(settings: PipSettings) -> list[str]:
    args = ["--index-url", settings.index_url] if settings.index_url else []
    for url in settings.extra_index_urls:
        args += ["--extra-index-url", url]
    for link in settings.find_links:
        args += ["--find-links", link]
    for constraint in settings.constraints:
        if Path(constraint).exists():
            args += ["--constraint", constraint]
    return args


@cache
def _offline_resolve_error(requirements: tuple[str, ...], python: str) -> str | None:
    """None when uv resolves ``requirements`` for linux-64 offline from this machine's pip
    sources alone (with an empty cache: nothing another test left); else uv's reason."""
    with tempfile.TemporaryDirectory(prefix="provision-test-probe-") as cache_dir:
        env = {**os.environ, "UV_OFFLINE": "1", "UV_CACHE_DIR": cache_dir}
        argv = [uv_executable(), "pip", "compile", "-", "--quiet", "--no-header"]
        argv += ["--python-version", python, "--python-platform", PYTHON_PLATFORM["linux-64"]]
        argv += ["--index-strategy", "unsafe-first-match", *_source_args(pip_settings())]
        done = subprocess.run(
            argv,
            input="\n".join(requirements) + "\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    if done.returncode == 0:
        return None
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
    return " ".join(lines)[:300] or f"uv exited {done.returncode}"


def cpu_profile_offline() -> Path:
    """The local CPU torch wheel, once the shipped cpu profile's pip part resolves offline
    from this machine's pip sources alone (torch's dependencies and numpy in a local
    mirror); skips naming what is missing. Tests that lock the cpu profile offline ask this
    instead of relying on what earlier tests left in a cache."""
    import yaml

    wheel = cpu_torch_wheel()
    env = yaml.safe_load((REPO / "profiles" / "cpu.yaml").read_text("utf-8"))["environment"]
    requirements = tuple(env["pip"])
    why = _offline_resolve_error(requirements, env["python"])
    if why is not None:
        pytest.skip(
            f"needs {', '.join(requirements)} and their dependencies in this machine's local "
            f"pip sources (pip config's find-links or file:// mirrors), offline: {why}"
        )
    return wheel


def with_pip_config(environ: dict[str, str], folder: Path) -> dict[str, str]:
    """``environ`` changed so pip (and ``provision lock``) read this machine's package
    sources offline: the conftest guard's ``PIP_NO_INDEX`` lifted, ``UV_OFFLINE`` kept."""
    environ["PIP_CONFIG_FILE"] = str(pip_config_file(folder))
    environ.pop("PIP_NO_INDEX", None)
    return environ


def pyenv_root() -> Path:
    """Where pyenv keeps its Pythons (``$PYENV_ROOT``, else ``~/.pyenv``); may not exist."""
    if _bare():
        return Path("/nonexistent/provision-test-no-pyenv")
    root = STARTING_ENVIRON.get("PYENV_ROOT")
    home = STARTING_ENVIRON.get("HOME")
    return Path(root) if root else Path(home or "/nonexistent") / ".pyenv"


@cache
def _pyenv_versions() -> tuple[tuple[tuple[int, ...], Path], ...]:
    found = []
    versions = pyenv_root() / "versions"
    for entry in versions.glob("*") if versions.is_dir() else ():
        if re.fullmatch(r"\d+\.\d+\.\d+", entry.name) and (entry / "bin" / "python").exists():
            found.append((tuple(int(p) for p in entry.name.split(".")), entry / "bin" / "python"))
    return tuple(sorted(found))


def pyenv_python(version: str) -> Path:
    """pyenv's interpreter for ``X.Y`` (its newest patch) or exactly ``X.Y.Z``."""
    wanted = tuple(int(p) for p in version.split("."))
    matches = [path for v, path in _pyenv_versions() if v[: len(wanted)] == wanted]
    if not matches:
        pytest.skip(f"needs pyenv's Python {version} (under {pyenv_root()}/versions)")
    return matches[-1]
