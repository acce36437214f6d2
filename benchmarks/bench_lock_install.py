"""Lock + install of a conda profile vs a bare py-rattler solve + install of the same
specs on the same local channel, in the same run, for 40 and for 400 packages
(target: our overhead <= 1.2x).

Ours: ``lock_profile`` (rattler solve with the profile's virtual packages) and
``CondaBackend.install`` (every stored artifact hashed against the lock, rattler's
cache fully validated, then rattler links them, then conda-meta URLs restored) into a
fresh prefix. Baseline: ``rattler.solve`` +
``rattler.install`` into a fresh prefix. Caches are warm for both (first runs not
counted): this measures our overhead, not the disk.

It runs in a child process that leaves with ``os._exit`` (rattler can crash the
interpreter at exit), so ``python -m benchmarks`` carries on after it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._timing import report, time_call

REPO = Path(__file__).resolve().parent.parent
# package count -> repeats (the best of them is reported)
CASES = {40: 11, 400: 9}


def _channel_specs(packages: int) -> list[object]:
    from tests.channels import PackageSpec

    specs: list[object] = []
    for i in range(packages):
        deps = (f"pkg{i + 1:03d}",) if i + 1 < packages else ()
        files = {f"share/pkg{i:03d}/data{j}.txt": f"{i}-{j}\n" * 2000 for j in range(10)}
        subdir = "linux-64" if i % 2 else "noarch"
        specs.append(PackageSpec(f"pkg{i:03d}", "1.0", "0", subdir, deps, files))
    return specs


def child(packages: int) -> None:
    import rattler
    import yaml

    from provisioner.env.conda import CondaBackend
    from provisioner.lock.conda import virtual_packages
    from provisioner.lock.lockfile import lock_profile
    from provisioner.profile import load_profile
    from tests.channels import build_channel

    work = Path(tempfile.mkdtemp(prefix="bench-lock-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    os.environ["RATTLER_CACHE_DIR"] = str(work / "rattler")
    channel = build_channel(work / "chan", _channel_specs(packages))  # type: ignore[arg-type]
    repeat = CASES[packages]
    profile = work / "bench.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "name": "bench",
                "target": {"os": "linux"},
                "environment": {
                    "name": "bench",
                    "channels": [channel.as_uri()],
                    "python": "3.11",
                    "conda": ["pkg000"],
                },
                "smoke_test": {
                    "framework": "pytorch",
                    "device": "cpu",
                    "require_accelerator": False,
                },
            }
        )
    )
    resolved = load_profile(profile)
    counter = iter(range(10_000))

    def ours() -> None:
        prefix = work / f"ours-{next(counter)}"
        lock = lock_profile(resolved)
        CondaBackend().install(prefix, lock, "linux-64", quiet=True)
        shutil.rmtree(prefix)

    def bare() -> None:
        prefix = work / f"bare-{next(counter)}"

        async def run() -> None:
            records = await rattler.solve(
                [channel.as_uri()],
                ["pkg000"],
                platforms=["linux-64", "noarch"],
                virtual_packages=virtual_packages(resolved, "linux-64"),
                gateway=rattler.Gateway(cache_dir=work / "rattler"),
            )
            await rattler.install(
                records, prefix, cache_dir=work / "rattler" / "pkgs", show_progress=False
            )

        asyncio.run(run())
        shutil.rmtree(prefix)

    ours()
    bare()  # warm both caches
    # Interleaved, so a busy machine slows both sides alike. The best of REPEAT runs is
    # reported (the least disturbed one; medians are printed too).
    samples: dict[str, list[float]] = {"ours": [], "bare": []}
    for _ in range(repeat):
        samples["bare"].append(time_call(bare, 1))
        samples["ours"].append(time_call(ours, 1))
    t_bare, t_ours = min(samples["bare"]), min(samples["ours"])
    med_bare, med_ours = statistics.median(samples["bare"]), statistics.median(samples["ours"])
    print(f"  medians: ours {med_ours * 1000:.0f} ms, bare {med_bare * 1000:.0f} ms", flush=True)
    report(
        f"lock+install ({packages} conda packages, local channel, best of {repeat})",
        t_ours,
        t_bare,
        "bare py-rattler solve+install",
        "<= 1.2x",
    )
    shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0)


def main() -> None:
    for packages in CASES:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_lock_install", "--child", str(packages)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        print(proc.stdout, end="", flush=True)
        if proc.returncode != 0:
            print(f"bench_lock_install failed ({proc.returncode}): {proc.stderr[-2000:]}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(int(sys.argv[sys.argv.index("--child") + 1]))
    else:
        main()
