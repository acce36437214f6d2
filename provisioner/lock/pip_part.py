"""Resolve the pip part of a profile with uv, for the target's platform and Python.

``uv pip compile --format pylock.toml --python-platform P --python-version X.Y``
resolves for another platform and Python (Windows + 3.7 from Linux works) and
records one URL and sha256 per package; we keep one artifact per package: the
wheel uv picked for that platform, or the sdist when no wheel exists.

uv ignores pip's configuration, so :mod:`provisioner.lock.pipconfig` translates
it into uv flags: the profile's ``index_url``/``extra_index_urls``/``find_links``
first, then ``PIP_*`` variables, then pip's config files.

pip considers every configured index; uv's default (``first-index``) takes a
package only from the first index that has any version of it, so a pin that a local
mirror lacks (``gast==0.2.2``) cannot be found on PyPI behind it.
``environment.index_strategy`` (default ``unsafe-first-match``: every index in order,
the first with a fitting version wins) is passed as ``--index-strategy``, so a lock
finds what pip finds while preferring the indexes in their configured order.
find-links wheels are merged with every index either way, so a local
``torch-2.13.0+cpu`` wheel wins over an index's CUDA build of 2.13.0 (``+cpu`` sorts
above the bare version), and no nvidia-* wheels are pulled in.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from provisioner import platforms, process
from provisioner.errors import ExternalFailure, ProvisionError
from provisioner.lock import LockedPackage, Preferences
from provisioner.lock.inputs import lock_constraints
from provisioner.lock.pipconfig import effective_settings, supplied_by_find_links, uv_index_args
from provisioner.profile import ResolvedProfile
from provisioner.profile.model import Environment
from provisioner.uvbin import uv_executable

RESOLVE_TIMEOUT_S = 600.0
# conda package names whose PyPI name differs (for the conda-provided constraints).
CONDA_TO_PYPI: dict[str, str] = {
    "pytorch": "torch",
    "py-opencv": "opencv-python",
    "tensorflow-base": "tensorflow",
    "matplotlib-base": "matplotlib",
    "msgpack-python": "msgpack",
    "pytables": "tables",
}


def conda_provided(conda_packages: Sequence[LockedPackage]) -> dict[str, str]:
    """PyPI name -> version of the Python libraries the conda part installs (those that
    depend on ``python``), so pip does not install a second copy over them."""
    from packaging.version import InvalidVersion, Version

    out: dict[str, str] = {}
    for pkg in conda_packages:
        if pkg.name == "python" or not any(
            d.split(" ", 1)[0] == "python" for d in pkg.dependencies
        ):
            continue
        try:
            Version(pkg.version)
        except InvalidVersion:
            continue  # not a PEP 440 version: pip could not pin it anyway
        out[canonicalize_name(CONDA_TO_PYPI.get(pkg.name, pkg.name))] = pkg.version
    return out


def resolve_pip(
    resolved: ResolvedProfile,
    platform: str,
    conda_packages: Sequence[LockedPackage] = (),
    prefer: Preferences | None = None,
) -> tuple[LockedPackage, ...]:
    """Resolve ``environment.pip`` for ``platform`` and ``environment.python``; sorted by name.

    Python libraries the conda part already installs (``conda_packages``) are pinned for
    uv as constraints and left out of the pip part, as conda-lock does: the pip part
    must agree with them instead of overwriting them. ``prefer``'s kept pip packages are
    written as uv's existing output (``-o pylock.toml``), which uv keeps where it can."""
    env = resolved.profile.environment
    if not env.pip:
        return ()
    python_platform = platforms.python_platform(platform)
    if python_platform is None:
        raise ProvisionError(f"cannot lock pip requirements for platform {platform!r}")
    provided = conda_provided(conda_packages)
    with tempfile.TemporaryDirectory(prefix="provision-lock-") as tmp:
        constraints = Path(tmp) / "conda-provided.txt"
        pinned = [f"{n}=={v}" for n, v in sorted(provided.items())]
        constraints.write_text("".join(f"{c}\n" for c in [*pinned, *lock_constraints(resolved)]))
        args = ["--constraint", str(constraints)]
        kept = prefer.kept(platform, "pip") if prefer else ()
        output = Path(tmp) / "pylock.toml" if kept else None
        if output is not None:
            output.write_text(preferences_pylock(kept), encoding="utf-8")
        try:
            packages = _compile(resolved, platform, python_platform, args, output)
        except ExternalFailure as e:
            named = [f"{n}=={v}" for n, v in sorted(provided.items()) if n in e.message.lower()]
            if named:
                e.message += f" (pinned by the conda part: {', '.join(named)})"
                e.hint = "make environment.pip agree with environment.conda, or move the " + (
                    "package from environment.conda to environment.pip"
                )
            raise
    return tuple(p for p in packages if p.name not in provided)


