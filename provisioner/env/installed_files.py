"""Every installed file of an environment checked against what it must be: the conda
part by ``conda-meta`` (``env/integrity.py``), the pip part by the ``RECORD`` inside each
locked wheel, the wheel verified against the lock (``env/wheels.py``,
``env/expected.py``). ``provision verify`` runs it before the smoke test; an altered
file fails the verify, naming the file and its package."""

from __future__ import annotations

from pathlib import Path

from provisioner.env.expected import expected_files
from provisioner.env.integrity import altered_files
from provisioner.env.wheels import verified_wheels
from provisioner.errors import ProvisionError
from provisioner.lock import LockedPackage


def files_at(
    prefix: Path, python: Path, manager: str, pip_packages: tuple[LockedPackage, ...] = ()
) -> tuple[int, list[str]]:
    """Hash every installed file of the environment at ``prefix`` (``python`` its
    interpreter), the pip part against the wheels of ``pip_packages`` (a distribution
    without one is checked against its installed ``RECORD``); how many were checked and
    the altered ones, as ``pkg: path (why)``."""
    try:
        wheels = verified_wheels(pip_packages)
    except ProvisionError as e:  # offline with an empty store: say so, do not pass
        return 0, [f"pip: the locked wheels cannot be had to check against: {e.message}"]
    found = expected_files(prefix, python, manager, pip_packages, wheels)
    checked, altered = altered_files(found)
    return checked, [a.describe() for a in altered]
