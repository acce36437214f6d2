"""Cold start of ``provision validate`` on every shipped profile, against its stack's floor.

The floor is a ``python -c`` that imports yaml and jinja2, defines one pydantic
model and validates one dict: what any tool on this stack pays before doing work.
Both run as fresh interpreters, interleaved in the same session (so load on the
machine hits both alike), and their medians are compared. Our package is
byte-compiled first, as an installed wheel is. Target: at most 1.5x the floor.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._timing import report, time_call

REPO = Path(__file__).resolve().parent.parent
FLOOR = (
    "import yaml, jinja2\n"
    "from pydantic import BaseModel\n"
    "class M(BaseModel):\n"
    "    a: int\n"
    "    b: str\n"
    "M.model_validate({'a': 1, 'b': 'x'})\n"
)
REPEAT = 11


def main() -> None:
    profiles = sorted(str(p) for p in (REPO / "profiles").glob("*.yaml")) + sorted(
        str(p) for p in (REPO / "profiles" / "examples").glob("*.yaml")
    )
    compileall.compile_dir(REPO / "provisioner", quiet=1)
    floor_cmd = [sys.executable, "-c", FLOOR]
    ours_cmd = [sys.executable, "-m", "provisioner", "validate", *profiles]

    def once(argv: list[str]) -> float:
        return time_call(
            lambda: subprocess.run(argv, check=True, capture_output=True, cwd=REPO), repeat=1
        )

    once(floor_cmd), once(ours_cmd)  # warm the page cache; not counted
    floor, ours = [], []
    for _ in range(REPEAT):
        floor.append(once(floor_cmd))
        ours.append(once(ours_cmd))
    report(
        f"validate cold start ({len(profiles)} profiles)",
        statistics.median(ours),
        statistics.median(floor),
        "python -c floor (yaml+jinja2+pydantic)",
        "<= 1.5x",
    )


if __name__ == "__main__":
    main()
