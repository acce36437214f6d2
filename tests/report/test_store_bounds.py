"""How many report files a host keeps, whatever writes them and however
``$PROVISION_REPORT_HISTORY`` is set: the latest per environment plus at most N
stamped ones, provision's and the bootstrap scripts' together (docs/report.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.errors import ExitCode, ProvisionError
from provisioner.report.model import parse_report
from provisioner.report.store import history_of, history_size, stamp, write_report
from tests.report.report_data import report_json

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "size"),
    [("", 10), ("  ", 10), ("0", 0), ("3", 3), (" 7 ", 7), ("0010", 10), ("100000", 100000)],
)
def test_history_size_reads_a_whole_number(
    monkeypatch: pytest.MonkeyPatch, value: str, size: int
) -> None:
    monkeypatch.setenv("PROVISION_REPORT_HISTORY", value)
    assert history_size() == size


@pytest.mark.parametrize("value", ["-1", "+3", "3.5", "1e3", "ten", "\u00b2", "\u0663", "3 4"])
def test_anything_else_is_one_line_exit_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PROVISION_REPORT_HISTORY", value)
    with pytest.raises(ProvisionError) as e:
        history_size()
    assert e.value.exit_code == ExitCode.INVALID
    assert e.value.lines() == [
        f"error: PROVISION_REPORT_HISTORY={value.strip()!r} is not a number of reports "
        "(fix: set it to 0 or more (default 10), or unset it)"
    ]


def test_stamps_sort_by_time_as_text() -> None:
    from datetime import datetime, timedelta, timezone

    t = datetime(2026, 11, 29, 9, 59, 59, 999999, tzinfo=timezone.utc)
    later = [t + timedelta(microseconds=n) for n in (0, 1, 10**6, 86_400 * 10**6)]
    stamps = [stamp(x) for x in later]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps[0] == "20261129T095959999999Z"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("keep", [0, 1, 4])
def test_provision_and_bootstrap_reports_share_one_bound(tmp_path: Path, keep: int) -> None:
    history = tmp_path / "history"
    history.mkdir()
    for i in range(6):  # what the bootstrap scripts left: second-resolution stamps
        (history / f"cpu-2026010{i}T000000Z-bootstrap.json").write_text("{}")
    report = parse_report(report_json("h", env="cpu"))
    write_report(report, tmp_path, keep=keep)
    kept = history_of(history, "cpu")
    assert len(kept) == keep
    if keep:
        assert kept[-1].name.endswith("Z.json") and "bootstrap" not in kept[-1].name  # newest
    assert names(tmp_path) == ["cpu.json", "history"]


def test_files_that_only_look_like_history_are_never_pruned(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    keepers = [
        "cpu-notes.json",
        "cpu-20260101T000000Z.json.bak",
        "cpu-20260101T000000Z-Bootstrap.json",  # upper case: not a writer's stamp
        "cpu-2026-01-01.json",
        "cpu-big-20260101T000000Z.json",  # another environment
        ".cpu-20260101T000000Z.json.tmp-123",
    ]
    for name in keepers:
        (history / name).write_text("{}")
    for _ in range(3):
        write_report(parse_report(report_json("h", env="cpu")), tmp_path, keep=1)
    left = names(history)
    assert set(keepers) <= set(left)
    assert len(set(left) - set(keepers)) == 1


def test_many_environments_each_keep_their_own_bound(tmp_path: Path) -> None:
    envs = [f"env-{i}" for i in range(5)] + ["env"]
    for _ in range(4):
        for env in envs:
            write_report(parse_report(report_json("h", env=env)), tmp_path, keep=2)
    for env in envs:
        assert len(history_of(tmp_path / "history", env)) == 2
    assert len(list((tmp_path / "history").iterdir())) == 2 * len(envs)
    latest = sorted(p.name for p in tmp_path.glob("*.json"))
    assert latest == sorted(f"{e}.json" for e in envs)


def test_the_latest_report_is_always_whole_and_the_newest(tmp_path: Path) -> None:
    first = parse_report(report_json("h", env="cpu", result="changed"))
    second = parse_report(report_json("h", env="cpu", result="converged"))
    write_report(first, tmp_path, keep=3)
    write_report(second, tmp_path, keep=3)
    latest = parse_report(json.loads((tmp_path / "cpu.json").read_text()))
    assert latest.result == "converged"
    newest = history_of(tmp_path / "history", "cpu")[-1]
    assert parse_report(json.loads(newest.read_text())).result == "converged"


WRITER = """
import sys
from pathlib import Path
from provisioner.report.model import parse_report
from provisioner.report.store import write_report
sys.path.insert(0, sys.argv[2])
from tests.report.report_data import report_json
report = parse_report(report_json("h", env="cpu"))
for _ in range(int(sys.argv[3])):
    write_report(report, Path(sys.argv[1]), keep=3)
"""


def test_concurrent_writers_stay_within_the_bound(tmp_path: Path) -> None:
    """Two hosts' jobs (or a verify during an apply) writing the same folder."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-c", WRITER, str(tmp_path), str(REPO), "40"]
    procs = [subprocess.Popen(args, env=env, cwd=REPO) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert len(history_of(tmp_path / "history", "cpu")) == 3
    assert parse_report(json.loads((tmp_path / "cpu.json").read_text())).environment.name == "cpu"
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert leftovers == []
