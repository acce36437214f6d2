"""Process plumbing: stderr capture, the JSON report, timing."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import threading
import time
from typing import Any, BinaryIO, Callable

from provisioner.target.smoke.decisions import Placement, clean_number
from provisioner.target.smoke.profile import FRAMEWORK, MIN_LOSS_DROP, PROFILE, TOOL_VERSION
from provisioner.target.smoke.workload import SCHEMA, STAGES


class StderrTee:
    """Send file descriptor 2 (C++ logs included) to a file, and copy it on to the real
    stderr from a pump thread, so adapter and placement logs can be read back.

    A file, not a pipe: when the process dies of a signal (a GPU abort) right after
    writing its error, the text is already on disk, where the runner reads it
    (``<json-out>.stderr``); a pipe's unread bytes would die with the process.
    """

    saved: int
    reader: BinaryIO
    stopping: threading.Event
    thread: threading.Thread

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.temporary = path is None
        self.active = False

    def start(self) -> StderrTee:
        try:
            sys.stderr.flush()
            if self.path is None:
                import tempfile

                fd, self.path = tempfile.mkstemp(prefix="smoke-stderr-", suffix=".log")
                os.close(fd)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            self.saved = os.dup(2)
            os.dup2(fd, 2)
            os.close(fd)
        except OSError:
            return self
        self.reader = open(self.path, "rb")  # noqa: SIM115  (closed by stop())
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._pump, name="stderr-tee")
        self.thread.daemon = True
        self.thread.start()
        self.active = True
        return self

    def _pump(self) -> None:
        while True:
            chunk = self.reader.read(65536)
            if chunk:
                with contextlib.suppress(OSError):
                    os.write(self.saved, chunk)
            elif self.stopping.is_set():
                return
            else:
                time.sleep(0.02)

    def text(self) -> str:
        if not self.active or self.path is None:
            return ""
        sys.stderr.flush()
        with open(self.path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if not self.active:
            return
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        self.stopping.set()
        self.thread.join(5)
        self.reader.close()
        self.active = False
        if self.temporary and self.path is not None:
            with contextlib.suppress(OSError):
                os.remove(self.path)


def dist_version(name: str) -> str | None:
    """Installed version of a distribution, or None (importlib.metadata is 3.8+)."""
    try:
        from importlib import metadata
    except ImportError:
        try:
            import pkg_resources

            return str(pkg_resources.get_distribution(name).version)
        except Exception:
            return None
    try:
        return metadata.version(name)
    except Exception:
        return None


class StageFailed(Exception):
    """A stage decided the run cannot go on; its message is the reason."""


class Report:
    """The JSON result, filled in stage by stage."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.data: dict[str, Any] = {
            "schema": SCHEMA,
            "tool_version": TOOL_VERSION,
            "profile": PROFILE,
            "framework": FRAMEWORK,
            "framework_version": None,
            "libraries": {},
            "python": platform.python_version(),
            "platform": platform.platform(),
            "device_requested": args.device,
            "device_used": None,
            "device_name": None,
            "accelerator_used": False,
            "require_accelerator": args.require_accelerator,
            "adapters": [],
            "steps": args.steps,
            "min_loss_drop": MIN_LOSS_DROP,
            "loss_first": None,
            "loss_last": None,
            "loss_drop": None,
            "weight_error": None,
            "steps_per_s": None,
            "cpu_steps_per_s": None,
            "speedup": None,
            "time_to_first_step_s": None,
            "import_s": None,
            "warnings": [],
            "stages": [],
            "verdict": "fail",
            "reason": "",
        }

    def stage(self, name: str, status: str, detail: str, started: float) -> None:
        self.data["stages"].append(
            {
                "name": name,
                "status": status,
                "detail": detail,
                "duration_s": round(time.perf_counter() - started, 4),
            }
        )
        line = "smoke: %-9s %-4s %s" % (name, status.upper(), detail)
        print(line)
        sys.stdout.flush()

    def warn(self, text: str) -> None:
        if text not in self.data["warnings"]:
            self.data["warnings"].append(text)

    def finish(self) -> dict[str, Any]:
        stages = self.data["stages"]
        done = {s["name"] for s in stages}
        failed = [s for s in stages if s["status"] == "fail"]
        for name in STAGES:
            if name not in done:
                stages.append(
                    {"name": name, "status": "skip", "detail": "not run", "duration_s": 0.0}
                )
        # In run order: a stage that never reported (placement, when training raised)
        # sits at its place, not after the later ones; "internal" goes last.
        stages.sort(key=lambda s: STAGES.index(s["name"]) if s["name"] in STAGES else len(STAGES))
        if failed:
            self.data["verdict"] = "fail"
            self.data["reason"] = "%s: %s" % (failed[0]["name"], failed[0]["detail"])
        else:
            self.data["verdict"] = "pass"
            if self.data["accelerator_used"]:
                self.data["reason"] = "trained on %s" % self.data["device_used"]
            else:
                self.data["reason"] = "trained on the CPU; no accelerator was used"
        for key in (
            "loss_first",
            "loss_last",
            "loss_drop",
            "steps_per_s",
            "cpu_steps_per_s",
            "speedup",
        ):
            self.data[key] = clean_number(self.data[key])
        return self.data


def timed_loop(
    step: Callable[[bool], float | None], sync: Callable[[], object], steps: int
) -> tuple[float | None, float | None, float, float, float]:
    """Run ``steps`` steps, synchronizing before each clock read.

    Returns (first loss, last loss, seconds of step 1, steps/s after step 1, clock at
    the end of step 1). Only the first and last steps fetch the loss, so the loop
    does not wait on the device between steps.
    """
    start = time.perf_counter()
    loss_first = step(True)
    sync()
    first_done = time.perf_counter()
    for _ in range(steps - 2):
        step(False)
    loss_last = step(True)
    sync()
    end = time.perf_counter()
    rate = (steps - 1) / (end - first_done) if end > first_done else float("inf")
    return loss_first, loss_last, first_done - start, rate, first_done


def training_run(
    timing: tuple[float | None, float | None, float, float, float],
    expected_first: float,
    weight_error: float,
    placed: list[Placement],
    fallback_ops: list[str],
) -> dict[str, Any]:
    """What a framework path's ``train`` returns: ``timed_loop``'s numbers, the known
    first loss, how far the weights ended from the answer, and where the ops ran."""
    loss_first, loss_last, first_s, rate, first_done = timing
    return {
        "loss_first": loss_first,
        "loss_last": loss_last,
        "expected_first": expected_first,
        "first_step_s": first_s,
        "steps_per_s": rate,
        "first_done": first_done,
        "weight_error": weight_error,
        "placed": placed,
        "fallback_ops": fallback_ops,
    }


def first_line(exc: BaseException) -> str:
    text = ("%s: %s" % (type(exc).__name__, exc)).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if len(lines) > 1 and lines[0].endswith(":") else " ".join(lines)[:500]
