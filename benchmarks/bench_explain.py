"""``provision explain`` on big logs.

1. A 120 MB training log, generated here (step lines, progress bars redrawn with CR,
   the warnings a real run prints now and then, one real failure at the end): the
   whole CLI (``python -m provisioner explain LOG``, start-up included) against
   ``grep -F -f`` of 40 of explain's own fixed-string anchors over the same file,
   both run in this process's loop, interleaved. Target: at most 10x. Also prints
   explain's peak memory (it streams 8 MB chunks; the log is never held whole).
2. Every real capture (tests/data/logs, tests/data/corpus) repeated with filler to
   about 8 MB, matched in-process, against one case-insensitive regex scan of the same
   text for a single word ("error"). Target: at most 3x.
"""

from __future__ import annotations

import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._timing import report, time_call
from provisioner.diagnosis import _anchors, families, match_log
from provisioner.signatures import catalogue

REPO = Path(__file__).resolve().parent.parent
LOGS = REPO / "tests" / "data" / "logs"
CORPUS = REPO / "tests" / "data" / "corpus" / "logs"
REPEAT = 5
BIG = 120_000_000
FILLER = "2024-01-01 00:00:00.000000: I tensorflow/core/step.cc:42] step 1000 loss 0.0192\n"


def training_log(path: Path, size: int = BIG) -> None:
    """A training run's log of ``size`` bytes: mostly step and progress lines."""
    rnd = random.Random(7)
    lines = []
    for i in range(20000):
        k = i % 4
        if k == 0:
            lines.append(
                f"2025-03-01 12:{i % 60:02d}:{i % 60:02d}.{i:06d}: I tensorflow/core/"
                f"common_runtime/step_stats.cc:88] step {i} loss {rnd.random():.4f} "
                f"accuracy {rnd.random():.4f} lr 0.0003\n"
            )
        elif k == 1:
            lines.append(
                f"Epoch {i % 90}/90: {i % 100:3d}%|####      | {i % 938}/938 "
                f"[00:{i % 60:02d}<00:41, 22.4it/s, loss={rnd.random():.4f}]\r"
            )
        elif k == 2:
            lines.append(
                f"[train] epoch={i % 90} iter={i} loss={rnd.random():.5f} "
                f"grad_norm={rnd.random() * 3:.3f} throughput={rnd.random() * 900:.1f} samples/s "
                f"gpu_mem={rnd.random() * 20:.2f}GiB\n"
            )
        else:
            lines.append(
                f"  checkpoint: saved step {i} to /data/run-42/ckpt-{i}.pt in 0.{i % 9}s\n"
            )
    lines[5000] = (
        "/usr/lib/python3/dist-packages/torch/utils/data/dataloader.py:557: UserWarning: This "
        "DataLoader will create 16 worker processes in total.\n"
    )
    lines[9000] = (
        "2025-03-01 12:00:01.000000: I tensorflow/compiler/xla/stream_executor/cuda/"
        "cuda_gpu_executor.cc:981] could not open file to read NUMA node: "
        "/sys/bus/pci/devices/0000:01:00.0/numa_node\n"
    )
    block = "".join(lines).encode()
    with path.open("wb") as fh:
        written = 0
        while written + len(block) <= size:
            fh.write(block)
            written += len(block)
        fh.write(block[: size - written - 200])
        fh.write(
            b"\ntorch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. "
            b"GPU 0 has a total capacity of 23.64 GiB\n"
        )


def fixed_strings(count: int = 40) -> list[str]:
    """``count`` of the literal anchors explain itself searches for (the longest ones)."""
    anchors = sorted(set(_anchors(catalogue(), families())), key=lambda a: (-len(a), a))
    return [a for a in anchors if "\n" not in a][:count]


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_training_log() -> None:
    grep = shutil.which("grep")
    if grep is None:
        print("explain on a 120 MB training log: skipped (no grep on PATH)")
        return
    with tempfile.TemporaryDirectory(prefix="provision-bench-") as tmp:
        log = Path(tmp) / "train.log"
        training_log(log)
        patterns = Path(tmp) / "fixed.txt"
        patterns.write_text("\n".join(fixed_strings()) + "\n", "utf-8")
        explain = [sys.executable, "-m", "provisioner", "explain", str(log)]
        grep_argv = [grep, "-F", "-f", str(patterns), str(log)]
        _timed(grep_argv), _timed(explain)  # warm the page cache and imports; not counted
        ours, floor = [], []
        for _ in range(REPEAT):
            ours.append(_timed(explain))
            floor.append(_timed(grep_argv))
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        report(
            f"explain on a {log.stat().st_size / 1e6:.0f} MB training log (whole CLI)",
            statistics.median(ours),
            statistics.median(floor),
            "grep -F -f (40 fixed strings)",
            "<= 10x",
        )
        print(f"  peak memory of the largest child (explain or grep): {peak_kib / 1024:.0f} MiB")


def capture_log() -> str:
    files = sorted(LOGS.glob("*.txt")) + sorted(CORPUS.glob("*.txt"))
    captures = "".join(p.read_text("utf-8") + "\n" for p in files)
    block = captures + FILLER * 2000
    return block * max(1, 8_000_000 // len(block))


def bench_captures() -> None:
    log = capture_log()
    catalogue()  # load the data once, as a running CLI has
    word = re.compile("error", re.IGNORECASE)
    match_log(log), word.findall(log)  # warm up; not counted
    ours, floor = [], []
    for _ in range(REPEAT):
        ours.append(time_call(lambda: match_log(log), repeat=1))
        floor.append(time_call(lambda: word.findall(log), repeat=1))
    report(
        f"explain on a {len(log) / 1e6:.1f} MB log of real captures "
        f"({len(catalogue())} signatures + families)",
        statistics.median(ours),
        statistics.median(floor),
        "one case-insensitive regex scan",
        "<= 3x",
    )


def main() -> None:
    bench_training_log()
    bench_captures()


if __name__ == "__main__":
    main()
