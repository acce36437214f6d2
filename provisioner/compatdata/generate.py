"""The compatibility data, generated from a PyPI metadata snapshot (a pure function).

``generate(snapshot)`` reads only the snapshot (:mod:`provisioner.compatdata.pypi`
writes it) and returns the text of ``provisioner/data/compat_pypi.json``: one row per
package release with what the compatibility rules and ``explain`` read, each with its
source URL and the date PyPI was read. CI regenerates the file from the committed
snapshot and compares bytes (``tests/compatdata``), so the table never drifts from
the metadata it cites.

What each row holds, and where it comes from:

- ``pythons``: the CPython minor versions with a wheel (``cp36`` tags; an ``abi3``
  wheel counts for its version and later, up to the newest tag any release has);
  for a release with only pure-Python wheels or an sdist, its ``Requires-Python``
  decides, read against the CPython minors the snapshot knows.
- ``platforms``: conda-style platforms of its wheels (``linux-64``, ``win-64``, ...;
  ``noarch`` for a pure-Python wheel); ``sdist`` when it also has a source archive.
- ``pythons_on``: per platform, the CPythons of its wheels where they differ from
  ``pythons`` (torch 1.13.1: 3.11 on Linux x86_64 only), for ``explain``'s "no matching
  distribution".
- ``cuda``: the CUDA build its Linux wheel depends on, from ``Requires-Dist``:
  ``cuda-toolkit[...]==13.0.2`` -> 13.0, ``nvidia-cuda-runtime-cu12==12.1.105`` -> 12.1.
- ``numpy``: its ``Requires-Dist`` on numpy, as written; ``numpy_abi: "1"`` when it
  ships compiled wheels, requires numpy, and every wheel was uploaded before NumPy
  2.0.0 was: an extension built then was built against NumPy 1.x, whose C ABI NumPy 2
  broke (https://numpy.org/doc/stable/dev/depending_on_numpy.html#numpy-2-abi-handling).
- ``pins``: its exact ``==`` requirements (``torch-directml`` -> ``torch``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

GENERATED = (
    "by `invoke refresh-compat` (or `invoke compat-data`, offline) from "
    "tests/data/compat/pypi_snapshot.json with provisioner/compatdata/generate.py: do not "
    "edit. One row per release: the CPython versions and platforms its wheels exist for, "
    "its CUDA build (torch), NumPy requirement and ABI, exact pins, and where it was read."
)

_CP_TAG = re.compile(r"cp3(\d+)")
_CUDA_RUNTIME = re.compile(r"nvidia-cuda-(runtime|nvrtc)-cu\d+")


def _platform(tag: str) -> str | None:
    """A wheel platform tag as a conda-style platform."""
    if tag == "any":
        return "noarch"
    if tag.startswith(("manylinux", "musllinux", "linux")):
        if tag.endswith("x86_64"):
            return "linux-64"
        if tag.endswith("aarch64"):
            return "linux-aarch64"
        return "linux-" + tag.rsplit("_", 1)[-1]
    if tag == "win_amd64":
        return "win-64"
    if tag == "win32":
        return "win-32"
    if tag == "win_arm64":
        return "win-arm64"
    if tag.startswith("macosx_"):
        if tag.endswith("arm64"):
            return "osx-arm64"
        if tag.endswith(("x86_64", "intel")):
            return "osx-64"
        if tag.endswith("universal2"):
            return "osx-universal2"
    return None


def _wheel_tags(filename: str) -> tuple[list[str], list[str], list[str]] | None:
    """(pythons, abis, platforms) of a wheel file name (compressed tag sets expanded)."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].split("-")
    if len(parts) < 5:
        return None
    return parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def _known_minors(snapshot: Mapping[str, Any]) -> list[int]:
    """Every CPython 3 minor version any wheel in the snapshot is tagged for."""
    found = set()
    for package in snapshot["packages"].values():
        for release in package["releases"].values():
            for f in release["files"]:
                tags = _wheel_tags(f["filename"])
                for py in tags[0] if tags else ():
                    if m := _CP_TAG.fullmatch(py):
                        found.add(int(m.group(1)))
    return sorted(found)


def _requires_python(
    files: list[Mapping[str, Any]], metadata: Mapping[str, Any] | None
) -> str | None:
    values = [f["requires_python"] for f in files if f.get("requires_python")]
    if values:
        return str(max(set(values), key=values.count))
    if metadata and metadata.get("Requires-Python"):
        return str(metadata["Requires-Python"])
    return None


def _cpythons(pythons: list[str], abis: list[str], minors: list[int]) -> set[int]:
    """The CPython 3 minors one wheel's tags are for."""
    if any(a.endswith("t") and a.startswith("cp") for a in abis):
        return set()  # free-threaded builds: a variant of a version listed anyway
    found: set[int] = set()
    for py in pythons:
        if m := _CP_TAG.fullmatch(py):
            low = int(m.group(1))
            found.update(n for n in minors if n >= low) if "abi3" in abis else found.add(low)
    return found


def _pythons(
    files: list[Mapping[str, Any]], requires_python: str | None, minors: list[int]
) -> list[str]:
    found: set[int] = set()
    pure = False
    for f in files:
        tags = _wheel_tags(f["filename"])
        if tags is None:
            pure = pure or not f["filename"].endswith(".whl")  # an sdist builds anywhere
            continue
        pythons, abis, _ = tags
        pure = pure or any(py.startswith("py3") for py in pythons)
        found |= _cpythons(pythons, abis, minors)
    if pure and not found:
        spec = _specifier(requires_python)
        found.update(n for n in minors if spec is None or spec.contains(f"3.{n}", prereleases=True))
    return [f"3.{n}" for n in sorted(found)]


