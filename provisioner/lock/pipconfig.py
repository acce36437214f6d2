"""pip's configuration, translated into uv flags (uv ignores pip's config).

Order, as pip applies it: the profile's own ``index_url``/``extra_index_urls``/
``find_links`` first, then ``PIP_*`` environment variables, then pip's config
files (``$PIP_CONFIG_FILE``, else the global, user and site files pip lists in
``pip config list``; later files win, ``[global]`` then ``[install]``). Indexes,
find-links, ``no-index``, ``constraint`` and ``cert`` are translated.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from provisioner.profile.model import Environment


@dataclass(frozen=True)
class PipSettings:
    """The pip settings that change where packages come from."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    constraints: tuple[str, ...] = ()
    cert: str | None = None


def config_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    """pip's config files in the order pip reads them (later ones override earlier ones)."""
    environ = os.environ if environ is None else environ
    if environ.get("PIP_CONFIG_FILE"):
        value = environ["PIP_CONFIG_FILE"]
        return [] if value == os.devnull else [Path(value)]
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    home = Path(environ.get("HOME") or Path.home())
    files.append(home / ".pip" / "pip.conf")
    xdg_config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    files.append(xdg_config / "pip" / "pip.conf")
    files.append(Path(sys.prefix) / "pip.conf")
    return files


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def read_pip_settings(environ: Mapping[str, str] | None = None) -> PipSettings:
    """pip's own settings from its config files and ``PIP_*`` environment variables."""
    environ = os.environ if environ is None else environ
    merged: dict[str, str] = {}
    for path in config_files(environ):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, UnicodeDecodeError, configparser.Error):
            continue  # as pip: a file it cannot read adds nothing
        for section in ("global", "install"):
            if parser.has_section(section):
                merged.update({k.replace("_", "-"): v for k, v in parser.items(section)})
    for key in ("index-url", "extra-index-url", "find-links", "no-index", "constraint", "cert"):
        var = "PIP_" + key.upper().replace("-", "_")
        if var in environ:
            merged[key] = environ[var]
    return PipSettings(
        index_url=merged.get("index-url") or None,
        extra_index_urls=_split(merged.get("extra-index-url")),
        find_links=_split(merged.get("find-links")),
        no_index=_truthy(merged.get("no-index")),
        constraints=_split(merged.get("constraint")),
        cert=merged.get("cert") or None,
    )


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def effective_settings(env: Environment, environ: Mapping[str, str] | None = None) -> PipSettings:
    """The profile's index settings first, pip's own configuration after them."""
    pip = read_pip_settings(environ)
    return PipSettings(
        index_url=env.index_url or pip.index_url,
        extra_index_urls=_unique(env.extra_index_urls + pip.extra_index_urls),
        find_links=_unique(env.find_links + pip.find_links),
        no_index=pip.no_index,
        constraints=pip.constraints,
        cert=pip.cert,
    )


def uv_index_args(
    env: Environment, environ: Mapping[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """uv command-line flags and environment variables equivalent to pip's settings."""
    settings = effective_settings(env, environ)
    args: list[str] = []
    if settings.index_url:
        args += ["--index-url", settings.index_url]
    for url in settings.extra_index_urls:
        args += ["--extra-index-url", url]
    for link in settings.find_links:
        args += ["--find-links", link]
    if settings.no_index:
        args.append("--no-index")
    for constraint in settings.constraints:
        if Path(constraint).exists() or "://" in constraint:
            args += ["--constraint", constraint]
    uv_env = {"SSL_CERT_FILE": settings.cert} if settings.cert else {}
    return args, uv_env


def _local_folder(link: str) -> Path | None:
    if link.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(link).path))
    return None if "://" in link else Path(link)


def supplied_by_find_links(
    package: str, requirements: Sequence[str], find_links: Sequence[str]
) -> bool:
    """Whether a local find-links folder holds a wheel of ``package`` that fits every
    requirement naming it (``torch==2.13.0`` is fitted by ``torch-2.13.0+cpu-...whl``)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

    wanted = canonicalize_name(package)
    specs = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) == wanted:
            specs.append(req.specifier)
    for link in find_links:
        folder = _local_folder(link)
        if folder is None or not folder.is_dir():
            continue
        for wheel in folder.glob("*.whl"):
            try:
                name, version, _build, _tags = parse_wheel_filename(wheel.name)
            except InvalidWheelFilename:
                continue
            if name == wanted and all(s.contains(version, prereleases=True) for s in specs):
                return True
    return False
