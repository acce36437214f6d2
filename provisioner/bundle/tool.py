"""The tool a bundle carries: provision's own wheel and its runtime wheels for the target.

A conda profile needs no conda installer on the target because the bundle carries
provision itself (py-rattler links the conda packages) and uv (installs the pip part).
What is carried:

- provision's wheel, built from the running installation's package files (pure
  Python; fixed timestamps, so the same installation gives the same bytes);
- its runtime dependencies (``Requires-Dist`` without conda-lock, which only
  ``provision lock``/``render`` use), resolved by uv for the target platform and each
  host Python the bundle supports, pinned to the versions installed here (so the
  same installation bundles the same wheels), fetched and hash-checked;
- ``tool/requirements-X.Y.txt`` per Python: every wheel pinned with its sha256, for
  ``uv pip install --no-index --no-deps --require-hashes`` on the target.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

import provisioner
from provisioner import DISTRIBUTION
from provisioner.errors import ExternalFailure, ProvisionError
from provisioner.lock import LockedPackage
from provisioner.profile import ResolvedProfile

# Runtime requirements the target does not need: conda-lock writes lockfiles
# (`provision lock`) and ruamel.yaml edits profiles (`provision add/remove/init`), which
# a bundle never does.
NOT_CARRIED = frozenset({"conda-lock", "ruamel-yaml"})
TOOL_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def tool_pythons(resolved: ResolvedProfile, wanted: Sequence[str] = ()) -> tuple[str, ...]:
    """The host Pythons the carried tool supports: ``wanted``, else the profile's own
    Python for a venv profile (the target has it anyway, if it is 3.10 or newer), else
    3.10 to 3.13."""
    env = resolved.profile.environment
    if wanted:
        bad = [v for v in wanted if v not in TOOL_PYTHONS]
        if bad:
            raise ProvisionError(
                f"--tool-python {bad[0]}: provision runs on Python {', '.join(TOOL_PYTHONS)}",
                hint="pass one of those (the target's host Python)",
            )
        return tuple(dict.fromkeys(wanted))
    if env.manager.value == "venv" and env.python in TOOL_PYTHONS:
        return (env.python,)
    return TOOL_PYTHONS


def own_distribution() -> importlib.metadata.Distribution:
    """The installed distribution that provides the ``provisioner`` package:
    :data:`provisioner.DISTRIBUTION`, or, in an installation made before the rename,
    whatever name its metadata gives (``packages_distributions``)."""
    providers = importlib.metadata.packages_distributions().get("provisioner", [])
    for name in dict.fromkeys([DISTRIBUTION, *providers]):
        try:
            return importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise RuntimeError(f"{DISTRIBUTION} is not installed (no metadata for the running package)")


def own_name() -> str:
    """The normalized name provision is installed under (``provisioner-gpu``)."""
    return canonicalize_name(own_distribution().metadata["Name"] or DISTRIBUTION)


def runtime_requirements() -> list[str]:
    """provision's own runtime requirements (no extras), minus :data:`NOT_CARRIED`."""
    out = []
    for req in own_distribution().requires or []:
        name = re.split(r"[ ;<>=!~\[]", req, maxsplit=1)[0]
        if "extra ==" in req or canonicalize_name(name) in NOT_CARRIED:
            continue
        out.append(req)
    return out


def installed_pins() -> list[str]:
    """``name==version`` of every distribution installed beside provision (constraints)."""
    pins = {}
    own = own_name()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonicalize_name(name) != own:
            pins[canonicalize_name(name)] = f"{canonicalize_name(name)}=={dist.version}"
    return [pins[n] for n in sorted(pins)]


def resolve_tool(
    resolved: ResolvedProfile, platform: str, python: str
) -> tuple[LockedPackage, ...]:
    """The tool's runtime wheels for ``platform`` and host Python ``python``."""
    from provisioner.lock.pip_part import parse_pylock, uv_compile
    from provisioner.platforms import PYTHON_PLATFORM

    with tempfile.TemporaryDirectory(prefix="provision-bundle-") as tmp:
        constraints = Path(tmp) / "installed.txt"
        constraints.write_text("\n".join(installed_pins()) + "\n", encoding="utf-8")
        done = uv_compile(
            resolved.profile.environment,
            runtime_requirements(),
            python=python,
            python_platform=PYTHON_PLATFORM[platform],
            # as pip: the versions installed here may be on any index
            extra_args=("--index-strategy", "unsafe-best-match", "--constraint", str(constraints)),
        )
    if done.returncode != 0 or done.timed_out:
        lines = [ln.strip() for ln in (done.err or done.out).splitlines() if ln.strip()]
        cause = " ".join(lines)[:400] or f"uv exited {done.returncode}"
        raise ExternalFailure(
            f"cannot resolve provision's own wheels for {platform} / Python {python}: {cause}",
            hint="bundling fetches them once from pip's configured indexes (PyPI): check the "
            "network or the proxy, or pass --tool-python for the target's Python only",
        )
    packages = parse_pylock(done.out, platform)
    for p in packages:
        if not filename_of(p.url).endswith(".whl"):
            raise ExternalFailure(
                f"{p.name} {p.version} has no wheel for {platform} / Python {python} "
                f"(only {filename_of(p.url)}); the target could not install it offline",
                hint="pass --tool-python with a Python that has wheels for this platform",
            )
    return packages


def filename_of(url: str) -> str:
    from provisioner.env.artifacts import filename

    return filename(url)


def build_self_wheel(folder: Path) -> Path:
    """provision's own wheel, built from the running installation's package files."""
    dist = own_distribution()
    version = dist.version
    package = Path(provisioner.__file__).resolve().parent
    stem = f"{own_name().replace('-', '_')}-{version}"  # the wheel's normalized name
    info = f"{stem}.dist-info"
    files: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo"):
            continue
        files[f"provisioner/{rel.as_posix()}"] = path.read_bytes()
    # An editable or source checkout may expose an egg-info (PKG-INFO, same format).
    metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    if "\nName:" not in "\n" + metadata:
        raise RuntimeError("provision's installed metadata has no Name field")
    files[f"{info}/METADATA"] = metadata.encode()
    files[f"{info}/entry_points.txt"] = (dist.read_text("entry_points.txt") or "").encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: provision bundle\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, data)
    return target


def requirements_text(packages: Sequence[tuple[str, str, str]]) -> str:
    """``name==version --hash=sha256:...`` lines, sorted, for ``--require-hashes``."""
    lines = sorted(f"{n}=={v} --hash=sha256:{sha}" for n, v, sha in packages)
    return "\n".join(lines) + "\n"
