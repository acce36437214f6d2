"""The stat half of the drift check (:mod:`provisioner.apply.drift`): which recorded
files no longer have the stat the ledger holds for them.

Stdlib only, so that a no-op apply can run it as a script beside its host checks
(``python -I -S statscan.py LEDGER``, :func:`provisioner.apply.drift.start_scan`):
the stat of every file of a torch environment (~16,000) then costs the run no wall
time on a machine with a second core. It prints the sha256 of the ledger bytes it read
(the caller uses the answer only for the very ledger it read itself), the prefix they
name and the suspects.
The in-process check calls :func:`suspects` itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence

Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def suspects(
    paths: Sequence[str], stats: Sequence[int], prefix: str
) -> list[tuple[int, Stat | None]]:
    """Per recorded file whose lstat is not the recorded one: its index and its stat
    now (``None``: gone or unreadable). ``stats`` holds four numbers per path."""
    base = prefix + os.sep
    lstat = os.lstat
    found: list[tuple[int, Stat | None]] = []
    for n, path in enumerate(paths):  # the no-op's cost: keep this loop lean
        try:
            st = lstat(base + path)
        except (OSError, ValueError):
            found.append((n, None))
            continue
        j = 4 * n
        if (
            st.st_size != stats[j]
            or st.st_mtime_ns != stats[j + 1]
            or st.st_ctime_ns != stats[j + 2]
            or st.st_ino != stats[j + 3]
        ):
            found.append((n, (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)))
    return found


def main(argv: Sequence[str]) -> int:
    """``LEDGER``: print ``{"sha256": ..., "prefix": ..., "suspects": [[n, stat|null], ...]}``
    for the files under the prefix the ledger names; exit 1 for a ledger that is not one."""
    (ledger,) = argv
    with open(ledger, "rb") as f:
        raw = f.read()
    head, _, body = raw.partition(b"\n")
    header, data = json.loads(head), json.loads(body)
    prefix, count = header["prefix"], header["count"]
    paths, stats = data["paths"], data["stats"]
    if not isinstance(prefix, str) or len(paths) != count or len(stats) != 4 * count:
        return 1
    found = suspects(paths, stats, prefix)
    answer = {"sha256": hashlib.sha256(raw).hexdigest(), "prefix": prefix, "suspects": found}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
