"""Every installed file of an environment checked against its package's record: the
conda part by ``conda-meta`` (``env/integrity.py``), the pip part by each distribution's
``RECORD`` (found with ``env/pip_part.py``). ``provision verify`` runs it before the
smoke test; an altered file fails the verify, naming the file and its package."""

from __future__ import annotations

from pathlib import Path

from provisioner.env.integrity import altered_files, conda_expectations, pip_expectations
from provisioner.env.pip_part import PIP_INSTALLERS, installed_distributions, site_packages


def files_at(prefix: Path, python: Path, manager: str) -> tuple[int, list[str]]:
    """Hash every installed file of the environment at ``prefix`` (``python`` its
    interpreter): conda ``paths_data``, and pip ``RECORD`` for the distributions pip
    owns (all of them in a venv); how many were checked and the altered ones, as
    ``pkg: path (why)``."""
    expected = list(conda_expectations(prefix)) if manager == "conda" else []
    site = site_packages(python)
    if site is not None:
        owns_all = manager != "conda"  # in a conda prefix conda owns the rest
        dists = installed_distributions(python, check_files=False).values()
        infos = [(d.name, Path(d.info)) for d in dists if owns_all or d.installer in PIP_INSTALLERS]
        expected += pip_expectations(site, infos)
    checked, altered = altered_files(expected)
    return checked, [a.describe() for a in altered]
