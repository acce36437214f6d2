"""``provision report`` over files a fleet run may hand it: damaged, old, huge, not
files at all. Each gives one line (the path and a cause) and exit 2; none may hang,
exhaust memory or end in exit 3. And which problem a host row shows, and which of a
host's reports wins, follow docs/report.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner.cli import main
from provisioner.report.model import parse_report
from provisioner.report.reader import (
    MAX_BYTES,
    Loaded,
    Unreadable,
    latest_rows,
    load,
    problem_of,
    read_reports,
)
from tests.report.report_data import report_json, write

REPO = Path(__file__).resolve().parents[2]
GOOD = report_json("lab-01")


def _text(text: str) -> Callable[[Path], object]:
    return lambda p: p.write_text(text, encoding="utf-8")


def _doc(data: Any) -> Callable[[Path], object]:
    return lambda p: p.write_text(json.dumps(data), encoding="utf-8")


def _bytes(data: bytes) -> Callable[[Path], object]:
    return lambda p: p.write_bytes(data)


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (_text(""), "not valid JSON: Expecting value (line 1, column 1)"),
        (_text("  \n\t\n"), "not valid JSON: Expecting value"),
        (_text("null"), "not a valid report: not a JSON object"),
        (_text('"provision-report/2"'), "not a valid report: not a JSON object"),
        (_doc([GOOD, GOOD]), "not a valid report: not a JSON object"),
        (_doc({**GOOD, "schema": 2}), "not a valid report: not a provision report"),
        (
            _doc({**GOOD, "schema": "provision-report/2", "schema_version": 0}),
            "not a valid report: schema_version",
        ),
        (_doc({**GOOD, "schema_version": "two"}), "not a valid report: schema_version:"),
        (_doc({**GOOD, "mode": "destroy"}), "not a valid report: mode:"),
        (_doc({**GOOD, "result": None}), "not a valid report: result:"),
        (_doc({k: v for k, v in GOOD.items() if k != "host"}), "not a valid report: host:"),
        (_doc({**GOOD, "environment": "cpu"}), "not a valid report: environment:"),
        (_doc({**GOOD, "verify": {"passed": "maybe"}}), "not a valid report: verify.passed:"),
        (_doc({**GOOD, "packages": {"value": 1, "Count": 1}}), "not a valid report: packages:"),
        (_text(json.dumps(GOOD)[:-1] + ', "exit_code": NaN}'), "not a valid report: exit_code:"),
        (_text(json.dumps(GOOD)[:-1] + ', "exit_code": 1e999}'), "not a valid report: exit_code"),
        # Python refuses to read an integer of more than 4,300 digits.
        (_text(json.dumps(GOOD)[:-1] + ', "x": ' + "9" * 5000 + "}"), "not valid JSON: "),
        (_text("[" * 200_000), "not valid JSON: nested too deeply"),
        (_text('{"a":' * 100_000 + "1" + "}" * 100_000), "not valid JSON: nested too deeply"),
        (_bytes(json.dumps(GOOD).encode("utf-16")), "not valid JSON: "),
        (_bytes(b"\x1f\x8b\x08\x00 gzip bytes"), "not valid JSON: "),
    ],
)
def test_a_file_that_is_not_a_report_is_one_line_with_its_cause(
    tmp_path: Path, make: Callable[[Path], object], cause: str
) -> None:
    path = tmp_path / "host.json"
    make(path)
    got = load(path)
    assert isinstance(got, Unreadable), got
    assert got.line().startswith(f"{path}: {cause}")
    assert "\n" not in got.line()


@pytest.mark.parametrize(
    ("make", "host"),
    [
        (_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode()), "lab-01"),  # PowerShell's BOM
        (_doc({**GOOD, "unknown_future_field": {"x": [1, 2]}}), "lab-01"),
        (_doc({**GOOD, "schema_version": "2"}), "lab-01"),
        (_doc({**GOOD, "host": {"name": "\u5b9f\u9a13-01", "hostname": "x"}}), "\u5b9f\u9a13-01"),
    ],
)
def test_tolerated_variations_still_read(
    tmp_path: Path, make: Callable[[Path], object], host: str
) -> None:
    path = tmp_path / "host.json"
    make(path)
    got = load(path)
    assert isinstance(got, Loaded), got
    assert got.report.host.name == host


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:  # sparse: costs no disk and no time
        f.truncate(MAX_BYTES + 1)
    got = load(path)
    assert isinstance(got, Unreadable)
    assert got.cause == (
        f"the file is larger than {MAX_BYTES // 2**20} MiB ({MAX_BYTES + 1} bytes), more than "
        "any report: not a report"
    )


def run_report(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``provision report`` in a child (bounded: a read that blocks would hang a test)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "report", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/null"])
def test_a_device_or_pipe_named_as_a_report_is_refused_not_read(tmp_path: Path, kind: str) -> None:
    """A named pipe would block the read forever and /dev/zero would fill memory."""
    if kind == "fifo":
        path = tmp_path / "report.json"
        os.mkfifo(path)
    else:
        path = Path(kind)
    done = run_report(str(path))
    assert done.returncode == 2, done.stderr
    expected = f"provision: error: {path}: not a regular file ("
    assert done.stderr.strip().startswith(expected) and done.stderr.count("\n") == 1


def test_a_folder_reads_only_its_regular_json_files(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    write(folder, "lab-01.json", report_json("lab-01"))
    write(folder, ".partial.json", report_json("half-written"))
    write(folder, "notes.txt", {"not": "json"})
    (folder / "sub.json").mkdir()
    os.mkfifo(folder / "pipe.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "dangling.json").symlink_to(folder / "gone.json")
    (folder / "alias.json").symlink_to(folder / "lab-01.json")
    loaded, bad = read_reports([folder])
    assert sorted(x.path.name for x in loaded) == ["alias.json", "lab-01.json"]
    assert bad == []


def test_the_cli_prints_each_bad_file_and_still_shows_the_good_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "good.json", report_json("lab-01"))
    (tmp_path / "long-number.json").write_text(json.dumps(GOOD)[:-1] + ', "n": ' + "7" * 6000 + "}")
    (tmp_path / "empty.json").write_text("")
    assert main(["report", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "lab-01" in out
    assert err.count("provision: error: ") == 2
    assert f"{tmp_path / 'long-number.json'}: not valid JSON: " in err


def test_no_reports_at_all_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "bad.json", {"schema": "nope"})
    assert main(["report", "--json", str(tmp_path)]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["profiles"] == []
    assert doc["unreadable"] == [
        {
            "path": str(tmp_path / "bad.json"),
            "cause": "not a valid report: not a provision report (no 'schema: provision-report/N')",
        }
    ]


# -- which problem a row shows ------------------------------------------------------

CHECK = ("nvidia.driver", "driver 470 is older than 525", "install driver 535")
FINDING = {
    "id": "cuda.no-kernel-image",
    "severity": "fail",
    "meaning": "no kernel for this GPU",
    "fix": "install a build for sm_89",
}


def smoke(verdict: str, reason: str, diagnosis: list[dict[str, str]]) -> dict[str, Any]:
    return {"verdict": verdict, "reason": reason, "diagnosis": diagnosis}


def _failed_step(data: dict[str, Any]) -> dict[str, Any]:
    steps = [*data["steps"], {"name": "environment", "status": "fail", "reason": "disk full"}]
    return {**data, "verify": None, "steps": steps, "result": "failed", "exit_code": 1}


def _unknown_checks(data: dict[str, Any]) -> dict[str, Any]:
    checks = {
        "ready": False,
        "checks": [{"id": "gpu.visible", "status": "unknown", "summary": "no nvidia-smi"}],
    }
    return {**data, "checks": checks, "result": "not-ready", "exit_code": 1, "verify": None}


@pytest.mark.parametrize(
    ("data", "problem", "fix"),
    [
        (report_json("h"), None, None),
        (report_json("h", failing_check=CHECK), f"{CHECK[0]}: {CHECK[1]}", CHECK[2]),
        (
            report_json("h", passed=False, smoke=smoke("fail", "cpu only", [FINDING])),
            "cuda.no-kernel-image: no kernel for this GPU",
            "install a build for sm_89",
        ),
        (
            report_json("h", passed=False, smoke=smoke("fail", "loss did not fall", [])),
            "loss did not fall",
            None,
        ),
        (_failed_step(report_json("h")), "environment: disk full", None),
        (_unknown_checks(report_json("h")), "gpu.visible: no nvidia-smi", None),
        (
            {**report_json("h"), "mode": "plan", "result": "planned", "verify": None},
            "only a plan: nothing was applied or verified",
            None,
        ),
        (
            {**report_json("h"), "exit_code": 3, "result": "failed"},
            "failed (exit 3) without a passed verification",
            None,
        ),
    ],
)
def test_the_problem_a_row_shows(
    data: dict[str, Any], problem: str | None, fix: str | None
) -> None:
    got, got_fix, details = problem_of(parse_report(data))
    assert (got, got_fix) == (problem, fix)
    assert all("\n" not in line for line in details)


def loaded(name: str, data: dict[str, Any]) -> Loaded:
    return Loaded(Path(name), parse_report(data))


def test_the_newest_report_of_a_host_and_environment_wins_and_undated_ones_lose() -> None:
    rows = latest_rows(
        [
            loaded("new.json", report_json("lab-01", finished_at="2026-11-29T11:00:00Z")),
            loaded("old.json", report_json("lab-01", finished_at="2026-11-29T09:00:00Z")),
            loaded("bad-date.json", report_json("lab-01", finished_at="yesterday")),
            loaded("other-env.json", report_json("lab-01", env="cpu", profile="cpu")),
            loaded("b.json", report_json("lab-00", finished_at="2026-11-28T00:00:00Z")),
        ]
    )
    assert list(rows) == ["cpu", "cuda-torch"]
    assert [(r.host, r.path.name) for r in rows["cuda-torch"]] == [
        ("lab-00", "b.json"),
        ("lab-01", "new.json"),
    ]
    assert [r.environment for r in rows["cpu"]] == ["cpu"]
