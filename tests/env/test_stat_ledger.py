"""The ledger of stats taken when files were hashed: merges, forgets, survives junk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.env.stat_ledger import StatLedger


def test_a_saved_record_is_read_back_by_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    first = StatLedger(path)
    first.record("a", {"stat": "1"})
    first.save()
    assert StatLedger(path).get("a") == {"stat": "1"}


def test_two_runs_saving_keep_each_others_records(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    one, two = StatLedger(path), StatLedger(path)
    one.record("a", "stat-a")
    two.record("b", "stat-b")
    one.save()
    two.save()  # read before `one` saved: must not drop "a"
    merged = StatLedger(path)
    assert (merged.get("a"), merged.get("b")) == ("stat-a", "stat-b")


def test_a_forget_survives_a_concurrent_save_that_did_not_touch_the_key(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    seed = StatLedger(path)
    seed.record("a", "old")
    seed.save()
    dropper, other = StatLedger(path), StatLedger(path)
    dropper.forget("a")
    other.record("b", "stat-b")
    dropper.save()
    other.save()
    after = StatLedger(path)
    assert after.get("a") is None and after.get("b") == "stat-b"


@pytest.mark.parametrize("junk", [b"", b"{", b"[1, 2]", b"\xff\xfe", b'"text"', b"null"])
def test_a_damaged_ledger_trusts_nothing_and_is_replaced(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "ledger.json"
    path.write_bytes(junk)
    ledger = StatLedger(path)
    assert ledger.get("a") is None
    ledger.record("a", "stat-a")
    ledger.save()
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": "stat-a"}


def test_save_without_changes_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    StatLedger(path).save()
    assert not path.exists()


def test_an_unwritable_ledger_is_only_a_lost_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    ledger = StatLedger(blocker / "ledger.json")
    ledger.record("a", "stat-a")
    ledger.save()  # no exception: the next run hashes again
    assert StatLedger(blocker / "ledger.json").get("a") is None
