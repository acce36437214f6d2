"""The five stages in order, the command line, and ``main``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback

from provisioner.target.smoke.decisions import (
    Device,
    choose_device,
    judge_placement,
    judge_speed,
    judge_training,
)
from provisioner.target.smoke.frameworks import DRIVERS
from provisioner.target.smoke.plumbing import Report, StageFailed, StderrTee, first_line
from provisioner.target.smoke.profile import (
    ACCELERATOR_LABEL,
    DEVICE,
    DRIVER,
    ENV_VARIABLES,
    FRAMEWORK,
    MIN_LOSS_DROP,
    PROFILE,
    REQUIRE_ACCELERATOR,
    STEPS,
)
from provisioner.target.smoke.workload import SCRIPT_START


def run_stages(args: argparse.Namespace, report: Report, tee: StderrTee) -> None:
    """Run the five stages in order; a failed stage that makes the rest meaningless stops."""
    data = report.data
    path = DRIVERS[DRIVER](tee)
    started = time.perf_counter()
    try:
        version, libs = path.import_framework()
    except Exception as exc:
        reason = "cannot import %s: %s" % (FRAMEWORK, first_line(exc))
        report.stage("import", "fail", reason, started)
        raise StageFailed() from None
    data["framework_version"] = version
    data["libraries"] = libs
    data["import_s"] = round(time.perf_counter() - SCRIPT_START, 4)
    extra = ", ".join("%s %s" % kv for kv in sorted(libs.items()))
    detail = "%s %s%s" % (FRAMEWORK, version, " (%s)" % extra if extra else "")
    report.stage("import", "pass", detail, started)

    started = time.perf_counter()
    requested = args.device
    chosen: Device | None = None
    if requested == "cpu":
        if args.require_accelerator:
            report.stage(
                "device",
                "fail",
                "device cpu was asked for but require_accelerator is true: "
                "set require_accelerator: false for a CPU run",
                started,
            )
            raise StageFailed()
        report.stage("device", "pass", "the CPU was asked for: no accelerator is used", started)
    else:
        label = ACCELERATOR_LABEL.get(requested, requested)
        try:
            devices = path.list_devices(requested)
        except Exception as exc:
            reason = "listing %s devices failed: %s" % (label, first_line(exc))
            report.stage("device", "fail", reason, started)
            raise StageFailed() from None
        data["adapters"] = path.adapters
        data["libraries"].update(path.device_libraries)
        chosen, warnings = choose_device(requested, devices, os.environ)
        for text in warnings:
            report.warn(text)
        if chosen is None:
            reason = "no %s device visible: %s" % (label, path.no_device_reason)
            if args.require_accelerator:
                report.stage("device", "fail", reason, started)
                raise StageFailed()
            report.warn("no accelerator was used: trained on the CPU (%s)" % reason)
            reason += "; require_accelerator is false, so training on the CPU"
            report.stage("device", "warn", reason, started)
        else:
            data["device_used"] = "%s:%d" % (requested, chosen["index"])
            data["device_name"] = chosen["name"]
            data["accelerator_used"] = True
            detail = "training on %s (%s), %d visible" % (
                data["device_used"],
                chosen["name"],
                len(devices),
            )
            report.stage("device", "warn" if warnings else "pass", detail, started)
    if chosen is None:
        data["device_used"] = "cpu"
        data["device_name"] = platform.processor() or platform.machine()

    started = time.perf_counter()
    try:
        path.round_trip(chosen)
    except Exception as exc:
        reason = "moving a tensor to the device failed: %s" % first_line(exc)
        report.stage("placement", "fail", reason, started)
        raise StageFailed() from None
    train_started = time.perf_counter()
    try:
        run = path.train(chosen, args.steps, chosen is not None)
    except Exception as exc:
        report.stage("training", "fail", "training failed: %s" % first_line(exc), train_started)
        raise StageFailed() from None
    status, detail, _cpu_ops = judge_placement(
        requested if chosen else None, run["placed"], run["fallback_ops"]
    )
    if run["fallback_ops"]:
        report.warn(
            "training is partly on the CPU: %s fell back from the DML backend"
            % ", ".join(run["fallback_ops"])
        )
    report.stage("placement", status, detail, started)

    status, detail, drop = judge_training(
        run["loss_first"], run["loss_last"], args.min_loss_drop, run["expected_first"]
    )
    data.update(
        loss_first=run["loss_first"],
        loss_last=run["loss_last"],
        loss_drop=drop,
        weight_error=round(run["weight_error"], 6),
        steps_per_s=round(run["steps_per_s"], 3),
        time_to_first_step_s=round(run["first_done"] - SCRIPT_START, 4),
    )
    detail += "; weights within %.2g of the answer" % run["weight_error"]
    report.stage("training", status, detail, train_started)

    started = time.perf_counter()
    cpu_rate = None
    if chosen is None:
        cpu_rate = run["steps_per_s"]
    elif args.cpu_baseline:
        try:
            cpu_rate = path.train(None, args.steps, False)["steps_per_s"]
        except Exception as exc:
            report.warn("the CPU baseline failed: %s" % first_line(exc))
    data["cpu_steps_per_s"] = round(cpu_rate, 3) if cpu_rate is not None else None
    status, detail, speedup, warnings = judge_speed(
        data["device_used"] if chosen else None,
        run["steps_per_s"],
        cpu_rate if chosen else None,
    )
    data["speedup"] = round(speedup, 3) if speedup is not None else None
    for text in warnings:
        report.warn(text)
    detail += "; first step after %.2f s" % data["time_to_first_step_s"]
    report.stage("speed", status, detail, started)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Training smoke test for profile %s." % PROFILE)
    parser.add_argument(
        "--steps", type=int, default=STEPS, help="training steps (default %(default)s)"
    )
    parser.add_argument(
        "--device",
        choices=("dml", "cuda", "cpu"),
        default=DEVICE,
        help="device to train on (default %(default)s)",
    )
    parser.add_argument(
        "--min-loss-drop", type=float, default=MIN_LOSS_DROP, help="required first/last loss ratio"
    )
    parser.add_argument("--json-out", metavar="FILE", help="write the JSON result here")
    parser.add_argument("--require-accelerator", dest="require_accelerator", action="store_true")
    parser.add_argument(
        "--no-require-accelerator", dest="require_accelerator", action="store_false"
    )
    parser.add_argument("--cpu-baseline", dest="cpu_baseline", action="store_true")
    parser.add_argument("--no-cpu-baseline", dest="cpu_baseline", action="store_false")
    parser.set_defaults(require_accelerator=REQUIRE_ACCELERATOR, cpu_baseline=True)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for key, value in ENV_VARIABLES.items():
        os.environ.setdefault(key, value)
    import warnings

    warnings.simplefilter("default", UserWarning)  # torch-directml CPU-fallback warnings
    tee = StderrTee(args.json_out + ".stderr" if args.json_out else None).start()
    report = Report(args)
    try:
        run_stages(args, report, tee)
    except StageFailed:
        pass
    except Exception as exc:  # a bug in this script: still leave a result behind
        traceback.print_exc()
        reason = "smoke_test.py error: %s" % first_line(exc)
        report.stage("internal", "fail", reason, time.perf_counter())
    finally:
        tee.stop()
    result = report.finish()
    result["duration_s"] = round(time.perf_counter() - SCRIPT_START, 4)
    for text in result["warnings"]:
        print("smoke: warning: %s" % text)
    print("smoke: %s: %s" % (result["verdict"].upper(), result["reason"]))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True)
            f.write("\n")
    sys.stdout.flush()
    return 0 if result["verdict"] == "pass" else 1
