"""Real local pip sources for tests: hand-built wheels, a PEP 503 simple index
(``file://``) and a find-links folder, the shapes pip and uv read."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from provisioner.lock import LockedPackage

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "tests"


@dataclass(frozen=True)
class Wheel:
    """One wheel: ``name-version-tag.whl`` with METADATA (and Requires-Dist) and a module."""

    name: str
    version: str
    tag: str = "py3-none-any"
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    single_module: bool = False  # ``name.py`` (as six ships) instead of ``name/__init__.py``
    # more files, by path in the wheel (``NAME-VER.data/scripts/x``, ``.../entry_points.txt``)
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-{self.tag}.whl"


def build_wheel(wheel: Wheel, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{wheel.name.replace('-', '_')}-{wheel.version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {wheel.name}", f"Version: {wheel.version}"]
    if wheel.requires_python:
        metadata.append(f"Requires-Python: {wheel.requires_python}")
    metadata += [f"Requires-Dist: {r}" for r in wheel.requires]
    pure = wheel.tag.endswith("-none-any")
    module = wheel.name.replace("-", "_")
    files = {
        f"{module}.py" if wheel.single_module else f"{module}/__init__.py": (
            f"__version__ = {wheel.version!r}\n"
        ),
        f"{dist}/METADATA": "\n".join(metadata) + "\n\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: provision-tests\n"
        f"Root-Is-Purelib: {'true' if pure else 'false'}\nTag: {wheel.tag}\n",
        **dict(wheel.extra),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    target = folder / wheel.filename
    with zipfile.ZipFile(target, "w") as zf:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            zf.writestr(info, text)
    return target


def build_simple_index(root: Path, wheels: Iterable[Wheel]) -> Path:
    """``root/files/*.whl`` and ``root/simple/<name>/index.html``; return ``root/simple``."""
    by_name: dict[str, list[Path]] = {}
    for wheel in wheels:
        path = build_wheel(wheel, root / "files")
        by_name.setdefault(wheel.name.lower(), []).append(path)
    simple = root / "simple"
    for name, paths in by_name.items():
        links = "".join(
            f'<a href="../../files/{p.name}#sha256={hashlib.sha256(p.read_bytes()).hexdigest()}">'
            f"{p.name}</a>\n"
            for p in sorted(paths)
        )
        (simple / name).mkdir(parents=True, exist_ok=True)
        (simple / name / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")
    names = "".join(f'<a href="{n}/">{n}</a>\n' for n in sorted(by_name))
    (simple / "index.html").write_text(f"<html><body>\n{names}</body></html>\n")
    return simple


# Small pure-Python distributions under the names and versions of real ones (built
# here, so no test needs a PyPI mirror): what the pip-part, venv, bootstrap and apply
# tests install.
SMALL_SET = (
    Wheel("six", "1.17.0", "py2.py3-none-any", single_module=True),
    Wheel("iniconfig", "2.3.0"),
    Wheel("tabulate", "0.8.10"),
    Wheel("tabulate", "0.10.0"),
)


@cache
def small_index() -> Path:
    """``SMALL_SET`` as a ``file://`` simple index (its ``simple`` folder), built once per
    content under ``.cache/tests`` (in a partial folder, renamed when complete)."""
    key = hashlib.sha256(repr(SMALL_SET).encode()).hexdigest()[:12]
    root = CACHE / f"small-index-{key}"
    if not (root / "simple" / "index.html").is_file():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        build_simple_index(partial, SMALL_SET)
        shutil.rmtree(root, ignore_errors=True)
        partial.rename(root)
    return root / "simple"


def small_package(name: str, version: str, platform: str = "linux-64") -> LockedPackage:
    """A locked pip entry for a wheel of ``small_index()``, with its sha256 from the index."""
    simple = small_index()
    index = (simple / name / "index.html").read_text()
    m = re.search(
        rf'href="\.\./\.\./(files/{re.escape(name)}-{re.escape(version)}-[^"#]+)#sha256=(\w+)"',
        index,
    )
    if m is None:
        raise LookupError(f"{name} {version} is not in SMALL_SET")
    return LockedPackage("pip", name, version, platform, (simple.parent / m[1]).as_uri(), m[2])