def _pythons_on(
    files: list[Mapping[str, Any]], minors: list[int], union: list[str]
) -> dict[str, list[str]]:
    """Per platform, the CPythons of its wheels, where they differ from the release's
    whole set (torch 1.13.1: CPython 3.11 on Linux x86_64 only)."""
    on: dict[str, set[int]] = {}
    for f in files:
        if (tags := _wheel_tags(f["filename"])) is None:
            continue
        pythons, abis, tags_platform = tags
        for tag in tags_platform:
            if (platform := _platform(tag)) is not None and platform != "noarch":
                on.setdefault(platform, set()).update(_cpythons(pythons, abis, minors))
    return {
        p: [f"3.{n}" for n in sorted(pys)]
        for p, pys in sorted(on.items())
        if pys and [f"3.{n}" for n in sorted(pys)] != union
    }


def _specifier(text: str | None) -> SpecifierSet | None:
    if not text:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _requirements(metadata: Mapping[str, Any] | None) -> list[Requirement]:
    """Requires-Dist entries that apply to a plain install (no extra)."""
    out = []
    for line in (metadata or {}).get("Requires-Dist") or []:
        try:
            req = Requirement(str(line))
        except InvalidRequirement:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            continue
        out.append(req)
    return out


def _exact(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def _cuda(requirements: list[Requirement]) -> tuple[str, str] | None:
    """(CUDA major.minor, the requirement it was read from) of a torch-style wheel."""
    by_name: dict[str, Requirement] = {canonicalize_name(r.name): r for r in requirements}
    toolkit = by_name.get("cuda-toolkit")
    if toolkit is not None and (version := _exact(toolkit)):
        return ".".join(version.split(".")[:2]), str(toolkit)
    for kind in ("runtime", "nvrtc"):  # the runtime names the build; nvrtc matches it
        for name, req in sorted(by_name.items()):
            m = _CUDA_RUNTIME.fullmatch(name)
            if m and m.group(1) == kind and (version := _exact(req)):
                return ".".join(version.split(".")[:2]), str(req)
    return None


def _numpy2_date(snapshot: Mapping[str, Any]) -> str | None:
    numpy = snapshot["packages"].get("numpy", {}).get("releases", {}).get("2.0.0")
    if not numpy:
        return None
    return min(str(f["upload_time"]) for f in numpy["files"])


def _row(
    name: str,
    version: str,
    release: Mapping[str, Any],
    minors: list[int],
    numpy2: str | None,
    read: str,
) -> dict[str, Any]:
    files = list(release["files"])
    metadata = release.get("metadata")
    requires_python = _requires_python(files, metadata)
    platforms = sorted(
        {
            p
            for f in files
            if (t := _wheel_tags(f["filename"]))
            for tag in t[2]
            if (p := _platform(tag))
        }
    )
    uploads = sorted(str(f["upload_time"]) for f in files if f.get("upload_time"))
    row: dict[str, Any] = {
        "pythons": _pythons(files, requires_python, minors),
        "platforms": platforms,
    }
    if on := _pythons_on(files, minors, row["pythons"]):
        row["pythons_on"] = on
    if any(not f["filename"].endswith(".whl") for f in files):
        row["sdist"] = True
    if requires_python:
        row["requires_python"] = requires_python
    if all(f.get("yanked") for f in files):
        row["yanked"] = True
    requirements = _requirements(metadata)
    if cuda := _cuda(requirements):
        row["cuda"], row["cuda_from"] = cuda
    numpy = next((r for r in requirements if canonicalize_name(r.name) == "numpy"), None)
    if numpy is not None:
        row["numpy"] = str(numpy.specifier) or "any"
        wheels = [f for f in files if f["filename"].endswith(".whl")]
        compiled = any(platform != "noarch" for platform in platforms)
        if numpy2 and compiled and all(str(f["upload_time"]) < numpy2 for f in wheels):
            row["numpy_abi"] = "1"
    pins = {canonicalize_name(r.name): v for r in requirements if (v := _exact(r))}
    if pins:
        row["pins"] = dict(sorted(pins.items()))
    row["uploaded"] = uploads[0][:10] if uploads else None
    row["source"] = f"https://pypi.org/project/{name}/{version}/#files"
    if metadata:
        row["metadata"] = metadata["wheel"]
    row["read"] = read
    return row


def rows(snapshot: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """package -> version -> row, releases in version order."""
    minors = _known_minors(snapshot)
    numpy2 = _numpy2_date(snapshot)
    read = str(snapshot["read"])
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in sorted(snapshot["packages"]):
        releases = snapshot["packages"][name]["releases"]
        out[name] = {
            v: _row(name, v, releases[v], minors, numpy2, read)
            for v in sorted(releases, key=Version)
        }
    return out


def generate(snapshot: Mapping[str, Any]) -> str:
    """The text of ``compat_pypi.json``: one release per line (JSON reads in milliseconds
    on every validate; a refresh's diff shows the rows that changed)."""
    lines = [
        "{",
        f'"_generated": {json.dumps(GENERATED)},',
        f'"read": {json.dumps(str(snapshot["read"]))},',
        f'"numpy2_released": {json.dumps((_numpy2_date(snapshot) or "")[:10] or None)},',
        '"packages": {',
    ]
    table = rows(snapshot)
    for i, (name, releases) in enumerate(table.items()):
        lines.append(f" {json.dumps(name)}: {{")
        items = [f"  {json.dumps(v)}: {json.dumps(row)}" for v, row in releases.items()]
        lines.append(",\n".join(items))
        lines.append(" }" + ("," if i < len(table) - 1 else ""))
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"
