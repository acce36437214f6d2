"""The drift check's stat scan in a child Python (apply/statscan.py, started by
drift.start_scan beside the host checks): it finds what the in-process check finds,
and its answer is used only for the very ledger the check reads."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from provisioner.apply import drift


def _row(prefix: Path, rel: str) -> drift.Row:
    path = prefix / rel
    st = os.lstat(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return drift.Row(
        rel, "pip:demo", rel, digest, (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    )


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, drift.Ledger]:
    """A prefix of five files and the ledger recorded for them."""
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    prefix = tmp_path / "env"
    (prefix / "pkg").mkdir(parents=True)
    names = [f"pkg/m{i}.py" for i in range(5)]
    for i, rel in enumerate(names):
        (prefix / rel).write_text(f"x = {i}\n")
    rows = [_row(prefix, rel) for rel in names]
    return prefix, drift.write_ledger("demo", str(prefix), "f" * 64, rows)


def scanned(prefix: Path) -> drift.Scan:
    scan = drift.start_scan("demo", prefix)
    assert scan is not None
    return scan


def test_an_untouched_environment_is_answered_by_the_scan(
    recorded: tuple[Path, drift.Ledger],
) -> None:
    prefix, _ = recorded
    scan = scanned(prefix)
    ledger = drift.read_ledger("demo")
    assert ledger is not None
    assert scan.suspects(ledger) == []  # the child's answer, for this very ledger
    found = drift.check(ledger, prefix, scan)
    assert (found.altered, found.checked, found.hashed) == ((), 5, 0)


def test_an_edit_a_deletion_and_a_replacement_are_found_through_the_scan(
    recorded: tuple[Path, drift.Ledger],
) -> None:
    prefix, _ = recorded
    (prefix / "pkg/m0.py").write_text("x = 'edited'\n")
    (prefix / "pkg/m1.py").unlink()
    (prefix / "pkg/m2.py").unlink()  # replaced: a new inode with other bytes
    (prefix / "pkg/m2.py").write_text("x = 'replaced'\n")
    (prefix / "pkg/m3.py").unlink()  # replaced by the same bytes: no drift, a new stat
    (prefix / "pkg/m3.py").write_text("x = 3\n")
    ledger = drift.read_ledger("demo")
    assert ledger is not None
    scan = scanned(prefix)
    assert [n for n, _ in scan.suspects(ledger) or []] == [0, 1, 2, 3]
    with_scan = drift.check(ledger, prefix, scan)
    assert sorted((a.path, a.problem) for a in with_scan.altered) == [
        ("pkg/m0.py", "changed"),
        ("pkg/m1.py", "missing"),
        ("pkg/m2.py", "changed"),
    ]
    assert [r.path for r in with_scan.refreshed] == ["pkg/m3.py"]
    assert with_scan == drift.check(ledger, prefix)  # as the in-process check finds


def test_a_ledger_written_after_the_scan_read_it_is_checked_in_process(
    recorded: tuple[Path, drift.Ledger],
) -> None:
    prefix, old = recorded
    scan = scanned(prefix)
    assert scan.answer is not None  # the child has read the ledger as it was
    (prefix / "pkg/m4.py").write_text("x = 'edited'\n")
    drift.write_ledger("demo", str(prefix), "e" * 64, old.rows)  # the same rows, rewritten
    ledger = drift.read_ledger("demo")
    assert ledger is not None
    assert scan.suspects(ledger) is None  # not the ledger it read: its answer is not used
    found = drift.check(ledger, prefix, scan)
    assert [(a.path, a.problem) for a in found.altered] == [("pkg/m4.py", "changed")]


def test_a_scan_nobody_asked_is_stopped(recorded: tuple[Path, drift.Ledger]) -> None:
    prefix, _ = recorded
    scan = scanned(prefix)
    scan.close()
    assert scan.running.proc.returncode is not None
