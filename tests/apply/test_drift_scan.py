"""The drift check's stat scan in a child Python (apply/statscan.py, started by
drift.start_scan beside the host checks, or by drift.start_early_scan from the hint of
the environment a profile converged last, before apply's imports): it finds what the
in-process check finds, and its answer is used only for the very ledger the check
reads, of the environment being applied."""

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
    scan = drift.start_scan("demo")  # under the prefix the ledger names
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


def test_a_ledger_the_scan_read_is_parsed_only_when_its_paths_are_needed(
    recorded: tuple[Path, drift.Ledger],
) -> None:
    prefix, _ = recorded
    scan = scanned(prefix)
    ledger = drift.read_ledger("demo", scan)
    assert ledger is not None and ledger.table is None  # the header only: the child parsed it
    assert drift.check(ledger, prefix, scan).checked == 5
    assert "_table" not in ledger.__dict__  # a clean check never parsed the body
    assert ledger.paths == tuple(f"pkg/m{i}.py" for i in range(5))  # on first use


def test_a_damaged_body_is_no_ledger_and_the_scan_does_not_answer(
    recorded: tuple[Path, drift.Ledger],
) -> None:
    prefix, _ = recorded
    path = drift.ledger_path("demo")
    header, body = path.read_bytes().split(b"\n", 1)
    path.write_bytes(header + b"\n" + body.replace(b'"paths":["pkg/m0.py",', b'"paths":['))
    scan = scanned(prefix)
    assert scan.answer is None  # four paths for five stats: it exits 1
    assert drift.read_ledger("demo", scan) is None  # so the check hashes every file again


def test_an_early_scan_of_another_environment_is_never_used(
    recorded: tuple[Path, drift.Ledger], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale hint (the profile now names another environment) starts a scan of the
    old one: its answer is never used for this environment's ledger."""
    prefix, ledger = recorded
    profile = tmp_path / "p.yaml"
    drift.keep_hint(profile, "demo")
    assert drift.read_hint(profile) == "demo"
    # Whether a core is free is this machine's load average at this moment: taken as free.
    monkeypatch.setattr(drift, "idle_core", lambda: True)
    early = drift.start_early_scan(profile)
    assert early is not None and early.env == "demo"
    drift.write_ledger("other", str(prefix), "e" * 64, ledger.rows)
    other = drift.read_ledger("other", early)
    assert other is not None and early.suspects(other) is None
    assert other.table is not None  # not the bytes the scan read: parsed here
    early.close()


def test_a_hint_that_is_not_an_environment_name_is_ignored(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    drift.keep_hint(profile, "demo")
    drift.hint_path(profile).write_text("../../etc/passwd\n")
    assert drift.read_hint(profile) is None
    assert drift.start_early_scan(profile) is None