def preferences_pylock(kept: Sequence[LockedPackage]) -> str:
    """A minimal PEP 751 ``pylock.toml`` naming the versions to keep: uv reads an existing
    output file as preferences (as ``uv pip compile -o`` keeps a requirements file's pins)."""
    lines = ['lock-version = "1.0"', 'created-by = "provision"']
    for p in sorted(kept, key=lambda p: p.name):
        lines += ["", "[[packages]]", f'name = "{p.name}"', f'version = "{p.version}"']
    return "\n".join(lines) + "\n"


def uv_compile(
    env: Environment,
    requirements: Sequence[str],
    *,
    python: str,
    python_platform: str,
    extra_args: Sequence[str] = (),
    cwd: Path | None = None,
) -> process.Completed:
    """``uv pip compile`` of ``requirements`` into a ``pylock.toml`` for one platform and
    Python, with pip's settings translated for uv and the profile's proxy (not checked)."""
    index_args, uv_env = uv_index_args(env)
    with tempfile.TemporaryDirectory(prefix="provision-uv-") as tmp:
        source = _requirements_source(env, requirements, Path(tmp))
        return _run_compile(
            env, requirements, source, index_args, uv_env, python, python_platform, extra_args, cwd
        )


def _requirements_source(env: Environment, requirements: Sequence[str], folder: Path) -> str:
    """``-`` (the requirements on stdin), or a ``pyproject.toml`` that routes each package of
    ``environment.package_indexes`` to its own index (uv's explicit index and sources: the
    one way ``uv pip compile`` takes an index for one package). A package whose wheel
    pip's own find-links already supply keeps to them, as pip would, so a machine whose pip
    config holds the CPU torch never asks PyTorch's index."""
    find_links = effective_settings(env).find_links
    routed = {
        name: url
        for name, url in env.package_indexes.items()
        if not supplied_by_find_links(name, requirements, find_links)
    }
    if not routed:
        return "-"
    lines = [
        "[project]",
        'name = "provision-lock"',
        'version = "0"',
        f"dependencies = {json.dumps(list(requirements))}",
        "[tool.uv.sources]",
        *(
            f"{json.dumps(n)} = {{ index = {json.dumps(f'pkg-{i}')} }}"
            for i, n in enumerate(routed)
        ),
    ]
    for i, url in enumerate(routed.values()):
        lines += ["[[tool.uv.index]]", f'name = "pkg-{i}"', f"url = {json.dumps(url)}"]
        lines.append("explicit = true")
    path = folder / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _run_compile(
    env: Environment,
    requirements: Sequence[str],
    source: str,
    index_args: list[str],
    uv_env: dict[str, str],
    python: str,
    python_platform: str,
    extra_args: Sequence[str],
    cwd: Path | None,
) -> process.Completed:
    argv: list[str] = [
        uv_executable(),
        "pip",
        "compile",
        source,
        "--format",
        "pylock.toml",
        "--no-header",
        "--quiet",
        "--python-version",
        python,
        "--python-platform",
        python_platform,
        *index_args,
        *extra_args,
    ]
    if "--index-strategy" not in extra_args:  # the caller's choice wins (uv takes one)
        argv += ["--index-strategy", env.index_strategy.value]
    child_env = {**os.environ, **uv_env}
    if env.proxy:
        child_env.update(HTTPS_PROXY=env.proxy, HTTP_PROXY=env.proxy)
    return process.run(
        argv,
        stdin="\n".join(requirements).encode() + b"\n" if source == "-" else b"",
        env=child_env,
        timeout=RESOLVE_TIMEOUT_S,
        check=False,
        cwd=cwd,
    )


