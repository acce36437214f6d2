"""The one temp-then-rename writer: the old bytes or the new ones, never a mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.atomic import replacing, write_atomic


def test_write_replaces_the_file_with_its_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.sh"
    write_atomic(target, "one\n")
    write_atomic(target, "two\n", mode=0o755, durable=True)
    assert target.read_text() == "two\n"
    assert target.stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.sh"]


def test_a_failed_write_keeps_the_old_bytes_and_removes_the_temp(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("power cut")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
