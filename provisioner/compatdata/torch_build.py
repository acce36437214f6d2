"""Which torch build a profile's pip part installs, and so which CUDA it is built for.

PyPI's plain ``torch`` on Linux x86_64 is a CUDA build; its CUDA comes from its
Requires-Dist (the release data). A ``+cpu``/``+cu126`` local version, or PyTorch's own
index (``https://download.pytorch.org/whl/cu126``, ``.../whl/cpu``) among the profile's
indexes, names the build instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from provisioner.compatdata import releases

_LOCAL = re.compile(r"^(cpu|cu(\d+))$")
_PYTORCH_INDEX = re.compile(r"download\.pytorch\.org/whl/(cpu|cu\d+)/?$")


@dataclass(frozen=True)
class TorchBuild:
    """The torch a profile installs: its version, its CUDA (None: a CPU build) and where
    that was read from."""

    version: str
    cuda: str | None
    source: str
    newest_of: str | None = None  # the requirement, when it allows more than one release


def _cuda_of_label(label: str) -> str | None:
    """``cu126`` -> ``12.6``, ``cu130`` -> ``13.0``, ``cpu`` -> None."""
    m = _LOCAL.match(label)
    if not m or not m.group(2):
        return None
    digits = m.group(2)
    return f"{digits[:-1]}.{digits[-1]}"


def torch_build(spec: str, index_urls: Sequence[str] = ()) -> TorchBuild | None:
    """The build ``spec`` (a pip entry naming torch) installs; None when it cannot be told
    (an unknown release, a URL requirement)."""
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return None
    pins = [s.version for s in req.specifier if s.operator in ("==", "===")]
    local = pins[0].split("+", 1)[1] if pins and "+" in pins[0] else None
    if local is not None and _LOCAL.match(local):
        version = pins[0].split("+")[0]
        return TorchBuild(version, _cuda_of_label(local), f"the local version +{local}")
    allowed = releases.allowed(spec)
    if not allowed:
        return None
    newest = allowed[-1]
    newest_of = str(req) if len(allowed) > 1 else None
    for url in index_urls:
        m = _PYTORCH_INDEX.search(url.rstrip("/") + "/")
        if m:
            return TorchBuild(newest.version, _cuda_of_label(m.group(1)), url, newest_of)
    if newest.cuda is None:
        return None
    return TorchBuild(newest.version, newest.cuda, newest.source, newest_of)