def _compile(
    resolved: ResolvedProfile,
    platform: str,
    python_platform: str,
    extra_args: list[str],
    output: Path | None = None,
) -> tuple[LockedPackage, ...]:
    """uv's resolution; with ``output`` (a pylock.toml of preferences) uv reads it first
    and writes the result there."""
    env = resolved.profile.environment
    if output is not None:
        extra_args = [*extra_args, "--output-file", str(output)]
    result = uv_compile(
        env,
        env.pip,
        python=env.python,
        python_platform=python_platform,
        extra_args=extra_args,
        cwd=resolved.path.resolve().parent,
    )
    if result.returncode != 0 or result.timed_out:
        raise _resolve_error(result.err or result.out, platform, env.python)
    text = output.read_text(encoding="utf-8") if output is not None else result.out
    return parse_pylock(text, platform)


def parse_pylock(text: str, platform: str) -> tuple[LockedPackage, ...]:
    """LockedPackages (manager pip) from a PEP 751 ``pylock.toml`` written by uv."""
    data = _load_toml(text)
    out: list[LockedPackage] = []
    for pkg in data.get("packages", []):
        artifact = _artifact(pkg)
        if artifact is None:
            raise ProvisionError(
                f"pip requirement {pkg.get('name')!r} resolved to a source without a hash "
                "(a VCS or local directory); lock it from an index or a wheel file instead"
            )
        url, sha256 = artifact
        out.append(
            LockedPackage(
                manager="pip",
                name=canonicalize_name(str(pkg["name"])),
                version=str(pkg["version"]),
                platform=platform,
                url=url,
                sha256=sha256,
                dependencies=tuple(
                    str(d) for d in pkg.get("dependencies", ()) if isinstance(d, str)
                ),
            )
        )
    return tuple(sorted(out, key=lambda p: p.name))


def _load_toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomlkit  # Python 3.10: conda-lock's dependency reads TOML too

    data: dict[str, Any] = tomlkit.loads(text).unwrap()
    return data


def _artifact(pkg: dict[str, Any]) -> tuple[str, str] | None:
    for candidate in [*pkg.get("wheels", []), pkg.get("sdist") or {}, pkg.get("archive") or {}]:
        url = candidate.get("url") or (
            Path(candidate["path"]).resolve().as_uri() if candidate.get("path") else None
        )
        sha = (candidate.get("hashes") or {}).get("sha256")
        if url and sha:
            return str(url), str(sha)
    return None


def _resolve_error(stderr: str, platform: str, python: str) -> ProvisionError:
    """uv's failure as one line: unreachable index, offline without a cache, or no solution."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    text = " ".join(lines)
    where = f"pip requirements for {platform} / Python {python}"
    first_hint = next((i for i, ln in enumerate(lines) if ln.startswith("hint:")), len(lines))
    causes = [ln.removeprefix("cause:").strip() for ln in lines[:first_hint]]
    cause = _short(" ".join(causes[1:] or causes))
    # uv's hints (from the first ``hint:`` line on) often name the fix: keep them.
    uv_hint = _short(" ".join(lines[first_hint:]), 700)
    if re.search(
        r"error sending request|dns error|failed to fetch|connection refused|timed out|"
        r"tcp connect|failed to connect|proxy",
        text,
        re.I,
    ):
        return ExternalFailure(
            f"cannot reach the pip index while resolving {where}: {_short(text)}",
            hint="check the network, environment.index_url/extra_index_urls or "
            "environment.proxy (pip's own config is translated for uv)",
        )
    if re.search(r"network (connectivity )?(is|was) disabled|not found in the cache", text, re.I):
        return ExternalFailure(
            f"cannot resolve {where} offline: {cause}",
            hint="uv is offline (UV_OFFLINE or --offline) and the cache lacks these packages: "
            "lock once with the network, or check the names and pins in environment.pip",
        )
    fix = (
        "set environment.index_strategy: unsafe-best-match if every index is trusted, "
        "or move the wanted version to the first index"
        if "index-strategy" in uv_hint
        else "check the names and pins in environment.pip against environment.python "
        "and the target platform (wheels must exist for it)"
    )
    return ExternalFailure(
        f"cannot resolve {where}: {cause}" + (f" ({uv_hint})" if uv_hint else ""), hint=fix
    )


def _short(text: str, limit: int = 500) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
