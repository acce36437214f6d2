"""Where the ``uv`` binary is: the one place that looks for it.

Why: uv ships as a dependency of provisioner (it locks the pip part and installs it),
so it is normally right beside us. Lookup order: the ``uv`` package's
``find_uv_bin()``, then beside ``sys.executable`` (a venv's ``bin``/``Scripts``), then
PATH. When none has it, one :class:`ExternalFailure` says so, with a fix.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from provisioner.errors import ExternalFailure
from provisioner.platforms import is_windows

UV_NAME = "uv.exe" if is_windows() else "uv"


def uv_executable() -> str:
    """The path of the uv binary to run; ExternalFailure (exit 1) when there is none."""
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):  # uv's UvNotFound is a FileNotFoundError
        pass
    beside = Path(sys.executable).parent / UV_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("uv")
    if found is not None:
        return found
    raise ExternalFailure(
        "uv was not found (not importable, not beside the Python running provision, "
        "not on PATH); provision locks and installs pip packages with it",
        hint="reinstall provisioner, which depends on uv, or `pip install uv` into the "
        "environment that runs provision",
    )
