"""The crash log of the one error boundary for bugs (the CLI's, and the bundle
bootstrap's): version, platform, argv and the traceback, in a file whose path the
one-line message names."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from provisioner import __version__
from provisioner.paths import log_dir


def write_crash_log(argv: Sequence[str] | None) -> Path:
    """Write version, platform, argv and the traceback to a log file; return its path."""
    # Imported here: every run imports this module, only a crash needs these; nothing
    # else `provision --help` loads imports them (~8 ms of its start-up).
    import platform
    import tempfile
    import traceback

    text = (
        f"provision {__version__}\n"
        f"python {sys.version.split()[0]} on {platform.platform()}\n"
        f"argv: {list(argv) if argv is not None else sys.argv[1:]}\n\n"
        f"{traceback.format_exc()}"
    )
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"provision-crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("<unwritable>")
