"""Read the frameworks' own metadata from PyPI into a snapshot (the network half of
``invoke refresh-compat``; :mod:`provisioner.compatdata.generate` is the pure half).

Per package, PyPI's JSON API (``https://pypi.org/pypi/<name>/json``) gives every
release's files: file names (the wheel tags), ``requires_python``, upload time and
yanked flag. ``Requires-Dist`` lives in each wheel's ``METADATA``: it is read from the
PEP 658 ``<wheel URL>.metadata`` file where the index serves one, otherwise from the
wheel itself with HTTP range requests (the zip's central directory, then the one member:
a few hundred KiB of a 500 MiB torch wheel), as pip's lazy wheel does. The wheel read
is the one that matters: Linux x86_64 for the newest CPython tag (torch's CUDA build is
named there), else Windows x86_64.

The snapshot keeps raw values only (file names, the specifier strings as written),
trimmed to what the generator reads.
"""

from __future__ import annotations

import datetime
import email.parser
import io
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

PYPI_JSON = "https://pypi.org/pypi/{name}/json"
TIMEOUT_S = 60.0
_BLOCK = 256 * 1024
_MAX_READ = 64 * 1024 * 1024  # a wheel's central directory and METADATA, never the wheel


@dataclass(frozen=True)
class Scope:
    """Which releases of one package the snapshot keeps, and whether their wheel
    metadata (Requires-Dist) is read."""

    name: str
    since: str = "0"  # the oldest release kept
    prereleases: bool = False  # DirectML packages publish only .dev releases
    wheel_metadata: bool = True
    # the oldest release whose wheel metadata is read (older ones: file names only, enough
    # for the Pythons and platforms `explain` names for "no matching distribution")
    metadata_since: str = "0"

    def reads_metadata(self, version: str) -> bool:
        return self.wheel_metadata and Version(version) >= Version(self.metadata_since)


# The frameworks the shipped profiles use, and NumPy (its Pythons per release); the 1.x
# releases of torch and tensorflow, and tensorflow-gpu, for the Pythons they published.
SCOPES: tuple[Scope, ...] = (
    Scope("torch", since="1.0", metadata_since="2.0"),
    Scope("tensorflow", since="1.0", metadata_since="2.0"),
    Scope("tensorflow-gpu", since="1.0", wheel_metadata=False),
    Scope("tensorflow-cpu", since="2.0"),
    Scope("tensorflow-directml", prereleases=True),
    Scope("tensorflow-directml-plugin", prereleases=True),
    Scope("torch-directml", prereleases=True),
    Scope("numpy", since="1.16", wheel_metadata=False),
)

Fetch = Callable[[str, Mapping[str, str]], bytes]


