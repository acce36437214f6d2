"""Output paths are refused before any work, one line with the fix; the same walk up to
the nearest existing folder decides ``--junit``/``-o`` and the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.cli_arguments import check_output_file, check_output_folder, unusable_folder
from provisioner.errors import ExitCode, ProvisionError


def test_a_file_under_a_file_is_refused_with_its_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "text.txt"
    blocker.write_text("x")
    target = blocker / "deeper" / "r.xml"
    with pytest.raises(ProvisionError) as info:
        check_output_file(target, "--junit")
    assert info.value.message == f"--junit {target}: {blocker} is not a folder"
    assert info.value.hint == "choose another --junit path"
    assert info.value.exit_code == ExitCode.INVALID
    assert unusable_folder(target.parent) == f"{blocker} is not a folder"


def test_a_folder_that_can_be_made_is_accepted(tmp_path: Path) -> None:
    check_output_file(tmp_path / "new" / "deeper" / "r.xml", "--junit")
    check_output_folder(tmp_path / "out" / "sub", "-o")
    assert unusable_folder(tmp_path / "new" / "deeper") is None
