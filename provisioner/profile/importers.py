"""``provision init --from FILE``: what a team already has, read into a profile's parts.

- conda's ``environment.yml`` (also ``conda env export``'s): ``name``, ``channels``,
  ``dependencies`` (``python=X.Y`` becomes ``environment.python``) with its ``pip:``
  part, ``variables``;
- pip's ``requirements.txt``: requirements, ``--index-url``, ``--extra-index-url``,
  ``--find-links``;
- ``pixi.toml``: the workspace's (or project's) ``name`` and ``channels``,
  ``[dependencies]`` (``python`` becomes ``environment.python``),
  ``[pypi-dependencies]``, ``[activation.env]``; its ``platforms`` pick the target.

Whatever a profile cannot hold, or the lock could not pin with a hash (editable
installs, local paths, VCS URLs, nested ``-r`` files, tasks, features, per-platform
dependencies), is listed in :attr:`Imported.skipped` with the reason, never dropped
silently.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.errors import ExitCode, ProvisionError, relpath
from provisioner.profile.specs import check_conda_spec, check_pip_spec

FRAMEWORKS = (  # package name -> smoke_test.framework, first match wins
    ("tensorflow-directml-plugin", "tensorflow-directml-plugin"),
    ("tensorflow-directml", "tensorflow-directml"),
    ("torch-directml", "torch-directml"),
    ("pytorch", "pytorch"),
    ("torch", "pytorch"),
    ("tensorflow-cpu", "tensorflow"),
    ("tensorflow", "tensorflow"),
)


@dataclass
class Imported:
    """A profile's parts read from another tool's file."""

    source: str
    name: str = ""
    manager: str = "venv"
    python: str = ""
    channels: list[str] = field(default_factory=list)
    conda: list[str] = field(default_factory=list)
    pip: list[str] = field(default_factory=list)
    index_url: str = ""
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    os: str = "linux"
    skipped: list[str] = field(default_factory=list)  # "what: why"

    def framework(self) -> str | None:
        names = {_name(s) for s in [*self.conda, *self.pip]}
        return next((fw for pkg, fw in FRAMEWORKS if pkg in names), None)


def _name(spec: str) -> str:
    spec = spec.split("::", 1)[-1]
    return re.split(r"[\s=<>!~\[;@]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def read_source(path: Path) -> Imported:
    """Read ``path`` by its kind (environment*.yml, *requirements*.txt, pixi.toml)."""
    from provisioner.inputs import Kind, read_input_text

    kind = Kind(
        "environment file",
        1 << 20,
        "pass an existing environment.yml, requirements.txt or pixi.toml",
        "an environment.yml, requirements.txt or pixi.toml",
    )
    name = path.name.lower()
    text = read_input_text(path, kind)
    if name.endswith((".yml", ".yaml")):
        return from_environment_yml(text, relpath(path))
    if name == "pixi.toml" or name.endswith(".toml"):
        return from_pixi_toml(text, relpath(path))
    if name.endswith(".txt") or name.endswith(".in"):
        return from_requirements(text, relpath(path))
    raise ProvisionError(
        f"--from {relpath(path)}: not a file init can read",
        hint="give an environment.yml, a requirements.txt or a pixi.toml",
        exit_code=ExitCode.INVALID,
    )


def from_environment_yml(text: str, shown: str) -> Imported:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ProvisionError(
            f"{shown}: not YAML: {str(e).splitlines()[0]}", exit_code=ExitCode.INVALID
        ) from None
    if not isinstance(data, dict):
        raise ProvisionError(
            f"{shown}: not a conda environment file (a mapping with dependencies:)",
            exit_code=ExitCode.INVALID,
        )
    out = Imported(shown, manager="conda")
    out.name = str(data.get("name") or "")
    out.channels = [str(c) for c in data.get("channels") or [] if c != "defaults"]
    if "defaults" in (data.get("channels") or []):
        out.skipped.append(
            "channel defaults: Anaconda's defaults channel is not used; conda-forge is"
        )
        out.channels = out.channels or ["conda-forge"]
    for dep in data.get("dependencies") or []:
        if isinstance(dep, dict) and "pip" in dep:
            for line in dep["pip"] or []:
                _pip_line(out, str(line), shown)
        elif isinstance(dep, str):
            _conda_dep(out, dep)
        else:
            out.skipped.append(f"dependency {dep!r}: neither a spec nor a pip: list")
    for key, value in (data.get("variables") or {}).items():
        out.variables[str(key)] = str(value)
    for key in ("prefix",):
        if key in data:
            out.skipped.append(
                f"{key}: {data[key]}: environments live in $PROVISION_ENVS_DIR/<environment.name>"
            )
    if not out.channels:
        out.channels = ["conda-forge"]
    return out


def _conda_dep(out: Imported, dep: str) -> None:
    spec = dep.strip()
    name = _name(spec)
    if name == "python":
        version = re.findall(r"\d+\.\d+", spec)
        if version:
            out.python = version[0]
        else:
            out.skipped.append(f"{spec}: no X.Y version; environment.python needs one")
        return
    if name == "pip":
        out.skipped.append(f"{spec}: provision installs the pip part itself")
        return

    spec = re.sub(r"^([^=<>!~\s]+)=([^=].*)$", r"\1=\2", spec)
    try:
        out.conda.append(check_conda_spec(spec))
    except ValueError as e:
        out.skipped.append(f"{spec}: {e}")


def from_requirements(text: str, shown: str) -> Imported:
    out = Imported(shown, manager="venv")
    for line in text.splitlines():
        _pip_line(out, line, shown)
    return out


def _pip_line(out: Imported, raw: str, shown: str) -> None:
    line = re.sub(r"(^|\s)#.*$", "", raw).strip()
    if not line:
        return
    option = re.match(r"^(--index-url|-i|--extra-index-url|--find-links|-f)[=\s]\s*(\S+)$", line)
    if option:
        flag, value = option.groups()
        if flag in ("--index-url", "-i"):
            out.index_url = value
        elif flag == "--extra-index-url":
            out.extra_index_urls.append(value)
        else:
            out.find_links.append(value)
        return
    if line.startswith("-"):
        why = {
            "-r": "a nested requirements file: import it too, or list its lines here",
            "-c": "constraints: put the pins into environment.pip",
            "-e": "an editable install has no hash to lock: build a wheel, or use an index",
        }.get(line.split()[0].split("=")[0][:2], "a pip option a profile does not hold")
        out.skipped.append(f"{line}: {why}")
        return
    if re.match(r"^(\.|/|~|[A-Za-z]:\\)", line) or (
        "://" in line.split(";")[0] and "@" not in line
    ):
        out.skipped.append(f"{line}: a local path or URL has no hash to lock; use an index")
        return
    if re.search(r"@\s*(git\+|hg\+|svn\+|bzr\+)", line):
        out.skipped.append(f"{line}: a VCS requirement has no hash to lock; use a release")
        return

    try:
        out.pip.append(check_pip_spec(line))
    except ValueError as e:
        out.skipped.append(f"{line}: {e}")


def _load_toml(text: str, shown: str) -> dict[str, Any]:
    try:
        if sys.version_info >= (3, 11):
            import tomllib

            return tomllib.loads(text)
        import tomlkit

        data: dict[str, Any] = tomlkit.loads(text).unwrap()
        return data
    except ValueError as e:  # tomllib.TOMLDecodeError and tomlkit's errors are ValueErrors
        raise ProvisionError(f"{shown}: not TOML: {e}", exit_code=ExitCode.INVALID) from None


def from_pixi_toml(text: str, shown: str) -> Imported:
    data = _load_toml(text, shown)
    workspace = data.get("workspace") or data.get("project") or {}
    out = Imported(shown, manager="conda")
    out.name = str(workspace.get("name") or "")
    out.channels = [
        str(c) if not isinstance(c, dict) else str(c.get("channel"))
        for c in workspace.get("channels") or []
    ] or ["conda-forge"]
    platforms = [str(p) for p in workspace.get("platforms") or []]
    out.os = "windows" if platforms and all(p.startswith("win") for p in platforms) else "linux"
    if len({p.split("-")[0] for p in platforms}) > 1:
        out.skipped.append(
            f"platforms {', '.join(platforms)}: a profile has one target; chose {out.os} "
            "(make one profile per target, extending this one)"
        )
    for name, spec in (data.get("dependencies") or {}).items():
        version, channel = _pixi_spec(spec)
        if channel is None and isinstance(spec, dict):
            out.skipped.append(f"dependencies.{name}: {spec}: only version and channel are read")
        full = f"{channel}::{name}" if channel else name
        _conda_dep(out, f"{full} {version}".strip() if version not in ("", "*") else full)
    for name, spec in (data.get("pypi-dependencies") or {}).items():
        if isinstance(spec, dict) and not ({"version", "extras"} >= set(spec)):
            out.skipped.append(
                f"pypi-dependencies.{name}: {spec}: no hash to lock (path, git, url)"
            )
            continue
        version, _ = _pixi_spec(spec)
        extras = spec.get("extras") if isinstance(spec, dict) else None
        base = f"{name}[{','.join(extras)}]" if extras else name
        _pip_line(out, base + ("" if version in ("", "*") else version), shown)
    for key, value in ((data.get("activation") or {}).get("env") or {}).items():
        out.variables[str(key)] = str(value)
    for table in ("tasks", "feature", "environments", "target", "system-requirements"):
        if table in data:
            out.skipped.append(f"[{table}]: a profile has no {table}")
    if any(_name(s) == "pip" for s in out.conda):
        out.conda = [s for s in out.conda if _name(s) != "pip"]
    if not out.conda and out.pip:
        out.skipped.append("no conda packages but python: the profile uses a venv")
        out.manager = "venv"
    return out


def _pixi_spec(spec: object) -> tuple[str, str | None]:
    """(version spec, channel) of a pixi dependency value."""
    if isinstance(spec, str):
        return spec.strip(), None
    if isinstance(spec, dict):
        return str(spec.get("version", "")).strip(), spec.get("channel")
    return "", None