def http_get(url: str, headers: Mapping[str, str]) -> bytes:
    """GET ``url`` (a range when ``headers`` asks for one); bounded in time and size."""
    request = urllib.request.Request(
        url, headers={"User-Agent": "provision-refresh-compat", **headers}
    )
    context = ssl.create_default_context()
    with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as response:
        data: bytes = response.read(_MAX_READ + 1)
    if len(data) > _MAX_READ:
        raise ValueError(f"{url}: more than {_MAX_READ} bytes")
    return data


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file through HTTP range requests."""

    def __init__(self, url: str, size: int, fetch: Fetch) -> None:
        self._url, self._size, self._fetch = url, size, fetch
        self._pos = 0
        self._blocks: dict[int, bytes] = {}
        self.fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _block(self, index: int) -> bytes:
        if index not in self._blocks:
            start = index * _BLOCK
            end = min(self._size, start + _BLOCK) - 1
            self.fetched += end - start + 1
            if self.fetched > _MAX_READ:
                raise ValueError(f"{self._url}: reading the metadata took over {_MAX_READ} bytes")
            self._blocks[index] = self._fetch(self._url, {"Range": f"bytes={start}-{end}"})
        return self._blocks[index]

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        out = bytearray()
        while len(out) < want:
            index, offset = divmod(self._pos + len(out), _BLOCK)
            out += self._block(index)[offset : offset + want - len(out)]
        buffer[: len(out)] = out
        self._pos += len(out)
        return len(out)


def wheel_metadata(url: str, size: int, fetch: Fetch = http_get) -> tuple[str, str]:
    """(METADATA text, how it was read: "pep658" or "range") of the wheel at ``url``."""
    try:
        return fetch(url + ".metadata", {}).decode("utf-8"), "pep658"
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
    remote = _RangeFile(url, size, fetch)
    with zipfile.ZipFile(io.BufferedReader(remote, buffer_size=_BLOCK)) as wheel:
        names = [n for n in wheel.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise ValueError(f"{url}: {len(names)} .dist-info/METADATA files")
        return wheel.read(names[0]).decode("utf-8"), "range"


def _kept(version: str, scope: Scope) -> bool:
    try:
        v = Version(version)
    except InvalidVersion:
        return False
    return v >= Version(scope.since) and (scope.prereleases or not v.is_prerelease)


def _wheel_rank(filename: str) -> tuple[int, int]:
    """Which wheel's METADATA to read: Linux x86_64 first, then Windows x86_64, newest
    CPython tag within each; free-threaded (cp313t) builds last."""
    tags = filename[:-4].split("-")
    python, abi, platform = tags[-3], tags[-2], tags[-1]
    where = (
        2 if "linux" in platform and "x86_64" in platform else (1 if platform == "win_amd64" else 0)
    )
    minor = int(m.group(1)) if (m := re.fullmatch(r"cp3(\d+)", python)) else 0
    return where, minor - (100 if abi.endswith("t") else 0)


def metadata_fields(text: str) -> dict[str, Any]:
    message = email.parser.HeaderParser().parsestr(text)
    return {
        "Requires-Python": message.get("Requires-Python"),
        "Requires-Dist": message.get_all("Requires-Dist") or [],
    }


def package_snapshot(scope: Scope, fetch: Fetch = http_get) -> dict[str, Any]:
    """One package's releases in ``scope``: raw file records, and the chosen wheel's
    Requires-Python and Requires-Dist."""
    url = PYPI_JSON.format(name=scope.name)
    data = json.loads(fetch(url, {"Accept": "application/json"}))
    releases: dict[str, Any] = {}
    for version, files in data["releases"].items():
        if not files or not _kept(version, scope):
            continue
        records = [
            {
                "filename": f["filename"],
                "requires_python": f.get("requires_python"),
                "upload_time": f.get("upload_time"),
                "yanked": bool(f.get("yanked")),
            }
            for f in sorted(files, key=lambda f: str(f["filename"]))
        ]
        entry: dict[str, Any] = {"files": records}
        wheels = [f for f in files if str(f["filename"]).endswith(".whl")]
        if wheels and scope.reads_metadata(version):
            chosen = max(wheels, key=lambda f: _wheel_rank(str(f["filename"])))
            # PyPI's file URLs are absolute; a mirror may answer relative ones.
            wheel_url = urllib.parse.urljoin(url, str(chosen["url"]))
            text, via = wheel_metadata(wheel_url, int(chosen["size"]), fetch)
            entry["metadata"] = {"wheel": wheel_url, "read_via": via, **metadata_fields(text)}
        releases[version] = entry
    ordered = dict(sorted(releases.items(), key=lambda kv: Version(kv[0])))
    return {"json_url": url, "releases": ordered}


def snapshot(
    scopes: Iterable[Scope] = SCOPES,
    fetch: Fetch = http_get,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """The whole snapshot: what PyPI said about every package in ``scopes``, and when."""
    day = today or datetime.datetime.now(datetime.timezone.utc).date()
    packages = {s.name: {"scope": _scope_json(s), **package_snapshot(s, fetch)} for s in scopes}
    return {"read": day.isoformat(), "packages": packages}


def _scope_json(scope: Scope) -> dict[str, Any]:
    out: dict[str, Any] = {"since": scope.since, "prereleases": scope.prereleases}
    if scope.metadata_since != "0":
        out["metadata_since"] = scope.metadata_since
    return out


def dumps(snap: Mapping[str, Any]) -> str:
    """The snapshot as stable JSON text: mappings indented, each file record and each
    list of strings on one line (small, and a refresh's diff shows what changed)."""
    return _dump(snap, 0) + "\n"


def _dump(value: Any, depth: int) -> str:
    inline = not isinstance(value, (dict, list)) or (
        isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value)
    )
    if inline or (isinstance(value, dict) and "filename" in value):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, list):
        items = [inner + _dump(v, depth + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    items = [f"{inner}{json.dumps(k)}: {_dump(v, depth + 1)}" for k, v in sorted(value.items())]
    return "{\n" + ",\n".join(items) + "\n" + pad + "}" if items else "{}"
