"""``provision verify`` on the cpu environment (torch CPU venv): the file check (every
installed file hashed against its ``RECORD``) plus the smoke test, against the smoke
test alone, in the same run. Reported, with no target of its own: the file check is
what a verify adds to the training run it always did.

Interleaved REPEAT times; the fastest run of each counts (a shared machine's other
runs measure the neighbours).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks._timing import report
from benchmarks.bench_smoke import PROFILE, REPO, torch_venv

REPEAT = 3


def main() -> None:
    from provisioner.env.installed_files import files_at
    from provisioner.profile import load_profile
    from provisioner.smoke import run_smoke

    python = torch_venv()
    prefix = python.parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(PROFILE)
        resolved = load_profile(path)
        files_at(prefix, python, "venv")  # warm the page cache, as a verify after apply finds it
        checks, smokes, checked = [], [], 0
        for _ in range(REPEAT):
            start = time.perf_counter()
            checked, altered = files_at(prefix, python, "venv")
            checks.append(time.perf_counter() - start)
            assert not altered, altered[:5]
            start = time.perf_counter()
            assert run_smoke(resolved, python).passed
            smokes.append(time.perf_counter() - start)
    check, smoke = min(checks), min(smokes)
    print(f"file check: {checked} files in {check:.2f} s; smoke test {smoke:.2f} s", flush=True)
    report(
        "provision verify (file check + smoke test)",
        check + smoke,
        smoke,
        "smoke test alone",
        "reported",
    )


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
