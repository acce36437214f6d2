"""The environment backends by ``environment.manager``: a plain dict registry, as
pre-commit's ``all_languages.py``. Backends are imported on use: the conda one loads
py-rattler, which a venv apply never needs."""

from __future__ import annotations

from collections.abc import Callable

from provisioner.env import EnvBackend


def _conda_backend(python: str) -> EnvBackend:
    from provisioner.env.conda import CondaBackend

    return CondaBackend()  # the conda part brings its own Python (locked)


def _venv_backend(python: str) -> EnvBackend:
    from provisioner.env.venv import VenvBackend

    return VenvBackend(python)


# environment.manager -> a factory taking environment.python.
BACKENDS: dict[str, Callable[[str], EnvBackend]] = {
    "conda": _conda_backend,
    "venv": _venv_backend,
}
