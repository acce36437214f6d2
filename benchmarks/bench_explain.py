"""``match_log`` (what ``provision explain`` and the smoke diagnosis run) on a big log.

The log is every real capture in tests/data/logs, repeated with filler lines to about
8 MB. The floor is one case-insensitive regex scan of the same text for a single word
("error"): what any log tool pays to look at every line once. Both run in this
process, interleaved. Target: the whole catalogue costs at most 3x that one scan.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from benchmarks._timing import report, time_call
from provisioner.signatures import catalogue, match_log

REPO = Path(__file__).resolve().parent.parent
LOGS = REPO / "tests" / "data" / "logs"
REPEAT = 7
FILLER = "2024-01-01 00:00:00.000000: I tensorflow/core/step.cc:42] step 1000 loss 0.0192\n"


def big_log() -> str:
    captures = "".join(p.read_text("utf-8") + "\n" for p in sorted(LOGS.glob("*.txt")))
    block = captures + FILLER * 2000
    return block * max(1, 8_000_000 // len(block))


def main() -> None:
    log = big_log()
    catalogue()  # load the data once, as a running CLI has
    word = re.compile("error", re.IGNORECASE)
    match_log(log), word.findall(log)  # warm up; not counted
    ours, floor = [], []
    for _ in range(REPEAT):
        ours.append(time_call(lambda: match_log(log), repeat=1))
        floor.append(time_call(lambda: word.findall(log), repeat=1))
    report(
        f"explain on a {len(log) / 1e6:.1f} MB log ({len(catalogue())} signatures)",
        statistics.median(ours),
        statistics.median(floor),
        "one case-insensitive regex scan",
        "<= 3x",
    )


if __name__ == "__main__":
    main()
