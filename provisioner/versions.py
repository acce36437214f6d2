"""Dotted version numbers, read and compared one way for the whole tool.

Every version provision compares is a dotted number: the host's kernel, Windows build
and GPU driver versions (``5.15.153.1``, ``19045``, ``31.0.101.4502``, ``546.33``: the
host parsers keep only the dotted number, ``DOTTED`` in ``provisioner.host.patterns``)
and the profile's Python and floors (``"3.10"``, ``"4.19.121"``, ``"495"``, validated as
1 to 4 numbers), compared by the judge, the compatibility table and the lock's
driver-to-CUDA table. ``check.sh`` (``version_ge``) and ``check.ps1`` (``Test-VersionAtLeast``)
read them the same way, so the three judges agree on every host.

The reading: fields split on ``.``; a field that is not all digits counts as 0 (so
trailing text or a pre-release tag never makes a version larger); a missing field
counts as 0 (``5.10`` equals ``5.10.0``). These are not PEP 440 versions: package pins
are matched by prefix elsewhere (``provisioner.profile.compat``), never ordered here.
"""

from __future__ import annotations


def numbers(version: object) -> tuple[int, ...]:
    """The fields of a dotted version as numbers; a field that is not all digits is 0."""
    return tuple(int(p) if p.isascii() and p.isdigit() else 0 for p in str(version).split("."))


def _padded(version: object, width: int) -> tuple[int, ...]:
    fields = numbers(version)
    return fields + (0,) * (width - len(fields))


def at_least(have: object, need: object) -> bool:
    """Whether ``have`` is ``need`` or newer, field by field (``5.10`` == ``5.10.0``)."""
    width = max(len(numbers(have)), len(numbers(need)))
    return _padded(have, width) >= _padded(need, width)


def minor_between(version: object, low: object, high: object) -> bool:
    """Whether ``version``'s major.minor lies in [low, high] by major.minor (``3.10.4``
    is within ``3.8``..``3.10``); the fields after the minor one are not compared."""
    got = _padded(version, 2)[:2]
    return _padded(low, 2)[:2] <= got <= _padded(high, 2)[:2]
