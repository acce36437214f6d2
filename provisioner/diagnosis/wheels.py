"""pip found no distribution: which Pythons and platforms the release does publish.

Reads the requirement pip could not satisfy ("Could not find a version that satisfies
the requirement torch==1.13.1+cu117 (from versions: 2.0.0, ...)"), the versions pip
could see (they are the ones with wheels for this interpreter and platform), and the
Python and platform the log shows, then says what the release publishes according to
the compatibility data (``data/compat_pypi.json``: per release, the CPython versions
and platforms of its wheels, read from PyPI; :mod:`provisioner.compatdata.releases`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

from provisioner.diagnosis.base import finding
from provisioner.logscan import Hit
from provisioner.signatures import Match

ANCHORS = (
    "satisfies the requirement",
    "no matching distribution found for",
    "is not a supported wheel on this platform",
)
PLATFORM_NAMES = {
    "linux-64": "Linux x86_64",
    "linux-aarch64": "Linux aarch64",
    "linux-i686": "Linux x86 (32-bit)",
    "osx-64": "macOS x86_64",
    "osx-arm64": "macOS arm64",
    "osx-universal2": "macOS universal2",
    "win-64": "Windows x64",
    "win-32": "Windows x86 (32-bit)",
    "win-arm64": "Windows arm64",
}
SOURCES = ("https://packaging.python.org/en/latest/specifications/platform-compatibility-tags/",)

# the requirement ends at a space, "(", or a quote the post put around the message
_REQ = re.compile(
    r"satisfies\s+the\s+requirement\s+([A-Za-z0-9_.\-\[\]]+)([^\s(\"'`\u2019\u201d]*)", re.I
)
_NOMATCH = re.compile(
    r"No\s+matching\s+distribution\s+found\s+for\s+([A-Za-z0-9_.\-\[\]]+)"
    r"([^\s(\"'`\u2019\u201d]*)",
    re.I,
)
_VERSIONS = re.compile(r"\(from\s+versions:?\s*([^)]*)\)", re.I)
_PYTHON = [
    re.compile(r"\bPython\s+(3\.\d+)\.\d+"),
    re.compile(r"\(python\s+(3\.\d+)\)", re.I),
    re.compile(r"python(3\.\d+)[/\\]site-packages", re.I),
    re.compile(r"Versions/(3\.\d+)/"),
    re.compile(r"\bcp3(\d+)\b"),
]


@dataclass(frozen=True)
class Release:
    """What one release publishes: the CPython versions and platforms of its wheels."""

    version: str
    pythons: tuple[str, ...]
    platforms: tuple[str, ...]
    source: str
    pythons_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def pythons_for(self, platform: str | None) -> tuple[str, ...]:
        if platform is None or platform not in self.platforms:
            return self.pythons
        return self.pythons_on.get(platform, self.pythons)


def releases(package: str) -> dict[str, Release]:
    """Every release of ``package`` the compatibility data knows, oldest first."""
    from provisioner.compatdata import releases as compat

    return {
        r.version: Release(r.version, r.pythons, r.platforms, r.source, r.pythons_on)
        for r in compat.releases(package)
    }


def _python_of(texts: list[str]) -> str | None:
    for text in texts:
        for pattern in _PYTHON:
            m = pattern.search(text)
            if m:
                got = m.group(1)
                return got if got.startswith("3.") else f"3.{got}"
    return None


def _all_newer(versions: list[str], pinned: str) -> bool:
    """Every version pip offers is newer than ``pinned`` (local tags ignored)."""
    try:
        pin = Version(pinned)
        return all(Version(v.split("+")[0]) > pin for v in versions)
    except InvalidVersion:
        return False


def _previous(python: str) -> str:
    """The Python before ``python`` ("3.11" -> "Python 3.10 or older")."""
    major, minor = python.split(".")
    return f"Python {major}.{int(minor) - 1} or older" if int(minor) > 0 else "an older Python"


def _platform_of(texts: list[str]) -> tuple[str | None, str | None]:
    """Where the log ran: a label ("Windows") and, where the log says enough, the conda
    platform of its wheels ("win-64"; macOS without its architecture: None)."""
    joined = "\n".join(texts)
    if re.search(r"[A-Za-z]:\\|\.exe\b|win_amd64|win32|\bMSC v\.", joined):
        bits32 = re.search(r"\b32 bit\b|\bwin32\b", joined) and "64 bit" not in joined
        return "Windows", "win-32" if bits32 else "win-64"
    if re.search(r"/Library/Frameworks|macosx|darwin", joined, re.I):
        arm = re.search(r"\barm64\b", joined)
        return "macOS", "osx-arm64" if arm else None
    if re.search(r"(?:^|[\s'\"(])/(?:usr|home|opt)/|manylinux|linux_x86_64", joined):
        return "Linux", "linux-aarch64" if "aarch64" in joined else "linux-64"
    return None, None


def _nearest(python: str, pythons: tuple[str, ...]) -> str:
    """The published Python nearest ``python`` (the older one on a tie)."""
    minor = int(python.split(".")[1])
    return min(pythons, key=lambda p: (abs(int(p.split(".")[1]) - minor), p > python))


def _published_fix(
    package: str, pinned: str, release: Release, python: str | None, on: str | None, here: str
) -> tuple[str, str]:
    """What ``release`` publishes, against the Python and platform the log shows."""
    pys = release.pythons_for(on)
    where = PLATFORM_NAMES.get(on, on) if on in release.platforms and on else None
    listed = ", ".join(pys)
    wheels = f"{where} wheels" if where else "wheels"
    meaning = (
        f"pip found no wheel of {package} {pinned} for {here}: that release publishes "
        f"{wheels} for CPython {listed} only"
        + ("" if where else f" (on {_platforms(release)})")
        + "."
    )
    if python and python not in pys:
        fix = (
            f"Use Python {_nearest(python, pys)} for {package} {pinned} (it publishes {wheels} "
            f"for CPython {listed}, not {python}; environment.python), or a {package} release "
            f"that publishes wheels for Python {python}"
        )
    elif python:
        meaning += f" Python {python} is among them, so the platform is what differs."
        fix = (
            f"Use one of the platforms {package} {pinned} publishes wheels for "
            f"({_platforms(release)}) with Python {python} (a 64-bit Python), or a {package} "
            "release that publishes wheels for this platform"
        )
    else:
        fix = (
            f"Use a Python {package} {pinned} publishes wheels for (CPython {listed}; "
            f"environment.python) on one of {_platforms(release)}, or a {package} release "
            "that publishes wheels for this Python and platform"
        )
    return meaning, fix


def _platforms(release: Release) -> str:
    return ", ".join(PLATFORM_NAMES.get(p, p) for p in release.platforms)


class Wheels:
    """The "no matching distribution" family, for any package."""

    anchors: tuple[str, ...] = ANCHORS

    def __init__(self) -> None:
        self._first: tuple[int, str, str, str, list[str], list[str]] | None = None

    def observe(self, hit: Hit, low: str) -> None:
        if self._first is not None:
            return
        m = _REQ.search(hit.text) or _NOMATCH.search(hit.text)
        if m is None:
            return
        window = [*hit.before, hit.text, *hit.after]
        joined = " ".join([hit.text, *hit.after])
        vm = _VERSIONS.search(joined)
        listed = vm.group(1).split(",") if vm else []
        versions = [v.strip() for v in listed if v.strip() and v.strip().lower() != "none"]
        spec = m.group(2).rstrip(".,;:")
        self._first = (hit.number, hit.text, m.group(1), spec, versions, window)

    def findings(self) -> list[Match]:
        if self._first is None:
            return []
        line, text, name, spec, versions, window = self._first
        package = re.sub(r"\[.*\]", "", name).lower()
        python = _python_of(window)
        platform, on = _platform_of(window)
        pinned = spec[2:].split("+")[0] if spec.startswith("==") else None
        local = "+" in spec
        known = releases(package)
        here = f"Python {python}" if python else "this Python"
        if platform:
            here += f" on {platform}"
        meaning, advice = self._explain(package, spec, pinned, versions, known, python, here, on)
        if local:
            advice += (
                f" Versions with a local tag ({spec[spec.index('+') :]}) exist only on the "
                "framework's own index (e.g. https://download.pytorch.org/whl/): pass it "
                "with --index-url."
            )
        sources = [r.source for r in known.values() if r.source][-1:] or list(SOURCES)
        return [
            finding(
                id="pip.no-wheel",
                line=line,
                excerpt=text,
                meaning=meaning,
                fix=advice,
                sources=sources,
            )
        ]

    @staticmethod
    def _explain(
        package: str,
        spec: str,
        pinned: str | None,
        versions: list[str],
        known: dict[str, Release],
        python: str | None,
        here: str,
        on: str | None = None,
    ) -> tuple[str, str]:
        what = f"{package}{spec}"
        offered = f"{versions[0]} to {versions[-1]}" if versions else ""
        release = known.get(pinned) if pinned else None
        if release is not None and pinned is not None:
            meaning, fix = _published_fix(package, pinned, release, python, on, here)
            if python is None and versions and _all_newer(versions, pinned):
                # the log does not say which Python: what pip offers is the concrete choice
                listed = ", ".join(release.pythons_for(on))
                return meaning, (
                    f"Use {package} {versions[0]} or newer (what pip offers for this Python), "
                    f"or a Python {package} {pinned} publishes wheels for (CPython {listed}; "
                    "environment.python)."
                )
            fix += f" (pip sees {offered} here)." if offered else "."
            return meaning, fix
        newest = list(known.values())[-1] if known else None
        if pinned and not versions:
            oldest = next(iter(known.values()), None)
            meaning = f"pip found no wheel of {package} {pinned} for {here}."
            fix = (
                f"Use the Python and platform {package} {pinned} was published for "
                f"(`pip download '{package}=={pinned}' --no-deps --python-version X.Y` "
                "tells; old releases need an old Python), or a newer release that "
                "publishes wheels for this Python"
            )
            if oldest is not None and newest is not None:
                fix += (
                    f" (the compatibility data covers {package} {oldest.version} to "
                    f"{newest.version}, not {pinned})"
                )
            return meaning, fix + "."
        if pinned and versions and _all_newer(versions, pinned):
            # every release pip offers for this interpreter is newer than the pin: the
            # pinned release predates this Python (or platform)
            meaning = (
                f"{package} {pinned} has no wheel for {here}: every {package} pip offers for "
                f"it ({offered}) is newer, so {pinned} predates this Python (or platform)."
            )
            newer = f"{package} {versions[0]} or newer (what pip offers for this Python)"
            if python is None:  # the log does not say which Python: the release is concrete
                fix = f"Use {newer}, or an older Python for {package} {pinned}."
            else:
                fix = (
                    f"Use {_previous(python)} for {package} {pinned} (environment.python; "
                    f"`pip download '{package}=={pinned}' --no-deps --python-version X.Y` "
                    f"confirms), or {newer}."
                )
            return meaning, fix
        if versions:
            meaning = (
                f"None of the {package} versions pip can install here ({offered}: the ones "
                f"with a wheel for {here}) satisfies {what}."
            )
            fix = (
                f"Pick a version pip offers here ({offered}), or use the Python and platform "
                f"{what} was published for (`pip download '{what}' --no-deps "
                "--python-version X.Y` tells), e.g. an older Python for an old release, or "
                "a newer release of the package for a new Python."
            )
            return meaning, fix
        meaning = f"No release of {package} has a wheel pip can use for {here}"
        if newest is not None:
            meaning += (
                f"; its newest release ({newest.version}) publishes wheels for CPython "
                f"{', '.join(newest.pythons)} on {_platforms(newest)}"
            )
        meaning += "."
        fix = "Use a 64-bit CPython that the package publishes wheels for"
        if newest is not None:
            fix += f" ({', '.join(newest.pythons)} for {package} {newest.version})"
        fix += (
            " in environment.python; a 32-bit Python, or one newer than the package's "
            "releases, sees no wheel at all."
        )
        return meaning, fix
