"""Timing helpers shared by every benchmark: medians of repeated runs, and a ratio line."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def time_call(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def time_command(argv: Sequence[str], repeat: int = 5, **kwargs: object) -> float:
    """Median wall time of a command (which must succeed)."""

    def once() -> None:
        subprocess.run(list(argv), check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]

    once()  # warm the page cache; not counted
    return time_call(once, repeat)


def report(name: str, ours: float, baseline: float, baseline_name: str, target: str) -> str:
    """One line: both times, their ratio, and the target it is judged against."""
    ratio = ours / baseline if baseline > 0 else float("inf")
    line = (
        f"{name}: ours {ours * 1000:.0f} ms, {baseline_name} {baseline * 1000:.0f} ms, "
        f"ratio {ratio:.2f}x (target {target})"
    )
    print(line, flush=True)
    return line
