"""`provision doctor profiles/cpu.yaml` against `ansible localhost -m setup -c local`.

Ansible's setup module is the fact-gathering step users know; both gather host facts
from a cold start (our package byte-compiled first, as an installed wheel is). Both
run as fresh processes, interleaved in the same session, and their medians are
compared. Target: doctor at least 5x faster (ratio <= 0.2x).
Needs ansible-core: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._timing import report, time_call

REPO = Path(__file__).resolve().parent.parent
REPEAT = 7


def ansible_command() -> list[str] | None:
    exe = Path(sys.executable).parent / "ansible"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ansible")
    return [found] if found else None


def main() -> None:
    ansible = ansible_command()
    if importlib.util.find_spec("ansible") is None or ansible is None:
        print(
            "bench_doctor: skipped: ansible-core is not installed "
            "(install it with: pip install -e '.[bench]')",
            flush=True,
        )
        return
    profile = REPO / "profiles" / "cpu.yaml"
    compileall.compile_dir(REPO / "provisioner", quiet=1)  # as an installed wheel is
    ours_cmd = [sys.executable, "-m", "provisioner", "doctor", str(profile), "--json"]
    theirs_cmd = [*ansible, "localhost", "-m", "setup", "-c", "local"]
    env = {**os.environ, "ANSIBLE_LOCALHOST_WARNING": "False", "ANSIBLE_NOCOLOR": "1"}

    def once(argv: list[str]) -> float:
        return time_call(
            lambda: subprocess.run(argv, check=True, capture_output=True, cwd=REPO, env=env),
            repeat=1,
        )

    once(ours_cmd), once(theirs_cmd)  # warm the page cache; not counted
    ours, theirs = [], []
    for _ in range(REPEAT):
        ours.append(once(ours_cmd))
        theirs.append(once(theirs_cmd))
    mine, base = statistics.median(ours), statistics.median(theirs)
    report("doctor profiles/cpu.yaml", mine, base, "ansible setup", "<= 0.2x, i.e. >= 5x faster")
    print(f"doctor is {base / mine:.1f}x faster than ansible's fact gathering", flush=True)


if __name__ == "__main__":
    main()
