"""Report files do not pile up: the latest per environment plus a bounded history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.errors import ProvisionError
from provisioner.report.model import parse_report
from provisioner.report.store import history_of, history_size, write_report
from tests.report.report_data import report_json


def names(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_repeated_writes_keep_the_latest_and_the_last_n(tmp_path: Path) -> None:
    report = parse_report(report_json("h", env="cpu"))
    for _ in range(25):
        latest = write_report(report, tmp_path, keep=3)
    assert latest == tmp_path / "cpu.json"
    assert parse_report(json.loads(latest.read_text())) == report
    files = names(tmp_path)
    assert len(files) == 4 and "cpu.json" in files
    assert len(history_of(tmp_path / "history", "cpu")) == 3


def test_other_environments_and_prefix_names_are_not_pruned(tmp_path: Path) -> None:
    for env in ("cpu", "cpu-big"):
        for _ in range(4):
            write_report(parse_report(report_json("h", env=env)), tmp_path, keep=2)
    assert len(history_of(tmp_path / "history", "cpu")) == 2
    assert len(history_of(tmp_path / "history", "cpu-big")) == 2
    assert {"cpu.json", "cpu-big.json"} <= set(names(tmp_path))


def test_reports_an_older_provision_left_join_the_history(tmp_path: Path) -> None:
    for i in range(5):  # the old layout: one stamped file per run, never deleted
        (tmp_path / f"cpu-2026010{i}T000000123456Z.json").write_text("{}")
    (tmp_path / "cpu-notes.json").write_text("{}")  # not a stamped report: left alone
    write_report(parse_report(report_json("h", env="cpu")), tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["cpu-notes.json", "cpu.json"]
    kept = history_of(tmp_path / "history", "cpu")
    assert len(kept) == 2 and kept[0].name == "cpu-20260104T000000123456Z.json"


def test_history_zero_keeps_only_the_latest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_REPORT_HISTORY", "0")
    for _ in range(3):
        write_report(parse_report(report_json("h", env="cpu")), tmp_path)
    assert names(tmp_path) == ["cpu.json"]


def test_history_size_must_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROVISION_REPORT_HISTORY", raising=False)
    assert history_size() == 10
    monkeypatch.setenv("PROVISION_REPORT_HISTORY", "ten")
    with pytest.raises(ProvisionError, match="PROVISION_REPORT_HISTORY='ten' is not a number"):
        history_size()
